//! On PostgreSQL an idle worker pool wakes when work comes due, not at its
//! next poll: an enqueue notifies it, a job due later is claimed when due,
//! and a lost listener falls back to polling, then comes back.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use nextke_integrations::jobs::{
    enqueue, enqueue_many, Job, JobError, JobHandler, KindSettings, NewJob, Registry, WorkerConfig,
    WorkerPool,
};
use parking_lot::Mutex;
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::helpers::{spawn_app, Backend};

/// Remembers when each job started, by its payload's name.
#[derive(Clone, Default)]
struct Started(Arc<Mutex<Vec<(String, Instant)>>>);

#[async_trait::async_trait]
impl JobHandler for Started {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let name = job.payload["name"].as_str().unwrap_or("").to_owned();
        self.0.lock().push((name, Instant::now()));
        Ok(())
    }
}

impl Started {
    async fn wait_for(&self, name: &str, limit: Duration) -> Instant {
        let started = Instant::now();
        loop {
            if let Some((_, at)) = self.0.lock().iter().find(|(n, _)| n == name) {
                return *at;
            }
            assert!(
                started.elapsed() < limit,
                "job {name} did not run within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn job(name: &str) -> NewJob {
    NewJob::new("test.wake", serde_json::json!({ "name": name }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pools_wake_when_work_comes_due() {
    let app = spawn_app(Backend::Postgres).await;
    let db = app.ctx.db.clone();
    let started = Started::default();
    let mut registry = Registry::new();
    registry.register("test.wake", KindSettings::default(), started.clone());
    // a poll so slow that only a wake-up explains a prompt run
    let poll = Duration::from_secs(10);
    let pool = WorkerPool::start(
        db.clone(),
        &registry,
        WorkerConfig {
            poll_interval: poll,
            stats_interval: None,
            ..WorkerConfig::default()
        },
        None,
        None,
    );
    // the listener wakes the loop once when it connects; let it go idle
    tokio::time::sleep(Duration::from_millis(500)).await;

    let sent = Instant::now();
    enqueue(&db, job("now"))
        .await
        .expect("enqueue")
        .expect("id");
    let ran = started.wait_for("now", Duration::from_secs(3)).await;
    assert!(ran - sent < Duration::from_secs(1), "{:?}", ran - sent);

    // due in 1.5 s: claimed then, not at the 10 s poll, nor early
    let sent = Instant::now();
    let due = Utc::now() + chrono::Duration::milliseconds(1500);
    enqueue(&db, job("later").run_at(due))
        .await
        .expect("enqueue");
    let ran = started.wait_for("later", Duration::from_secs(5)).await;
    let waited = ran - sent;
    assert!(
        waited >= Duration::from_millis(1400) && waited < Duration::from_millis(2500),
        "{waited:?}"
    );

    // enqueued inside a transaction: the wake-up goes with the commit, not before
    let txn = db.begin().await.expect("begin");
    enqueue(&txn, job("in-txn")).await.expect("enqueue");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !started.0.lock().iter().any(|(n, _)| n == "in-txn"),
        "a job ran before its transaction committed"
    );
    let sent = Instant::now();
    txn.commit().await.expect("commit");
    let ran = started.wait_for("in-txn", Duration::from_secs(3)).await;
    assert!(ran - sent < Duration::from_secs(1), "{:?}", ran - sent);

    // many at once wake the pool too
    let sent = Instant::now();
    enqueue_many(&db, vec![job("many-1"), job("many-2")])
        .await
        .expect("enqueue many");
    let ran = started.wait_for("many-2", Duration::from_secs(3)).await;
    assert!(ran - sent < Duration::from_secs(1), "{:?}", ran - sent);

    // the listener's connection dies: the pool reconnects and wakes again
    let killed = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND datname = current_database() \
             AND query ILIKE 'LISTEN%nextke_jobs%'",
        ))
        .await
        .expect("terminate the listener")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("count");
    assert_eq!(killed, 1, "one job listener");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let sent = Instant::now();
    enqueue(&db, job("after")).await.expect("enqueue");
    let ran = started.wait_for("after", Duration::from_secs(3)).await;
    assert!(ran - sent < Duration::from_secs(1), "{:?}", ran - sent);

    pool.shutdown().await;
    app.stop().await;
}
