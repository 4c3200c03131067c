//! The built-in periodic work, above the engine: refreshing tokens that
//! expire soon, pruning, and re-sealing secrets after a key rotation. The
//! engine (`jobs/`) only runs and schedules them; the integrations add their
//! sweeps (LinkedIn sync due, reminders due, ATS sync and polling) the same way.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

use crate::{
    config::Config,
    context::AppContext,
    error::AppError,
    jobs::{enqueue, Job, JobError, JobHandler, KindSettings, NewJob, Registry, Schedule},
    oauth::{OAuthEndpoints, OAuthError, RefreshWhen},
    store::{credentials, jobs as job_store, oauth_states, rate_windows},
};

/// Finds connections whose tokens expire soon and enqueues their refresh.
pub const TOKEN_REFRESH_SWEEP: &str = "sweep.token_refresh";
/// Refreshes one connection's tokens.
pub const TOKEN_REFRESH: &str = "token.refresh";
/// Deletes old completed jobs, ticks and expired OAuth states.
pub const PRUNE: &str = "sweep.prune";
/// Re-seals secrets with the primary key.
pub const REWRAP: &str = "sweep.rewrap";

/// Connections examined per sweep run.
const SWEEP_BATCH: u64 = 5_000;
/// Completed jobs deleted per statement.
const PRUNE_BATCH: u64 = 5_000;

/// Payload of [`TOKEN_REFRESH`].
#[derive(Debug, Serialize, Deserialize)]
pub struct RefreshPayload {
    /// The connection to refresh.
    pub connection_id: String,
}

/// Registers the built-in kinds.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    let settings = KindSettings {
        concurrency: 1,
        lease: ctx.config.jobs.lease(),
        ..KindSettings::default()
    };
    registry.register(
        TOKEN_REFRESH_SWEEP,
        settings.clone(),
        RefreshSweep(ctx.clone()),
    );
    registry.register(
        TOKEN_REFRESH,
        KindSettings {
            concurrency: ctx.config.jobs.job_concurrency,
            base_backoff: Duration::from_secs(10),
            max_attempts: Some(6),
            ..settings.clone()
        },
        RefreshOne(ctx.clone()),
    );
    registry.register(PRUNE, settings.clone(), Prune(ctx.clone()));
    registry.register(REWRAP, settings, Rewrap(ctx));
}

/// The built-in schedules, from the configuration.
pub fn schedules(config: &Config) -> Vec<Schedule> {
    let jobs = &config.jobs;
    vec![
        Schedule {
            name: TOKEN_REFRESH_SWEEP.to_owned(),
            cron: jobs.cron_token_refresh.clone(),
            job: NewJob::new(TOKEN_REFRESH_SWEEP, serde_json::json!({})).max_attempts(3),
        },
        Schedule {
            name: PRUNE.to_owned(),
            cron: jobs.cron_prune.clone(),
            job: NewJob::new(PRUNE, serde_json::json!({})).max_attempts(3),
        },
        Schedule {
            name: REWRAP.to_owned(),
            cron: jobs.cron_rewrap.clone(),
            job: NewJob::new(REWRAP, serde_json::json!({})).max_attempts(3),
        },
    ]
}

struct RefreshSweep(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for RefreshSweep {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let window = chrono::Duration::minutes(
            i64::try_from(self.0.config.jobs.token_refresh_window_mins).unwrap_or(15),
        );
        let rows =
            credentials::expiring_refreshable(&self.0.db, Utc::now() + window, SWEEP_BATCH).await?;
        let mut queued = 0;
        for row in rows {
            if OAuthEndpoints::for_provider(&self.0.config, row.provider).is_none() {
                // its provider's OAuth client has not landed: nothing can renew it yet
                continue;
            }
            let mut job = NewJob::new(
                TOKEN_REFRESH,
                RefreshPayload {
                    connection_id: row.id.clone(),
                },
            )
            .unique(crate::domain::connections::refresh_job_key(&row.id))
            .for_user(row.user_id.clone());
            if let Some(org) = &row.organization_id {
                job = job.for_organization(org.clone());
            }
            if enqueue(&self.0.db, job).await?.is_some() {
                queued += 1;
            }
        }
        // and the owners of connections that cannot renew hear it once
        let warned = crate::domain::connections::warn_expiring(&self.0)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        tracing::info!(queued, warned, "token refresh sweep");
        Ok(())
    }
}

struct RefreshOne(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for RefreshOne {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: RefreshPayload = job.payload()?;
        let Some(row) = credentials::find(&self.0.db, &payload.connection_id).await? else {
            return Ok(()); // disconnected meanwhile
        };
        let provider = row.provider;
        let Some(endpoints) = OAuthEndpoints::for_provider(&self.0.config, provider) else {
            return Err(JobError::Fatal(format!("{provider} has no oauth refresh")));
        };
        let window = chrono::Duration::minutes(
            i64::try_from(self.0.config.jobs.token_refresh_window_mins).unwrap_or(15),
        );
        match self
            .0
            .oauth
            .refresh(&endpoints, &row.id, RefreshWhen::ExpiringWithin(window))
            .await
        {
            Ok(_) => Ok(()),
            // recorded on the connection and in the activity log: the owner must reconnect
            Err(err) if err.needs_reauth() => {
                crate::domain::connections::token::reauth_notice(&self.0, &row).await;
                Ok(())
            }
            Err(OAuthError::UnknownConnection) => Ok(()),
            Err(err) => Err(AppError::from(err).into()),
        }
    }
}

struct Prune(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for Prune {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let retention = chrono::Duration::hours(
            i64::try_from(self.0.config.jobs.job_retention_hours).unwrap_or(72),
        );
        let cutoff = Utc::now() - retention;
        let jobs_deleted = prune_jobs(&self.0.db, cutoff).await?;
        let ticks = job_store::prune_ticks(&self.0.db, cutoff).await?;
        let states = oauth_states::prune_expired(&self.0.db).await?;
        // no throttle window lasts a day
        let windows =
            rate_windows::prune(&self.0.db, Utc::now() - chrono::Duration::days(1)).await?;
        tracing::info!(
            jobs = jobs_deleted,
            ticks,
            oauth_states = states,
            rate_windows = windows,
            "pruned"
        );
        Ok(())
    }
}

/// Deletes every completed job finished before `cutoff`, in batches so no
/// statement holds its locks for long; returns how many it deleted. The
/// [`PRUNE`] sweep's job pruning, public so `bench jobs` measures the same code.
pub async fn prune_jobs(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut deleted = 0;
    loop {
        let n = job_store::prune_completed(db, cutoff, PRUNE_BATCH).await?;
        deleted += n;
        if n < PRUNE_BATCH {
            return Ok(deleted);
        }
        tokio::task::yield_now().await;
    }
}

struct Rewrap(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for Rewrap {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let moved = self.0.oauth.rewrap_all().await.map_err(AppError::from)?;
        if moved > 0 {
            tracing::info!(rows = moved, "re-sealed secrets with the primary key");
        }
        Ok(())
    }
}
