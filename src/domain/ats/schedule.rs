//! Scheduled syncs: a sweep (on `CRON_ATS_SYNC`) enqueues a sync job for
//! every integration whose `next_sync_at` passed, through the shared
//! due-rows sweep, and moves its schedule one interval on (with up to a
//! tenth of it added at random, so integrations spread out). A scheduled
//! sync that finds one running (a manual one, another process's) is done.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;

use super::{integrations::next_sync, sync};
use crate::{
    context::AppContext,
    domain::connections::{sweep_due, DueRows},
    error::{AppError, Result},
    jobs::{Job, JobError, JobHandler, KindSettings, NewJob, Registry, Schedule},
    store::ats_integrations as store,
    vocab::SyncTrigger,
};

/// The sweep's job kind.
pub const SWEEP: &str = "ats.sync_sweep";
/// One scheduled sync's job kind.
pub const SYNC: &str = "ats.sync";

#[derive(serde::Serialize, serde::Deserialize)]
struct SyncPayload {
    integration_id: String,
}

/// The sweep's schedule.
pub fn schedules(ctx: &AppContext) -> Vec<Schedule> {
    vec![Schedule {
        name: SWEEP.to_owned(),
        cron: ctx.config.ats.cron_ats_sync.clone(),
        job: NewJob::new(SWEEP, serde_json::json!({})).max_attempts(3),
    }]
}

struct Due;

#[async_trait::async_trait]
impl DueRows for Due {
    type Key = (String, String, i32);

    async fn due(
        &self,
        ctx: &AppContext,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Self::Key>> {
        Ok(store::due_for_sync(&ctx.db, now, limit)
            .await?
            .into_iter()
            .map(|r| (r.id, r.organization_id, r.sync_interval_minutes))
            .collect())
    }

    fn job(&self, (id, org, _): &Self::Key) -> NewJob {
        NewJob::new(
            SYNC,
            SyncPayload {
                integration_id: id.clone(),
            },
        )
        .unique(format!("ats.sync:{id}"))
        .for_organization(org.clone())
        .max_attempts(3)
    }

    async fn postpone(
        &self,
        txn: &DatabaseTransaction,
        keys: &[Self::Key],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (id, _, minutes) in keys {
            let next = next_sync(now, u32::try_from(*minutes).unwrap_or(0));
            store::set_next_sync(txn, id, next).await?;
        }
        Ok(())
    }
}

/// Enqueues the due syncs; answers how many.
pub async fn sweep(ctx: &AppContext) -> Result<u64> {
    if !ctx.config.ats.enable_ats_integration {
        return Ok(0);
    }
    sweep_due(ctx, &Due, 100).await
}

/// Registers the sweep and the sync job kinds.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    registry.register(SWEEP, KindSettings::default(), Sweeper(ctx.clone()));
    registry.register(
        SYNC,
        KindSettings {
            concurrency: 2,
            // a sync of 100,000 jobs takes a while; its run row has its own lease
            lease: std::time::Duration::from_secs(600),
            ..KindSettings::default()
        },
        Syncer(ctx),
    );
}

struct Sweeper(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for Sweeper {
    async fn run(&self, _job: &Job) -> std::result::Result<(), JobError> {
        let enqueued = sweep(&self.0).await.map_err(JobError::from)?;
        tracing::info!(enqueued, "ats sync sweep");
        Ok(())
    }
}

struct Syncer(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for Syncer {
    async fn run(&self, job: &Job) -> std::result::Result<(), JobError> {
        let payload: SyncPayload = job.payload()?;
        let Some(integration) = sync::integration(&self.0, &payload.integration_id)
            .await
            .map_err(JobError::from)?
        else {
            return Ok(());
        };
        match sync::run(&self.0, &integration, SyncTrigger::Scheduled, None).await {
            // a failed run is recorded on its row and resumes next time
            Ok(_) => Ok(()),
            // one is running already, or job sync is off: nothing to add
            Err(AppError::Aborted(_) | AppError::FailedPrecondition(_)) => Ok(()),
            Err(err) => Err(JobError::from(err)),
        }
    }
}
