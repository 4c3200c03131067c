//! The lag of due jobs on a large table: due no-op jobs are enqueued at a
//! steady rate and run by a worker pool while the prune sweep deletes the
//! table's old completed rows; each handler records how late it started.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use tokio::{sync::Semaphore, task::JoinSet};

use super::{
    jobs::{scalar_i64, wait_drained, JobsArgs, KIND},
    jobs_report::{LagRun, Lags},
};
use crate::jobs::{
    enqueue, Job, JobError, JobHandler, KindSettings, NewJob, Registry, WorkerConfig, WorkerPool,
};

/// What a lag job carries: when it became due, in microseconds.
#[derive(Serialize, Deserialize)]
struct DueAt {
    at: i64,
}

/// (due time, lag in ms) of every job run, shared with the handler.
type Samples = Arc<Mutex<Vec<(DateTime<Utc>, f64)>>>;

/// Records the lag of every job it runs.
struct Recorder {
    ran: Arc<AtomicU64>,
    samples: Samples,
}

#[async_trait::async_trait]
impl JobHandler for Recorder {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let now = Utc::now();
        let due: DueAt = job.payload()?;
        let at = DateTime::<Utc>::from_timestamp_micros(due.at)
            .ok_or_else(|| JobError::Fatal("bad due time".to_owned()))?;
        let lag_ms = (now - at).num_microseconds().unwrap_or(0) as f64 / 1000.0;
        self.samples.lock().push((at, lag_ms));
        self.ran.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Seeds the table with `rows` rows and measures the lag before and during
/// the prune of completed rows older than `retention`.
pub async fn measure(
    db: &DatabaseConnection,
    args: &JobsArgs,
    retention: chrono::Duration,
) -> anyhow::Result<LagRun> {
    eprintln!("bench: lag: seeding {} rows", args.table_rows);
    let seeded = Instant::now();
    seed(db, args.table_rows, retention).await?;
    let seed_secs = seeded.elapsed().as_secs_f64();
    let prunable = scalar_i64(
        db,
        &format!(
            "SELECT count(*) FROM jobs WHERE state = 'completed' AND completed_at < now() - interval '{} seconds'",
            retention.num_seconds()
        ),
    )
    .await?;

    let ran = Arc::new(AtomicU64::new(0));
    let samples: Samples = Arc::default();
    let mut registry = Registry::new();
    registry.register(
        KIND,
        KindSettings {
            concurrency: args.concurrency.max(1),
            ..KindSettings::default()
        },
        Recorder {
            ran: ran.clone(),
            samples: samples.clone(),
        },
    );
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(args.lag_poll_ms.max(1)),
        claim_batch: args.claim_batch.max(1),
        stats_interval: None,
        ..WorkerConfig::default()
    };
    let pool = WorkerPool::start(db.clone(), &registry, config, None, None);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let inserts: Samples = Arc::default();
    let feeder = tokio::spawn(feed(
        db.clone(),
        args.lag_rate.max(1.0),
        stopped,
        inserts.clone(),
    ));

    eprintln!("bench: lag: {:.0} due jobs/s, no prune", args.lag_rate);
    tokio::time::sleep(Duration::from_secs_f64(args.lag_before.max(0.0))).await;
    eprintln!("bench: lag: pruning");
    let prune_start = Utc::now();
    let pruning = Instant::now();
    let pruned = crate::domain::sweeps::prune_jobs(db, Utc::now() - retention).await;
    let prune_secs = pruning.elapsed().as_secs_f64();
    let prune_end = Utc::now();
    let _ = stop.send(true);
    let enqueued = feeder.await.context("the feeder panicked")?;
    let drained = match &enqueued {
        Ok(n) => wait_drained(db, &ran, *n, Duration::from_secs(60)).await,
        Err(_) => Ok(()),
    };
    pool.shutdown().await;
    let (pruned, enqueued) = (pruned?, enqueued?);
    drained?;

    let phases = |samples: &Samples| {
        let samples = std::mem::take(&mut *samples.lock());
        let before = samples
            .iter()
            .filter(|(at, _)| *at < prune_start)
            .map(|(_, ms)| *ms);
        let during = samples
            .iter()
            .filter(|(at, _)| *at >= prune_start && *at <= prune_end)
            .map(|(_, ms)| *ms);
        (Lags::new(before.collect()), Lags::new(during.collect()))
    };
    let (before, during) = phases(&samples);
    let (enqueue_before, enqueue_during) = phases(&inserts);
    Ok(LagRun {
        table_rows: args.table_rows,
        seed_secs,
        prunable: u64::try_from(prunable).unwrap_or(0),
        pruned,
        prune_secs,
        enqueued,
        before,
        during,
        enqueue_before,
        enqueue_during,
    })
}

/// Fills the table in one statement: per hundred rows, one dead, one pending
/// but due tomorrow, three completed an hour ago (kept), and ninety-five
/// completed before the retention (pruned). A third are of the measured kind.
async fn seed(
    db: &DatabaseConnection,
    rows: u64,
    retention: chrono::Duration,
) -> anyhow::Result<()> {
    let old = retention.num_seconds() + 3600;
    db.execute_unprepared("TRUNCATE jobs").await?;
    db.execute_unprepared(&format!(
        "INSERT INTO jobs (kind, payload, state, priority, run_at, attempts, max_attempts, \
                           last_error, created_at, updated_at, completed_at) \
         SELECT CASE WHEN g % 3 = 0 THEN '{KIND}' ELSE 'bench.other' END, \
                jsonb_build_object('n', g), \
                CASE g % 100 WHEN 0 THEN 'dead' WHEN 1 THEN 'pending' ELSE 'completed' END, \
                0, \
                CASE g % 100 WHEN 1 THEN now() + interval '1 day' ELSE t END, \
                CASE g % 100 WHEN 1 THEN 0 WHEN 0 THEN 5 ELSE 1 END, \
                5, \
                CASE g % 100 WHEN 0 THEN 'bench: gave up' END, \
                t, t, \
                CASE WHEN g % 100 IN (0, 1) THEN NULL ELSE t END \
         FROM generate_series(1, {rows}) AS g, \
              LATERAL (SELECT CASE WHEN g % 100 IN (2, 3, 4) THEN now() - interval '1 hour' \
                                   ELSE now() - make_interval(secs => {old} + g % 86400) END AS t) AS at"
    ))
    .await
    .context("cannot seed the large table")?;
    // the steady state of a table that grew over days: statistics and a
    // visibility map (autovacuum), and its pages on disk, so the lag before
    // the prune is not the write-back of this bulk load (the first runs here
    // measured p99 132 ms without the checkpoint, 38 ms with it)
    db.execute_unprepared("VACUUM ANALYZE jobs").await?;
    db.execute_unprepared("CHECKPOINT").await?;
    Ok(())
}

/// Enqueues due jobs at `rate` per second until told to stop; each insert
/// runs on its own so a slow one does not hold back the pace, and records
/// how long it took (insert and commit) in `took`. Returns how many it
/// enqueued.
async fn feed(
    db: DatabaseConnection,
    rate: f64,
    mut stop: tokio::sync::watch::Receiver<bool>,
    took: Samples,
) -> anyhow::Result<u64> {
    let start = tokio::time::Instant::now();
    let in_flight = Arc::new(Semaphore::new(64));
    let mut inserts = JoinSet::new();
    let mut sent: u64 = 0;
    loop {
        let next = start + Duration::from_secs_f64(sent as f64 / rate);
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.changed() => break,
        }
        let permit = in_flight.clone().acquire_owned().await?;
        let db = db.clone();
        let took = took.clone();
        inserts.spawn(async move {
            let at = Utc::now();
            let job = NewJob::new(
                KIND,
                DueAt {
                    at: at.timestamp_micros(),
                },
            )
            .run_at(at);
            let inserted = enqueue(&db, job).await;
            let ms = (Utc::now() - at).num_microseconds().unwrap_or(0) as f64 / 1000.0;
            took.lock().push((at, ms));
            drop(permit);
            inserted
        });
        sent += 1;
        while let Some(done) = inserts.try_join_next() {
            done??;
        }
    }
    while let Some(done) = inserts.join_next().await {
        done??;
    }
    Ok(sent)
}
