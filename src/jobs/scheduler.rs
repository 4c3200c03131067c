//! When periodic work is due: tokio-cron-scheduler fires each schedule in
//! every replica; the first replica to record the tick in `scheduler_ticks`
//! enqueues its job, in the same transaction, so a tick is enqueued once
//! however many replicas fire.

use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};

use super::queue::{enqueue, NewJob};
use crate::store::jobs as store;

/// A periodic job: its name, its cron expression (with seconds), and the job
/// it enqueues.
#[derive(Clone)]
pub struct Schedule {
    /// Stable name, used in the tick ledger and the job's unique key.
    pub name: String,
    /// Six-field cron expression: `sec min hour day month weekday`.
    pub cron: String,
    /// The job each tick enqueues.
    pub job: NewJob,
}

/// The running scheduler.
pub struct SchedulerHandle {
    scheduler: JobScheduler,
}

impl SchedulerHandle {
    /// Stops firing.
    pub async fn shutdown(mut self) {
        if let Err(err) = self.scheduler.shutdown().await {
            tracing::warn!(error = %err, "scheduler shutdown failed");
        }
    }
}

/// The tick a firing belongs to: the nearest whole second, so replicas that
/// fire a few milliseconds apart agree.
pub fn tick_of(fired_at: DateTime<Utc>) -> DateTime<Utc> {
    (fired_at + chrono::Duration::milliseconds(500))
        .duration_trunc(chrono::Duration::seconds(1))
        .unwrap_or(fired_at)
}

/// Records the tick and, if this caller was first, enqueues the job; returns
/// the job id when it did.
pub async fn fire(
    db: &DatabaseConnection,
    schedule: &Schedule,
    tick: DateTime<Utc>,
) -> Result<Option<i64>, sea_orm::DbErr> {
    let txn = db.begin().await?;
    if !store::claim_tick(&txn, &schedule.name, tick).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    let job = schedule
        .job
        .clone()
        .unique(format!("{}@{}", schedule.name, tick.to_rfc3339()))
        .run_at(tick);
    let id = enqueue(&txn, job).await?;
    txn.commit().await?;
    Ok(id)
}

/// Starts firing every schedule; invalid cron expressions fail start-up.
pub async fn start_scheduler(
    db: DatabaseConnection,
    schedules: Vec<Schedule>,
) -> anyhow::Result<SchedulerHandle> {
    let scheduler = JobScheduler::new().await?;
    for schedule in schedules {
        let db = db.clone();
        let cron = schedule.cron.clone();
        let name = schedule.name.clone();
        let job = CronJob::new_async(cron.as_str(), move |_, _| {
            let db = db.clone();
            let schedule = schedule.clone();
            Box::pin(async move {
                let tick = tick_of(Utc::now());
                for attempt in 0..3u32 {
                    match fire(&db, &schedule, tick).await {
                        Ok(Some(id)) => {
                            tracing::debug!(schedule = %schedule.name, job = id, "tick enqueued");
                            return;
                        }
                        Ok(None) => return,
                        Err(err) => {
                            tracing::warn!(schedule = %schedule.name, error = %err, "tick failed");
                            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt)))
                                .await;
                        }
                    }
                }
            })
        })
        .map_err(|err| anyhow::anyhow!("invalid cron expression {cron:?} for {name}: {err}"))?;
        scheduler.add(job).await?;
    }
    scheduler.start().await?;
    Ok(SchedulerHandle { scheduler })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_firings_share_a_tick() {
        let base = DateTime::parse_from_rfc3339("2026-11-24T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for offset_ms in [-400, -3, 0, 2, 150, 499] {
            let fired = base + chrono::Duration::milliseconds(offset_ms);
            assert_eq!(tick_of(fired), base, "{offset_ms} ms");
        }
        assert_ne!(tick_of(base + chrono::Duration::milliseconds(600)), base);
    }
}
