//! The engine inside the real server: the token-refresh sweep, `invalid_grant`
//! found in the background, queue metrics; and jobs delayed, not failed, while
//! their provider's circuit is open.

use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use nextke_integrations::{
    domain::sweeps,
    jobs::{
        enqueue, Job, JobError, JobHandler, KindSettings, NewJob, Registry, WorkerConfig,
        WorkerPool,
    },
    metrics::Metrics,
    proto::{self, GetIntegrationStatusRequest},
    providers::http::{BreakerState, OutboundConfig, OutboundHttp, ProviderCall},
    startup::circuit_gate,
    store::{
        credentials,
        jobs::{self as job_store, JobState},
    },
};
use nextke_sandbox::{oauth_server::DEFAULT_SUBJECT, SandboxServer};
use reqwest::StatusCode;

use crate::{
    db_tests,
    helpers::{authed, sql, token, Backend},
    oauth::rig_with,
};

async fn soon_expiring(rig: &crate::oauth::Rig, id: &str) {
    let soon =
        (chrono::Utc::now() + chrono::Duration::minutes(5)).format("%Y-%m-%d %H:%M:%S+00:00");
    sql(
        &rig.app,
        &format!("UPDATE oauth_credentials SET token_expires_at = '{soon}' WHERE id = '{id}'"),
    )
    .await;
}

async fn metrics_text(base_url: &str) -> String {
    reqwest::get(format!("{base_url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body")
}

async fn token_refresh_sweep_runs_in_the_background(backend: Backend) {
    let rig = rig_with(backend, |config| {
        config.jobs.workers_enabled = true;
        config.jobs.job_poll_interval_ms = 50;
        config.jobs.job_stats_interval_ms = 100;
    })
    .await;
    let id = rig.connect("u1").await;
    let before = credentials::find(&rig.app.ctx.db, &id)
        .await
        .expect("db")
        .expect("row");
    soon_expiring(&rig, &id).await;

    enqueue(
        &rig.app.ctx.db,
        NewJob::new(sweeps::TOKEN_REFRESH_SWEEP, serde_json::json!({})),
    )
    .await
    .expect("enqueue sweep");
    let started = Instant::now();
    while rig.sandbox.token_requests("refresh_token") < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the sweep did not refresh"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    loop {
        let row = credentials::find(&rig.app.ctx.db, &id)
            .await
            .expect("db")
            .expect("row");
        if row.token_version > before.token_version {
            assert!(
                row.token_expires_at.expect("expiry")
                    > chrono::Utc::now() + chrono::Duration::minutes(30)
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "new token not stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // the member revoked our access: the background refresh finds out
    rig.sandbox.revoke_all_for_subject(DEFAULT_SUBJECT);
    soon_expiring(&rig, &id).await;
    enqueue(
        &rig.app.ctx.db,
        NewJob::new(sweeps::TOKEN_REFRESH_SWEEP, serde_json::json!({})),
    )
    .await
    .expect("enqueue sweep");
    let mut client = rig.app.integration().await;
    let started = Instant::now();
    loop {
        let status = client
            .get_integration_status(authed(GetIntegrationStatusRequest {}, &token("u1", &[])))
            .await
            .expect("status")
            .into_inner();
        if status.linkedin[0].state() == proto::ConnectionState::NeedsReauth {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "needs_reauth not recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        rig.sandbox.token_requests("refresh_token"),
        2,
        "invalid_grant is not retried"
    );
    let activity = client
        .list_activity(authed(
            proto::ListActivityRequest::default(),
            &token("u1", &[]),
        ))
        .await
        .expect("activity")
        .into_inner();
    assert!(activity
        .activities
        .iter()
        .any(|a| a.activity == "token.refresh" && a.status() == proto::ActivityStatus::Failure));

    // the queue is visible in /metrics
    let started = Instant::now();
    loop {
        let text = metrics_text(&rig.app.base_url).await;
        if text.contains("nextke_job_runs_total{kind=\"token.refresh\",outcome=\"ok\"} 2")
            && text.contains("nextke_job_lag_seconds")
            && text.contains("nextke_job_runs_total{kind=\"sweep.token_refresh\",outcome=\"ok\"} 2")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "job metrics missing:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rig.app.stop().await;
}

/// Counts runs; succeeds.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicU32>);

#[async_trait::async_trait]
impl JobHandler for Calls {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn open_circuit_delays_jobs_without_spending_attempts(backend: Backend) {
    let rig = rig_with(backend, |_| {}).await;
    let db = rig.app.ctx.db.clone();
    // a provider that fails until its circuit opens
    let router = axum::Router::new().route("/v1/ping", axum::routing::get(|| async { "pong" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let provider = SandboxServer::new(router).start(listener).expect("start");
    let outbound = OutboundHttp::new(
        OutboundConfig::default().with_provider("lever", |p| {
            p.retry.max_attempts = 1;
            p.breaker.min_calls = 3;
            p.breaker.open_duration = Duration::from_millis(1_500);
        }),
        Metrics::new(),
    )
    .expect("client");
    provider
        .faults
        .fail_next(10, StatusCode::SERVICE_UNAVAILABLE);
    let url = provider.url("/v1/ping");
    for _ in 0..3 {
        let client = outbound.client().clone();
        let _ = outbound
            .send(ProviderCall::idempotent("lever", "ping"), || {
                client.get(&url)
            })
            .await;
    }
    assert!(matches!(
        outbound.breaker_state("lever"),
        BreakerState::Open { .. }
    ));

    let calls = Calls::default();
    let mut registry = Registry::new();
    registry.register(
        "test.lever_sync",
        KindSettings {
            provider: Some("lever".to_owned()),
            ..KindSettings::default()
        },
        calls.clone(),
    );
    let pool = WorkerPool::start(
        db.clone(),
        &registry,
        WorkerConfig {
            poll_interval: Duration::from_millis(20),
            stats_interval: None,
            ..WorkerConfig::default()
        },
        None,
        Some(circuit_gate(outbound.clone())),
    );
    let id = enqueue(
        &db,
        NewJob::new("test.lever_sync", serde_json::json!({})).max_attempts(1),
    )
    .await
    .expect("enqueue")
    .expect("id");
    let started = Instant::now();
    loop {
        let row = job_store::find(&db, id).await.expect("db").expect("row");
        if row.last_error.as_deref() == Some("provider circuit open") {
            assert_eq!(row.state, JobState::Pending, "delayed, not failed");
            assert_eq!(row.attempts, 0, "no attempt spent");
            assert!(row.run_at > chrono::Utc::now(), "runs later");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "job was not delayed: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.0.load(Ordering::SeqCst), 0, "the handler did not run");

    // the provider recovers; once the circuit lets a probe through the job runs
    provider.faults.clear();
    let started = Instant::now();
    while calls.0.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "job never ran");
        if matches!(outbound.breaker_state("lever"), BreakerState::HalfOpen) {
            let client = outbound.client().clone();
            let _ = outbound
                .send(ProviderCall::idempotent("lever", "ping"), || {
                    client.get(&url)
                })
                .await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pool.shutdown().await;
    rig.app.stop().await;
}

db_tests!(
    token_refresh_sweep_runs_in_the_background,
    open_circuit_delays_jobs_without_spending_attempts,
);
