//! The scheduled side of LinkedIn: a sweep that enqueues the syncs that are
//! due (and tells users whose token expires soon), and the sync job itself.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};

use super::sync::{sync_user, Trigger};
use crate::{
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        status::EXPIRING_WINDOW,
        types::{ActivityStatus, Provider},
    },
    error::AppError,
    jobs::{enqueue_many, Job, JobError, JobHandler, KindSettings, NewJob, Registry, Schedule},
    providers::linkedin::PROVIDER,
    store::{credentials, linkedin_profiles},
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

/// Enqueues every due sync (in batches) and postpones their schedule, both in
/// one transaction; warns users whose token expires soon. Returns how many
/// syncs were enqueued.
pub async fn sweep(ctx: &AppContext) -> Result<u64, AppError> {
    if !ctx.config.linkedin.enable_linkedin_integration {
        return Ok(0);
    }
    let batch = ctx.config.linkedin.linkedin_sync_batch.max(1);
    let mut enqueued = 0;
    loop {
        let now = Utc::now();
        let due = linkedin_profiles::due(&ctx.db, now, batch).await?;
        if due.is_empty() {
            break;
        }
        let users: Vec<String> = due.iter().map(|(user, _)| user.clone()).collect();
        let jobs = users
            .iter()
            .map(|user| {
                NewJob::new(
                    SYNC,
                    SyncPayload {
                        user_id: user.clone(),
                    },
                )
                .unique(sync_key(user))
                .for_user(user.clone())
            })
            .collect();
        let txn = ctx.db.begin().await?;
        enqueued += enqueue_many(&txn, jobs).await?;
        // the job sets the real next time; this keeps the next sweep off them
        linkedin_profiles::postpone(&txn, &users, now + chrono::Duration::hours(1)).await?;
        txn.commit().await?;
        if (due.len() as u64) < batch {
            break;
        }
    }
    warn_expiring(ctx).await?;
    Ok(enqueued)
}

/// Tells each user once that their LinkedIn token expires within a week and
/// cannot be refreshed (an activity row; notifications arrive with the
/// calendar issue).
async fn warn_expiring(ctx: &AppContext) -> Result<(), AppError> {
    let now = Utc::now();
    let expiring =
        credentials::expiring_unrefreshable(&ctx.db, PROVIDER, now + EXPIRING_WINDOW, 5_000)
            .await?;
    if expiring.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = expiring.iter().map(|c| c.id.clone()).collect();
    for row in linkedin_profiles::not_warned(&ctx.db, &ids).await? {
        let Some(connection) = expiring.iter().find(|c| c.id == row.connection_id) else {
            continue;
        };
        let expired = connection.token_expires_at.is_some_and(|t| t <= now);
        let txn = ctx.db.begin().await?;
        record(
            &txn,
            ActivityEvent {
                provider: Provider::LinkedIn,
                activity: if expired {
                    "token.expired"
                } else {
                    "token.expiring"
                },
                status: ActivityStatus::Pending,
                duration: std::time::Duration::ZERO,
                message: if expired {
                    "linkedin access expired: reconnect to keep syncing".to_owned()
                } else {
                    format!(
                        "linkedin access expires on {}: reconnect before then to keep syncing",
                        connection
                            .token_expires_at
                            .map(|t| t.date_naive().to_string())
                            .unwrap_or_default()
                    )
                },
                user_id: Some(&row.user_id),
                organization_id: None,
                connection_id: Some(&row.connection_id),
            },
        )
        .await?;
        linkedin_profiles::update(
            &txn,
            &row.user_id,
            linkedin_profiles::ProfileChange {
                expiry_notified_at: sea_orm::ActiveValue::Set(Some(now)),
                ..Default::default()
            },
        )
        .await?;
        txn.commit().await?;
    }
    Ok(())
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
