//! The background engine on real databases: exactly-once across pools, lost
//! workers, retries and dead jobs, the outbox, scheduler ticks, shutdown.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use dashmap::DashMap;
use nextke_integrations::{
    domain::{
        activity::{record, ActivityEvent},
        types::{ActivityName, ActivityStatus, Provider},
    },
    jobs::{
        enqueue, fire, start_scheduler, tick_of, Job, JobError, JobHandler, KindSettings, NewJob,
        Registry, Schedule, WorkerConfig, WorkerPool,
    },
    proto::{ListActivityRequest, ListFailedJobsRequest, RetryFailedJobRequest},
    store::{
        self,
        jobs::{self as job_store, JobState, Outcome},
    },
};
use parking_lot::Mutex;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::{
    db_tests,
    helpers::{authed, fresh_database, service_token, spawn_app, sql, token, Backend, TestApp},
};

fn fast_pool_config() -> WorkerConfig {
    WorkerConfig {
        poll_interval: Duration::from_millis(20),
        claim_batch: 64,
        reap_interval: Duration::from_millis(250),
        shutdown_grace: Duration::from_secs(5),
        stats_interval: None,
        ..WorkerConfig::default()
    }
}

fn settings(concurrency: usize) -> KindSettings {
    KindSettings {
        concurrency,
        base_backoff: Duration::from_millis(400),
        max_backoff: Duration::from_secs(10),
        lease: Duration::from_secs(30),
        provider: None,
        max_attempts: None,
        batch: false,
        lead: Duration::ZERO,
    }
}

async fn count(db: &DatabaseConnection, condition: &str) -> i64 {
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        n: i64,
    }
    let statement = sea_orm::Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM jobs WHERE {condition}"),
    );
    use sea_orm::FromQueryResult;
    N::find_by_statement(statement)
        .one(db)
        .await
        .expect("count")
        .map(|r| r.n)
        .unwrap_or(0)
}

async fn wait_until(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Counts runs per job id.
#[derive(Clone, Default)]
struct Counter(Arc<DashMap<i64, u32>>);

#[async_trait::async_trait]
impl JobHandler for Counter {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        *self.0.entry(job.id).or_insert(0) += 1;
        Ok(())
    }
}

async fn every_job_runs_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (total, pools) = match backend {
        Backend::Postgres => (10_000usize, 3usize),
        Backend::Sqlite => (2_000, 1),
    };
    match backend {
        Backend::Postgres => {
            sql(
                &app,
                &format!(
                    "INSERT INTO jobs (kind, payload, state, priority, run_at, attempts, max_attempts, created_at, updated_at) \
                     SELECT 'test.count', jsonb_build_object('n', g), 'pending', 0, now(), 0, 5, now(), now() \
                     FROM generate_series(1, {total}) AS g"
                ),
            )
            .await
        }
        Backend::Sqlite => {
            let txn = app.ctx.db.begin().await.expect("txn");
            for n in 0..total {
                enqueue(&txn, NewJob::new("test.count", serde_json::json!({ "n": n })))
                    .await
                    .expect("enqueue");
            }
            txn.commit().await.expect("commit");
        }
    }
    let counter = Counter::default();
    let mut registry = Registry::new();
    registry.register("test.count", settings(16), counter.clone());
    let mut running = Vec::new();
    for _ in 0..pools {
        // each pool on its own connection pool, as separate processes would be
        let db = store::connect(&app.database_url(), 4)
            .await
            .expect("connect");
        running.push(WorkerPool::start(
            db,
            &registry,
            fast_pool_config(),
            None,
            None,
        ));
    }
    let db = app.ctx.db.clone();
    wait_until("all jobs completed", Duration::from_secs(240), async || {
        count(&db, "state = 'completed'").await == total as i64
    })
    .await;
    for pool in running {
        pool.shutdown().await;
    }
    assert_eq!(counter.0.len(), total, "every job ran");
    let twice: Vec<_> = counter
        .0
        .iter()
        .filter(|e| *e.value() != 1)
        .map(|e| *e.key())
        .collect();
    assert!(twice.is_empty(), "jobs run more than once: {twice:?}");
    assert_eq!(count(&db, "state <> 'completed'").await, 0);
    app.stop().await;
}

/// Fails until told to succeed, remembering when each attempt ran.
#[derive(Clone, Default)]
struct Flaky {
    succeed: Arc<AtomicBool>,
    attempts: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait::async_trait]
impl JobHandler for Flaky {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        self.attempts.lock().push(Instant::now());
        if self.succeed.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(JobError::Retry("upstream said no (test)".to_owned()))
        }
    }
}

async fn failing_job_backs_off_dies_and_can_be_retried(backend: Backend) {
    let app = spawn_app(backend).await;
    let flaky = Flaky::default();
    let mut registry = Registry::new();
    registry.register("test.flaky", settings(2), flaky.clone());
    let pool = WorkerPool::start(
        app.ctx.db.clone(),
        &registry,
        fast_pool_config(),
        None,
        None,
    );
    let id = enqueue(
        &app.ctx.db,
        NewJob::new("test.flaky", serde_json::json!({}))
            .max_attempts(3)
            .for_organization("acme"),
    )
    .await
    .expect("enqueue")
    .expect("new job");

    let db = app.ctx.db.clone();
    wait_until("job dead", Duration::from_secs(20), async || {
        count(&db, &format!("id = {id} AND state = 'dead'")).await == 1
    })
    .await;
    let times = flaky.attempts.lock().clone();
    assert_eq!(times.len(), 3, "three attempts, then dead");
    let first_gap = times[1] - times[0];
    let second_gap = times[2] - times[1];
    // attempt n waits between half and all of base * 2^(n-1)
    assert!(first_gap >= Duration::from_millis(200), "{first_gap:?}");
    assert!(second_gap >= Duration::from_millis(400), "{second_gap:?}");
    assert!(second_gap < Duration::from_millis(1500), "{second_gap:?}");
    let row = job_store::find(&db, id).await.expect("find").expect("row");
    assert_eq!(row.attempts, 3);
    assert_eq!(row.last_error.as_deref(), Some("upstream said no (test)"));

    // operators see it: a platform service, or an admin of its organization
    let mut client = app.integration().await;
    let listed = client
        .list_failed_jobs(authed(ListFailedJobsRequest::default(), &service_token()))
        .await
        .expect("service lists")
        .into_inner();
    assert_eq!(listed.jobs.len(), 1);
    assert_eq!(listed.jobs[0].id, id);
    assert_eq!(listed.jobs[0].last_error, "upstream said no (test)");
    let admin = token("alice", &[("acme", "admin")]);
    let listed = client
        .list_failed_jobs(authed(ListFailedJobsRequest::default(), &admin))
        .await
        .expect("admin lists")
        .into_inner();
    assert_eq!(listed.jobs.len(), 1);
    let other_admin = token("mallory", &[("globex", "admin")]);
    let listed = client
        .list_failed_jobs(authed(ListFailedJobsRequest::default(), &other_admin))
        .await
        .expect("other admin lists")
        .into_inner();
    assert!(listed.jobs.is_empty());
    let hidden = client
        .retry_failed_job(authed(RetryFailedJobRequest { job_id: id }, &other_admin))
        .await
        .expect_err("not theirs");
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let member = token("bob", &[("acme", "member")]);
    let denied = client
        .list_failed_jobs(authed(ListFailedJobsRequest::default(), &member))
        .await
        .expect_err("members may not");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let bad = client
        .retry_failed_job(authed(RetryFailedJobRequest { job_id: 0 }, &admin))
        .await
        .expect_err("bad id");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);

    // retried: it runs again and, the upstream healed, completes
    flaky.succeed.store(true, Ordering::SeqCst);
    let retried = client
        .retry_failed_job(authed(RetryFailedJobRequest { job_id: id }, &admin))
        .await
        .expect("retry")
        .into_inner()
        .job
        .expect("job");
    assert_eq!(retried.state, "pending");
    assert_eq!(retried.attempts, 0);
    wait_until(
        "retried job completed",
        Duration::from_secs(10),
        async || count(&db, &format!("id = {id} AND state = 'completed'")).await == 1,
    )
    .await;
    assert_eq!(flaky.attempts.lock().len(), 4);
    pool.shutdown().await;
    app.stop().await;
}

async fn outbox_commits_or_drops_the_job_with_its_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let event = || ActivityEvent {
        provider: Provider::LinkedIn,
        activity: ActivityName::ProfileSync,
        status: ActivityStatus::Success,
        duration: Duration::from_millis(1),
        message: "outbox test".to_owned(),
        user_id: Some("u1"),
        organization_id: None,
        connection_id: None,
    };
    let txn = app.ctx.db.begin().await.expect("txn");
    record(&txn, event()).await.expect("domain change");
    enqueue(
        &txn,
        NewJob::new("test.follow_up", serde_json::json!({"user": "u1"})),
    )
    .await
    .expect("enqueue");
    txn.rollback().await.expect("rollback");
    assert_eq!(
        count(&app.ctx.db, "kind = 'test.follow_up'").await,
        0,
        "no job without its change"
    );
    let mut client = app.integration().await;
    let listed = client
        .list_activity(authed(ListActivityRequest::default(), &token("u1", &[])))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.activities.is_empty());

    let txn = app.ctx.db.begin().await.expect("txn");
    record(&txn, event()).await.expect("domain change");
    enqueue(
        &txn,
        NewJob::new("test.follow_up", serde_json::json!({"user": "u1"})),
    )
    .await
    .expect("enqueue");
    txn.commit().await.expect("commit");
    assert_eq!(count(&app.ctx.db, "kind = 'test.follow_up'").await, 1);
    app.stop().await;
}

async fn unique_key_dedupes_pending_jobs(backend: Backend) {
    let app = spawn_app(backend).await;
    let job = || NewJob::new("test.unique", serde_json::json!({})).unique("sync:u1");
    let first = enqueue(&app.ctx.db, job()).await.expect("enqueue");
    assert!(first.is_some());
    assert_eq!(enqueue(&app.ctx.db, job()).await.expect("enqueue"), None);
    assert_eq!(count(&app.ctx.db, "kind = 'test.unique'").await, 1);
    // once it runs, the same work may be asked for again
    let now = chrono::Utc::now();
    let claimed = job_store::claim(
        &app.ctx.db,
        "test.unique",
        "w1",
        10,
        now,
        now + chrono::Duration::seconds(30),
        None,
    )
    .await
    .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(enqueue(&app.ctx.db, job())
        .await
        .expect("enqueue")
        .is_some());
    assert_eq!(
        count(&app.ctx.db, "kind = 'test.unique' AND state = 'pending'").await,
        1
    );
    app.stop().await;
}

async fn retrying_a_dead_job_whose_key_is_pending_again_is_already_exists(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.ctx.db;
    let job = || NewJob::new("test.dup", serde_json::json!({})).unique("dup:u1");
    let id = enqueue(db, job()).await.expect("enqueue").expect("new");
    let now = chrono::Utc::now();
    let claimed = job_store::claim(
        db,
        "test.dup",
        "w1",
        1,
        now,
        now + chrono::Duration::seconds(30),
        None,
    )
    .await
    .expect("claim");
    assert_eq!(claimed.len(), 1);
    job_store::finish_unsuccessfully(db, id, "w1", Outcome::Dead("gave up (test)"), now)
        .await
        .expect("dead");
    // the same work was asked for again meanwhile
    let again = enqueue(db, job()).await.expect("enqueue").expect("new");
    let mut client = app.integration().await;
    let err = client
        .retry_failed_job(authed(
            RetryFailedJobRequest { job_id: id },
            &service_token(),
        ))
        .await
        .expect_err("a pending job has the key");
    assert_eq!(err.code(), tonic::Code::AlreadyExists, "{err:?}");
    let dead = job_store::find(db, id).await.expect("find").expect("row");
    assert_eq!(dead.state, JobState::Dead, "left dead");
    let pending = job_store::find(db, again)
        .await
        .expect("find")
        .expect("row");
    assert_eq!(pending.state, JobState::Pending);
    app.stop().await;
}

async fn three_schedulers_enqueue_each_tick_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let schedule = Schedule {
        name: "test.tick".to_owned(),
        cron: "* * * * * *".to_owned(),
        job: NewJob::new("test.tick", serde_json::json!({})),
    };
    // the same tick fired by three replicas at once
    let tick = tick_of(chrono::Utc::now());
    let mut fired = Vec::new();
    for _ in 0..3 {
        let db = store::connect(&app.database_url(), 2)
            .await
            .expect("connect");
        let schedule = schedule.clone();
        fired.push(tokio::spawn(
            async move { fire(&db, &schedule, tick).await },
        ));
    }
    let mut winners = 0;
    for handle in fired {
        if handle.await.expect("join").expect("fire").is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(count(&app.ctx.db, "kind = 'test.tick'").await, 1);
    sql(&app, "DELETE FROM jobs WHERE kind = 'test.tick'").await;
    sql(&app, "DELETE FROM scheduler_ticks").await;

    // three real schedulers firing every second for a few seconds
    let mut schedulers = Vec::new();
    for _ in 0..3 {
        let db = store::connect(&app.database_url(), 2)
            .await
            .expect("connect");
        schedulers.push(
            start_scheduler(db, vec![schedule.clone()])
                .await
                .expect("scheduler"),
        );
    }
    tokio::time::sleep(Duration::from_millis(3_600)).await;
    for scheduler in schedulers {
        scheduler.shutdown().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let jobs = count(&app.ctx.db, "kind = 'test.tick'").await;
    assert!(
        (2..=5).contains(&jobs),
        "about one job per second, got {jobs}"
    );
    let ticks = count(&app.ctx.db, "kind = 'test.tick' AND unique_key IS NOT NULL").await;
    assert_eq!(ticks, jobs);
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        n: i64,
    }
    use sea_orm::FromQueryResult;
    let distinct = N::find_by_statement(sea_orm::Statement::from_string(
        app.ctx.db.get_database_backend(),
        "SELECT COUNT(DISTINCT unique_key) AS n FROM jobs WHERE kind = 'test.tick'".to_owned(),
    ))
    .one(&app.ctx.db)
    .await
    .expect("query")
    .expect("row")
    .n;
    assert_eq!(distinct, jobs, "no tick enqueued twice");
    app.stop().await;
}

/// Sleeps for a long time: shutdown must release it.
struct Sleeper;

#[async_trait::async_trait]
impl JobHandler for Sleeper {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(())
    }
}

async fn shutdown_releases_unfinished_jobs(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut registry = Registry::new();
    registry.register("test.sleep", settings(1), Sleeper);
    let config = WorkerConfig {
        shutdown_grace: Duration::from_millis(200),
        ..fast_pool_config()
    };
    let pool = WorkerPool::start(app.ctx.db.clone(), &registry, config, None, None);
    let id = enqueue(
        &app.ctx.db,
        NewJob::new("test.sleep", serde_json::json!({})),
    )
    .await
    .expect("enqueue")
    .expect("id");
    let db = app.ctx.db.clone();
    wait_until("job running", Duration::from_secs(10), async || {
        count(&db, &format!("id = {id} AND state = 'running'")).await == 1
    })
    .await;
    let started = Instant::now();
    pool.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let row = job_store::find(&db, id).await.expect("find").expect("row");
    assert_eq!(row.state, JobState::Pending, "released for another worker");
    assert_eq!(row.attempts, 0, "a release does not spend an attempt");
    assert!(row.locked_by.is_none());
    app.stop().await;
}

/// Waits for its job's instant as a kind with a lead does, remembering when
/// it was handed the job and when it acted; gives the job back, due as
/// before, if the pool stops first.
#[derive(Clone, Default)]
struct Ahead {
    /// (handed over, acted) per run.
    runs: Arc<Mutex<Vec<(At, At)>>>,
}

type At = chrono::DateTime<chrono::Utc>;

#[async_trait::async_trait]
impl JobHandler for Ahead {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let handed = chrono::Utc::now();
        let wait = (job.run_at - handed).to_std().unwrap_or_default();
        let mut stopping = job.stopping.clone();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.wait_for(|s| *s) => {
                let left = (job.run_at - chrono::Utc::now()).to_std().unwrap_or_default();
                return Err(JobError::Delay(left, "stopping before the instant".to_owned()));
            }
        }
        self.runs.lock().push((handed, chrono::Utc::now()));
        Ok(())
    }
}

async fn a_kind_with_a_lead_is_handed_its_jobs_ahead_and_gives_them_back_at_shutdown(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let ahead = Ahead::default();
    let mut registry = Registry::new();
    registry.register(
        "test.ahead",
        KindSettings {
            lead: Duration::from_secs(10),
            ..settings(4)
        },
        ahead.clone(),
    );
    let pool = WorkerPool::start(
        app.ctx.db.clone(),
        &registry,
        fast_pool_config(),
        None,
        None,
    );
    let due = chrono::Utc::now() + chrono::Duration::seconds(3);
    enqueue(
        &app.ctx.db,
        NewJob::new("test.ahead", serde_json::json!({})).run_at(due),
    )
    .await
    .expect("enqueue");
    let db = app.ctx.db.clone();
    wait_until("the job completed", Duration::from_secs(15), async || {
        count(&db, "kind = 'test.ahead' AND state = 'completed'").await == 1
    })
    .await;
    let (handed, acted) = ahead.runs.lock()[0];
    assert!(
        handed < due - chrono::Duration::seconds(1),
        "handed over ahead of its instant: {handed} for {due}"
    );
    assert!(acted >= due, "acted at its instant: {acted} for {due}");

    // a job claimed ahead and still waiting when the pool stops goes back,
    // due when it was, without spending an attempt
    let later = chrono::Utc::now() + chrono::Duration::seconds(8);
    let id = enqueue(
        &app.ctx.db,
        NewJob::new("test.ahead", serde_json::json!({})).run_at(later),
    )
    .await
    .expect("enqueue")
    .expect("id");
    wait_until("claimed ahead", Duration::from_secs(5), async || {
        count(&db, &format!("id = {id} AND state = 'running'")).await == 1
    })
    .await;
    let started = Instant::now();
    pool.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the shutdown did not wait for the instant"
    );
    let row = job_store::find(&db, id).await.expect("find").expect("row");
    assert_eq!(row.state, JobState::Pending);
    assert_eq!(row.attempts, 0, "no attempt spent");
    let drift = (row.run_at - later).num_milliseconds().abs();
    assert!(drift < 1_000, "due as before: {} for {later}", row.run_at);
    assert_eq!(ahead.runs.lock().len(), 1, "the second never acted");
    app.stop().await;
}

/// A kind with an attempt limit of its own stops a job there, and the job's
/// row (so `ListFailedJobs`) shows that limit, not the one it was enqueued with.
async fn failed_jobs_show_the_attempt_limit_applied(backend: Backend) {
    let app = spawn_app(backend).await;
    let flaky = Flaky::default();
    let mut registry = Registry::new();
    let mut kind = settings(1);
    kind.base_backoff = Duration::from_millis(20);
    kind.max_attempts = Some(2);
    registry.register("test.limited", kind, flaky.clone());
    let pool = WorkerPool::start(
        app.ctx.db.clone(),
        &registry,
        fast_pool_config(),
        None,
        None,
    );
    let id = enqueue(
        &app.ctx.db,
        NewJob::new("test.limited", serde_json::json!({})).max_attempts(8),
    )
    .await
    .expect("enqueue")
    .expect("new job");
    let db = app.ctx.db.clone();
    wait_until("job dead", Duration::from_secs(20), async || {
        count(&db, &format!("id = {id} AND state = 'dead'")).await == 1
    })
    .await;
    pool.shutdown().await;
    assert_eq!(flaky.attempts.lock().len(), 2, "the kind's limit applied");
    let listed = app
        .integration()
        .await
        .list_failed_jobs(authed(ListFailedJobsRequest::default(), &service_token()))
        .await
        .expect("service lists")
        .into_inner();
    let job = listed.jobs.iter().find(|j| j.id == id).expect("listed");
    assert_eq!((job.attempts, job.max_attempts), (2, 2));
}

/// Runs jobs in batches, remembering each batch's size; the job whose
/// payload says `fail` fails on its first attempt.
#[derive(Clone, Default)]
struct Batcher {
    batches: Arc<Mutex<Vec<usize>>>,
    runs: Arc<DashMap<i64, u32>>,
}

#[async_trait::async_trait]
impl JobHandler for Batcher {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        Err(JobError::Fatal("a batch kind runs in batches".to_owned()))
    }

    async fn run_batch(&self, jobs: &[Job]) -> Vec<Result<(), JobError>> {
        self.batches.lock().push(jobs.len());
        jobs.iter()
            .map(|job| {
                *self.runs.entry(job.id).or_insert(0) += 1;
                if job.payload["fail"] == true && job.attempt == 1 {
                    Err(JobError::Retry("this one failed (test)".to_owned()))
                } else {
                    Ok(())
                }
            })
            .collect()
    }
}

async fn a_batch_kind_runs_its_claims_together_with_an_outcome_per_job(backend: Backend) {
    let app = spawn_app(backend).await;
    let total = 200usize;
    let txn = app.ctx.db.begin().await.expect("txn");
    for n in 0..total {
        enqueue(
            &txn,
            NewJob::new("test.batch", serde_json::json!({ "n": n, "fail": n == 7 })),
        )
        .await
        .expect("enqueue");
    }
    txn.commit().await.expect("commit");
    let batcher = Batcher::default();
    let mut registry = Registry::new();
    registry.register(
        "test.batch",
        KindSettings {
            base_backoff: Duration::from_millis(50),
            batch: true,
            ..settings(64)
        },
        batcher.clone(),
    );
    let pool = WorkerPool::start(
        app.ctx.db.clone(),
        &registry,
        fast_pool_config(),
        None,
        None,
    );
    let db = app.ctx.db.clone();
    wait_until("all jobs completed", Duration::from_secs(60), async || {
        count(&db, "state = 'completed'").await == total as i64
    })
    .await;
    pool.shutdown().await;
    let batches = batcher.batches.lock().clone();
    assert!(
        batches.iter().any(|&n| n > 1),
        "claims run as batches: {batches:?}"
    );
    assert!(
        batches.iter().all(|&n| n <= 64),
        "a batch is at most one claim: {batches:?}"
    );
    // the one that failed ran again on its own; the others once
    let again: Vec<u32> = batcher
        .runs
        .iter()
        .filter(|e| *e.value() != 1)
        .map(|e| *e.value())
        .collect();
    assert_eq!(again, vec![2], "only the failed job ran twice");
    assert_eq!(batcher.runs.len(), total);
    app.stop().await;
}

db_tests!(
    a_batch_kind_runs_its_claims_together_with_an_outcome_per_job,
    a_kind_with_a_lead_is_handed_its_jobs_ahead_and_gives_them_back_at_shutdown,
    every_job_runs_exactly_once,
    failing_job_backs_off_dies_and_can_be_retried,
    failed_jobs_show_the_attempt_limit_applied,
    outbox_commits_or_drops_the_job_with_its_change,
    unique_key_dedupes_pending_jobs,
    retrying_a_dead_job_whose_key_is_pending_again_is_already_exists,
    three_schedulers_enqueue_each_tick_once,
    shutdown_releases_unfinished_jobs,
);

/// Each run is recorded, and the effect is written idempotently after a delay
/// that is long on the first attempt (so a test can kill the worker then).
struct SlowEffect {
    db: DatabaseConnection,
    first_pause: Duration,
}

#[async_trait::async_trait]
impl JobHandler for SlowEffect {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let db = &self.db;
        db.execute_unprepared(&format!(
            "INSERT INTO test_job_runs (job_id, attempt) VALUES ({}, {})",
            job.id, job.attempt
        ))
        .await?;
        let pause = if job.attempt == 1 {
            self.first_pause
        } else {
            Duration::from_millis(100)
        };
        tokio::time::sleep(pause).await;
        db.execute_unprepared(&format!(
            "INSERT INTO test_job_effects (job_id) VALUES ({}) ON CONFLICT DO NOTHING",
            job.id
        ))
        .await?;
        Ok(())
    }
}

fn slow_registry(db: &DatabaseConnection, first_pause: Duration) -> Registry {
    let mut registry = Registry::new();
    registry.register(
        "test.slow_effect",
        KindSettings {
            lease: Duration::from_secs(2),
            ..settings(1)
        },
        SlowEffect {
            db: db.clone(),
            first_pause,
        },
    );
    registry
}

async fn effect_tables(db: &DatabaseConnection) {
    for statement in [
        "CREATE TABLE IF NOT EXISTS test_job_runs (job_id BIGINT NOT NULL, attempt INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS test_job_effects (job_id BIGINT PRIMARY KEY)",
    ] {
        db.execute_unprepared(statement).await.expect("test table");
    }
}

async fn rows(db: &DatabaseConnection, table: &str) -> i64 {
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        n: i64,
    }
    use sea_orm::FromQueryResult;
    N::find_by_statement(sea_orm::Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table}"),
    ))
    .one(db)
    .await
    .expect("count")
    .map(|r| r.n)
    .unwrap_or(0)
}

/// A worker running the slow job. Run by the kill test as a child process
/// (`NEXTKE_CHILD_DB` set: run until killed); on its own, it runs a slow job
/// to completion and checks its effect happened once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_job_worker() {
    if let Ok(url) = std::env::var("NEXTKE_CHILD_DB") {
        let db = store::connect(&url, 2).await.expect("child connects");
        let registry = slow_registry(&db, Duration::from_secs(60));
        let _pool = WorkerPool::start(db, &registry, fast_pool_config(), None, None);
        tokio::time::sleep(Duration::from_secs(120)).await;
        panic!("the parent should have killed this worker");
    }
    let url = fresh_database(Backend::Postgres).await;
    let db = store::connect(&url, 4).await.expect("connect");
    store::migrate(&db).await.expect("migrate");
    effect_tables(&db).await;
    let registry = slow_registry(&db, Duration::from_millis(300));
    let pool = WorkerPool::start(db.clone(), &registry, fast_pool_config(), None, None);
    let id = enqueue(&db, NewJob::new("test.slow_effect", serde_json::json!({})))
        .await
        .expect("enqueue")
        .expect("id");
    let check = db.clone();
    wait_until("slow job completed", Duration::from_secs(20), async || {
        count(&check, &format!("id = {id} AND state = 'completed'")).await == 1
    })
    .await;
    pool.shutdown().await;
    assert_eq!(rows(&db, "test_job_runs").await, 1);
    assert_eq!(rows(&db, "test_job_effects").await, 1);
}

/// SIGKILL a worker process in the middle of a job: the job comes back after
/// its lease, runs again, completes, and its effect happens once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_job_runs_again_after_its_lease() {
    let url = fresh_database(Backend::Postgres).await;
    let db = store::connect(&url, 4).await.expect("connect");
    store::migrate(&db).await.expect("migrate");
    effect_tables(&db).await;
    let id = enqueue(&db, NewJob::new("test.slow_effect", serde_json::json!({})))
        .await
        .expect("enqueue")
        .expect("id");

    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "jobs::slow_job_worker",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NEXTKE_CHILD_DB", &url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn worker process");
    wait_until(
        "child started the job",
        Duration::from_secs(60),
        async || rows(&db, "test_job_runs").await == 1,
    )
    .await;
    child.kill().expect("SIGKILL the worker");
    child.wait().expect("reap child");
    assert_eq!(
        count(&db, &format!("id = {id} AND state = 'running'")).await,
        1,
        "still leased to the dead worker"
    );

    let registry = slow_registry(&db, Duration::from_secs(60));
    let pool = WorkerPool::start(db.clone(), &registry, fast_pool_config(), None, None);
    let check = db.clone();
    wait_until(
        "job completed by the survivor",
        Duration::from_secs(30),
        async || count(&check, &format!("id = {id} AND state = 'completed'")).await == 1,
    )
    .await;
    pool.shutdown().await;
    let row = job_store::find(&db, id).await.expect("find").expect("row");
    assert_eq!(row.attempts, 2, "the killed run counted as an attempt");
    assert_eq!(rows(&db, "test_job_runs").await, 2, "it ran again");
    assert_eq!(
        rows(&db, "test_job_effects").await,
        1,
        "its effect happened once"
    );
}

impl TestApp {
    /// The URL of this app's database.
    pub fn database_url(&self) -> String {
        self.ctx.config.database_url.clone()
    }
}
