//! A throw-away PostgreSQL database for one benchmark run, and its seed data.

use anyhow::Context;
use chrono::{Duration, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use sea_orm::ConnectionTrait;
use secrecy::SecretString;

use crate::{
    domain::types::Provider,
    oauth::{ConnectionOwner, OAuthCore, TokenSet},
    store,
};

/// A database created for this run on the server of an admin URL.
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

impl BenchDatabase {
    /// Creates `bench_<random>` on the server `admin_url` points at.
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("bench_{}", &suffix[..12]);
        let mut url = url::Url::parse(admin_url).context("invalid postgres url")?;
        url.set_path(&format!("/{name}"));
        let admin = store::connect(admin_url, 1)
            .await
            .context("cannot connect to postgres")?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        admin.close().await?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    /// Name of the database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, closing whatever connections are left.
    pub async fn drop_database(self) -> anyhow::Result<()> {
        let admin = store::connect(&self.admin_url, 1).await?;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .with_context(|| format!("cannot drop database {}", self.name))?;
        admin.close().await?;
        Ok(())
    }
}

/// Who the benchmark calls as.
pub struct Caller {
    /// The user id (`sub`).
    pub user_id: String,
    /// The organization the user administers.
    pub org_id: String,
}

/// Rows the caller's status shows: one LinkedIn, two calendars, one ATS.
pub const CALLER_ROWS: usize = 4;

/// Stores the caller's connections, plus `others` users with connections of
/// their own so the query runs against a table that is not just the caller's.
/// Tokens are sealed by the OAuth core, as in production.
pub async fn seed(oauth: &OAuthCore, caller: &Caller, others: usize) -> anyhow::Result<()> {
    seed_owner(oauth, &caller.user_id, &caller.org_id).await?;
    stream::iter(0..others)
        .map(|i| async move {
            seed_owner(oauth, &format!("bench-user-{i}"), &format!("bench-org-{i}")).await
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn seed_owner(oauth: &OAuthCore, user_id: &str, org_id: &str) -> anyhow::Result<()> {
    let user = ConnectionOwner::User {
        user_id: user_id.to_owned(),
    };
    let org = ConnectionOwner::Organization {
        org_id: org_id.to_owned(),
        user_id: user_id.to_owned(),
    };
    for (provider, owner) in [
        (Provider::LinkedIn, &user),
        (Provider::Google, &user),
        (Provider::Microsoft, &user),
        (Provider::Greenhouse, &org),
    ] {
        oauth
            .save_connection(provider, owner, Some("bench-account"), &tokens(), &[])
            .await
            .with_context(|| format!("cannot seed a {provider} connection"))?;
    }
    Ok(())
}

fn tokens() -> TokenSet {
    let now = Utc::now();
    TokenSet {
        access_token: SecretString::from(format!("bench-access-{}", uuid::Uuid::new_v4())),
        refresh_token: Some(SecretString::from(format!(
            "bench-refresh-{}",
            uuid::Uuid::new_v4()
        ))),
        expires_at: Some(now + Duration::hours(1)),
        refresh_expires_at: Some(now + Duration::days(60)),
        scopes: Some(vec!["bench".to_owned()]),
    }
}
