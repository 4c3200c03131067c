//! The scheduled side of LinkedIn: a sweep that enqueues the syncs that are
//! due (through the shared due-rows sweep, and the shared expiry warning),
//! and the sync job itself.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};

use super::sync::{sync_user, Trigger};
use crate::{
    context::AppContext,
    domain::connections::{sweep_due, warn_expiring, DueRows},
    error::AppError,
    jobs::{Job, JobError, JobHandler, KindSettings, NewJob, Registry, Schedule},
    providers::linkedin::PROVIDER,
    store::linkedin_profiles,
};

/// Enqueues due syncs.
pub const SWEEP: &str = "sweep.linkedin_sync";
/// Syncs one user.
pub const SYNC: &str = "linkedin.sync";

/// Payload of [`SYNC`].
#[derive(Debug, Serialize, Deserialize)]
pub struct SyncPayload {
    pub user_id: String,
}

/// The unique key of a user's pending sync.
pub fn sync_key(user_id: &str) -> String {
    format!("{SYNC}:{user_id}")
}

/// Registers the LinkedIn kinds.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    let lease = ctx.config.jobs.lease();
    registry.register(
        SWEEP,
        KindSettings {
            concurrency: 1,
            lease,
            ..KindSettings::default()
        },
        Sweep(ctx.clone()),
    );
    registry.register(
        SYNC,
        KindSettings {
            concurrency: ctx.config.linkedin.linkedin_sync_concurrency.max(1),
            lease,
            provider: Some(PROVIDER.to_owned()),
            max_attempts: Some(5),
            ..KindSettings::default()
        },
        SyncJob(ctx),
    );
}

/// The LinkedIn schedule.
pub fn schedules(ctx: &AppContext) -> Vec<Schedule> {
    vec![Schedule {
        name: SWEEP.to_owned(),
        cron: ctx.config.linkedin.cron_linkedin_sync.clone(),
        job: NewJob::new(SWEEP, serde_json::json!({})).max_attempts(3),
    }]
}

/// The profiles whose sync is due.
struct DueProfiles;

#[async_trait::async_trait]
impl DueRows for DueProfiles {
    type Key = String;

    async fn due(
        &self,
        ctx: &AppContext,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<String>, AppError> {
        Ok(linkedin_profiles::due(&ctx.db, now, limit)
            .await?
            .into_iter()
            .map(|(user, _)| user)
            .collect())
    }

    fn job(&self, user: &String) -> NewJob {
        NewJob::new(
            SYNC,
            SyncPayload {
                user_id: user.clone(),
            },
        )
        .unique(sync_key(user))
        .for_user(user.clone())
    }

    async fn postpone(
        &self,
        txn: &DatabaseTransaction,
        users: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        Ok(linkedin_profiles::postpone(txn, users, now + chrono::Duration::hours(1)).await?)
    }
}

/// Enqueues every due sync (in batches) and postpones their schedule, both in
/// one transaction; warns owners whose token expires soon and cannot be
/// refreshed. Returns how many syncs were enqueued.
pub async fn sweep(ctx: &AppContext) -> Result<u64, AppError> {
    if !ctx.config.linkedin.enable_linkedin_integration {
        return Ok(0);
    }
    let enqueued = sweep_due(ctx, &DueProfiles, ctx.config.linkedin.linkedin_sync_batch).await?;
    warn_expiring(ctx).await?;
    Ok(enqueued)
}

struct Sweep(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for Sweep {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let enqueued = sweep(&self.0)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        tracing::info!(enqueued, "linkedin sync sweep");
        Ok(())
    }
}

struct SyncJob(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for SyncJob {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: SyncPayload = job.payload()?;
        // disconnected, reconnect needed, or the flag is off: settled (recorded,
        // nothing to retry); rate-limited or circuit open: delayed, no attempt spent
        sync_user(&self.0, &payload.user_id, Trigger::Scheduled)
            .await
            .map(|_| ())
            .map_err(JobError::from)
    }
}
