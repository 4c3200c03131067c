//! Connecting: starting the flow, and LinkedIn's part of the shared callback
//! (fetch the profile the connection and the settings allow, store it with
//! the connection).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use super::{
    client,
    profile::{Capability, Profile, Section, SectionTimes},
    scopes,
    settings::{Frequency, Privacy},
    sync::privacy_of,
    PORTABILITY_SCOPE,
};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{
        connections::{self, ConnectFailure, Connecting, Connector, StartedAuth},
        types::Provider,
    },
    error::Result,
    oauth::ConnectionOwner,
    providers::profile::{FetchPlan, ProfileProvider},
    store::{
        credentials::Credential,
        linkedin_profiles::{self, ProfileChange},
    },
};

/// Starts connecting the caller's LinkedIn account.
pub async fn start_auth(ctx: &AppContext, caller: &Identity) -> Result<StartedAuth> {
    super::ensure_enabled(&ctx.config)?;
    let owner = ConnectionOwner::User {
        user_id: caller.user_id.clone(),
    };
    connections::start_auth(ctx, &owner, Provider::LinkedIn, &scopes(&ctx.config)).await
}

/// LinkedIn's part of the connection lifecycle: the profile fetched and
/// stored with the connection, and deleted with it.
pub struct LinkedInConnector;

#[async_trait::async_trait]
impl Connector for LinkedInConnector {
    fn denied_codes(&self) -> &'static [&'static str] {
        &[
            "user_cancelled_login",
            "user_cancelled_authorize",
            "access_denied",
        ]
    }

    async fn connect(&self, connecting: Connecting<'_>) -> std::result::Result<(), ConnectFailure> {
        store_connection(connecting).await
    }

    fn pending_jobs(&self, connection: &Credential) -> Vec<String> {
        vec![super::jobs::sync_key(&connection.user_id)]
    }

    async fn forget(
        &self,
        txn: &DatabaseTransaction,
        connection: &Credential,
    ) -> std::result::Result<(), sea_orm::DbErr> {
        linkedin_profiles::delete(txn, &connection.user_id).await?;
        Ok(())
    }
}

async fn store_connection(connecting: Connecting<'_>) -> std::result::Result<(), ConnectFailure> {
    let ctx = connecting.ctx;
    let user_id = connecting.flow.user_id.as_str();
    let requested = &connecting.flow.scopes;
    let tokens = &connecting.tokens;
    let granted: Vec<String> = tokens.scopes.clone().unwrap_or_else(|| requested.to_vec());
    let wants_portability = granted.iter().any(|s| s == PORTABILITY_SCOPE);
    // what to fetch follows the settings as they are now; what is stored
    // follows them as they are when it is stored (they may change meanwhile)
    let existing = linkedin_profiles::find(&ctx.db, user_id)
        .await
        .map_err(ConnectFailure::db)?;
    let privacy = existing.as_ref().map(privacy_of).unwrap_or_default();
    let plan = FetchPlan {
        portability: wants_portability,
        experience: privacy.experience,
        education: privacy.education,
        skills: privacy.skills,
    };
    let fetched = client(ctx)
        .fetch_profile(&tokens.access_token, plan)
        .await
        .map_err(|err| {
            let code = if err.is_retryable() {
                "provider_unavailable"
            } else {
                "provider_error"
            };
            ConnectFailure::new(code, format!("profile fetch failed: {err}"))
        })?;
    let capability = if wants_portability && !fetched.portability_refused {
        Capability::Portability
    } else {
        Capability::OpenIdConnect
    };
    let member_id = fetched.member_id.clone();
    let now = Utc::now();
    let db_error = ConnectFailure::db;
    let txn = connecting.begin().await?;
    // a first connect gets the default settings; a reconnect keeps the
    // user's, read under the row lock that UpdateLinkedInSettings takes too
    linkedin_profiles::insert_if_absent(&txn, new_row(user_id, now))
        .await
        .map_err(db_error)?;
    let row = linkedin_profiles::lock(&txn, user_id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ConnectFailure::new("internal_error", "database error"))?;
    let privacy = privacy_of(&row);
    let frequency = Frequency::parse(&row.frequency).unwrap_or(Frequency::Weekly);
    let profile = Profile::from_fetched(fetched, privacy, capability);
    let times: SectionTimes = Section::ALL
        .into_iter()
        .filter(|s| profile.has(*s))
        .map(|s| (s.as_str().to_owned(), now))
        .collect();
    let connection_id = connecting.save(&txn, Some(&member_id)).await?;
    linkedin_profiles::update(
        &txn,
        user_id,
        ProfileChange {
            connection_id: Set(connection_id.clone()),
            capability: Set(capability.as_str().to_owned()),
            basic: Set(json(&profile.basic)),
            experience: Set(profile.experience.as_ref().map(json)),
            education: Set(profile.education.as_ref().map(json)),
            skills: Set(profile.skills.as_ref().map(json)),
            sections_synced_at: Set(json(&times)),
            last_synced_at: Set(Some(now)),
            last_changed_at: Set(Some(now)),
            next_sync_at: Set(frequency.next_after(now)),
            last_manual_sync_at: Set(None),
            ..Default::default()
        },
    )
    .await
    .map_err(db_error)?;
    let sections: Vec<&str> = times.keys().map(String::as_str).collect();
    let message = format!(
        "connected ({}); synced: {}",
        capability.as_str(),
        sections.join(", ")
    );
    connecting.finish(txn, &connection_id, message).await
}

/// The row of a first connect: default settings, nothing synced yet.
fn new_row(user_id: &str, now: DateTime<Utc>) -> linkedin_profiles::ProfileRow {
    let privacy = Privacy::default();
    linkedin_profiles::ProfileRow {
        user_id: user_id.to_owned(),
        connection_id: String::new(),
        capability: Capability::OpenIdConnect.as_str().to_owned(),
        sync_picture: privacy.picture,
        sync_experience: privacy.experience,
        sync_education: privacy.education,
        sync_skills: privacy.skills,
        frequency: Frequency::Weekly.as_str().to_owned(),
        basic: json(&serde_json::Map::new()),
        experience: None,
        education: None,
        skills: None,
        sections_synced_at: json(&SectionTimes::new()),
        last_synced_at: None,
        last_changed_at: None,
        next_sync_at: None,
        last_manual_sync_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// A stored section as JSON.
pub(super) fn json<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
