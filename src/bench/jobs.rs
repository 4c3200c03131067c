//! `bench jobs`: the job engine's throughput against the bare claim and
//! complete queries it is built on, measured alternately in one run, then the
//! lag of due jobs while the prune sweep empties a large table ([`super::jobs_lag`]).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tokio::task::JoinSet;

use super::{
    admin_url,
    database::BenchDatabase,
    jobs_lag,
    jobs_report::{JobsReport, ThroughputRun},
};
use crate::{
    config::Config,
    jobs::{Job, JobError, JobHandler, KindSettings, Registry, WorkerConfig, WorkerPool},
    store::{self, jobs as job_store},
};

/// The kind every benchmark job has.
pub const KIND: &str = "bench.noop";

/// Settings of `bench jobs`.
#[derive(Clone, Debug, Args)]
pub struct JobsArgs {
    /// PostgreSQL server to create the throw-away `bench_*` database on
    /// (default: `DATABASE_URL` if it is postgres, else the local test server).
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// No-op jobs queued for each throughput run.
    #[arg(long, default_value_t = 50_000)]
    pub jobs: u64,
    /// Pooled database connections, the same for the baseline and the engine.
    #[arg(long, default_value_t = 16)]
    pub connections: u32,
    /// Jobs claimed per query, by the baseline and the engine.
    #[arg(long, default_value_t = 64)]
    pub claim_batch: u64,
    /// Concurrent claim-then-complete loops of the baseline.
    #[arg(long, default_value_t = 2)]
    pub baseline_loops: usize,
    /// Jobs the engine runs at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// The engine's wait between claims when the queue is empty, in ms.
    #[arg(long, default_value_t = 10)]
    pub poll_ms: u64,
    /// Rounds of alternating baseline and engine runs; the best of each counts.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Rows in the table during the lag run (0 skips it).
    #[arg(long, default_value_t = 1_000_000)]
    pub table_rows: u64,
    /// Due jobs enqueued per second during the lag run.
    #[arg(long, default_value_t = 500.0)]
    pub lag_rate: f64,
    /// The lag run's wait between claims, in ms (the service's default).
    #[arg(long, default_value_t = 500)]
    pub lag_poll_ms: u64,
    /// Seconds of lag measured before the prune starts.
    #[arg(long, default_value_t = 3.0)]
    pub lag_before: f64,
}

/// Runs `bench jobs` on a throw-away database and prints its findings.
pub async fn run(args: JobsArgs, base: Config) -> anyhow::Result<()> {
    let database = BenchDatabase::create(&admin_url(args.postgres_url.as_deref(), &base)).await?;
    eprintln!("bench: created database {}", database.name());
    let result = run_on(&args, &base, &database.url).await;
    match database.drop_database().await {
        Ok(()) => eprintln!("bench: dropped the database"),
        Err(err) => eprintln!("bench: warning: {err:#}"),
    }
    result?.print();
    Ok(())
}

async fn run_on(args: &JobsArgs, base: &Config, url: &str) -> anyhow::Result<JobsReport> {
    let db = store::connect(url, args.connections.max(2)).await?;
    store::migrate(&db).await?;
    let mut report = JobsReport::new(args);
    for round in 1..=args.rounds.max(1) {
        eprintln!("bench: round {round}: baseline");
        let b = baseline(&db, args).await?;
        report.push_baseline(round, b);
        eprintln!("bench: round {round}: engine");
        let e = engine(&db, args).await?;
        report.push_engine(round, e);
    }
    if args.table_rows > 0 {
        let retention =
            chrono::Duration::hours(i64::try_from(base.jobs.job_retention_hours).unwrap_or(72));
        report.lag = Some(jobs_lag::measure(&db, args, retention).await?);
    }
    db.close().await?;
    Ok(report)
}

/// Empties the table and queues `n` due no-op jobs in one statement.
async fn fill(db: &DatabaseConnection, n: u64) -> anyhow::Result<()> {
    db.execute_unprepared("TRUNCATE jobs").await?;
    db.execute_unprepared(&format!(
        "INSERT INTO jobs (kind, payload, state, priority, run_at, attempts, max_attempts, created_at, updated_at) \
         SELECT '{KIND}', jsonb_build_object('n', g), 'pending', 0, now(), 0, 5, now(), now() \
         FROM generate_series(1, {n}) AS g"
    ))
    .await
    .context("cannot queue the benchmark jobs")?;
    db.execute_unprepared("VACUUM ANALYZE jobs").await?;
    Ok(())
}

/// One value of a single-row query.
pub async fn scalar_i64(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .context("the query returned no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// How the queue ended up: completed rows and rows that ran more than once.
async fn audit(db: &DatabaseConnection) -> anyhow::Result<(u64, u64)> {
    let completed = scalar_i64(db, "SELECT count(*) FROM jobs WHERE state = 'completed'").await?;
    let repeated = scalar_i64(db, "SELECT count(*) FROM jobs WHERE attempts <> 1").await?;
    Ok((
        u64::try_from(completed).unwrap_or(0),
        u64::try_from(repeated).unwrap_or(0),
    ))
}

/// The bare queries in a loop: claim a batch, complete it, until none is due.
async fn baseline(db: &DatabaseConnection, args: &JobsArgs) -> anyhow::Result<ThroughputRun> {
    fill(db, args.jobs).await?;
    let batch = args.claim_batch.max(1);
    let started = Instant::now();
    let mut loops = JoinSet::new();
    for i in 0..args.baseline_loops.max(1) {
        let db = db.clone();
        let worker = format!("baseline-{i}");
        loops.spawn(async move {
            loop {
                let now = Utc::now();
                let lease = now + chrono::Duration::seconds(60);
                let claimed = job_store::claim(&db, KIND, &worker, batch, now, lease, None).await?;
                if claimed.is_empty() {
                    return anyhow::Ok(());
                }
                let ids: Vec<i64> = claimed.iter().map(|row| row.id).collect();
                job_store::complete(&db, &ids, &worker, Utc::now()).await?;
            }
        });
    }
    while let Some(done) = loops.join_next().await {
        done??;
    }
    let elapsed = started.elapsed();
    let (completed, repeated) = audit(db).await?;
    Ok(ThroughputRun::new(args.jobs, elapsed, completed, repeated))
}

/// Counts the jobs it runs; does nothing else.
struct Noop(Arc<AtomicU64>);

#[async_trait::async_trait]
impl JobHandler for Noop {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The engine: a worker pool with one no-op kind, until every job is completed.
async fn engine(db: &DatabaseConnection, args: &JobsArgs) -> anyhow::Result<ThroughputRun> {
    fill(db, args.jobs).await?;
    let ran = Arc::new(AtomicU64::new(0));
    let mut registry = Registry::new();
    registry.register(
        KIND,
        KindSettings {
            concurrency: args.concurrency.max(1),
            ..KindSettings::default()
        },
        Noop(ran.clone()),
    );
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(args.poll_ms.max(1)),
        claim_batch: args.claim_batch.max(1),
        stats_interval: None,
        ..WorkerConfig::default()
    };
    let started = Instant::now();
    let pool = WorkerPool::start(db.clone(), &registry, config, None, None);
    let waited = wait_drained(db, &ran, args.jobs, Duration::from_secs(600)).await;
    let elapsed = started.elapsed();
    pool.shutdown().await;
    waited?;
    let (completed, repeated) = audit(db).await?;
    Ok(ThroughputRun::new(args.jobs, elapsed, completed, repeated))
}

/// Waits until handlers have run `expected` jobs (no query), then until no
/// job is pending or running (completions are written in batches).
pub async fn wait_drained(
    db: &DatabaseConnection,
    ran: &AtomicU64,
    expected: u64,
    limit: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while ran.load(Ordering::Relaxed) < expected {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the jobs did not all run in time"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    loop {
        let busy = scalar_i64(
            db,
            "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state IN ('pending', 'running') AND run_at <= now() LIMIT 1) AS busy",
        )
        .await?;
        if busy == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the jobs were not all completed in time"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
