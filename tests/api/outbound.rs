//! The shared outbound client against a sandbox provider: `Retry-After` is
//! honored, 5xx are retried with backoff, and the circuit breaker opens and
//! closes.

use std::time::{Duration, Instant, SystemTime};

use axum::{routing::get, Router};
use nextke_integrations::{
    metrics::Metrics,
    providers::http::{BreakerState, OutboundConfig, OutboundHttp, ProviderCall, ProviderError},
};
use nextke_sandbox::{RetryAfter, SandboxHandle, SandboxServer};
use reqwest::StatusCode;

use crate::{
    db_tests,
    helpers::{spawn_app, Backend},
};

async fn provider() -> SandboxHandle {
    let router = Router::new().route("/v1/ping", get(|| async { "pong" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    SandboxServer::new(router)
        .named("provider")
        .start(listener)
        .expect("start")
}

async fn ping(outbound: &OutboundHttp, sandbox: &SandboxHandle) -> Result<u32, ProviderError> {
    let url = sandbox.url("/v1/ping");
    let client = outbound.client().clone();
    outbound
        .send(ProviderCall::idempotent("lever", "ping"), || {
            client.get(&url)
        })
        .await
        .map(|r| r.attempts)
}

async fn retry_after_is_honored_and_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let sandbox = provider().await;

    sandbox.faults.throttle_next(1, RetryAfter::Seconds(1));
    let started = Instant::now();
    let attempts = ping(&app.ctx.outbound, &sandbox)
        .await
        .expect("succeeds after waiting");
    assert_eq!(attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );

    sandbox.faults.throttle_next(
        1,
        RetryAfter::HttpDate(SystemTime::now() + Duration::from_secs(2)),
    );
    let started = Instant::now();
    ping(&app.ctx.outbound, &sandbox)
        .await
        .expect("succeeds after the date");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );

    sandbox.faults.fail_next(2, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ping(&app.ctx.outbound, &sandbox)
            .await
            .expect("503, 503, 200"),
        3
    );
    assert_eq!(sandbox.faults.failed_count(), 2);

    let metrics = reqwest::get(format!("{}/metrics", app.base_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("nextke_provider_calls_total{provider=\"lever\",operation=\"ping\",outcome=\"retryable\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "nextke_provider_calls_total{provider=\"lever\",operation=\"ping\",outcome=\"ok\"} 3"
        ),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_fails_fast_and_closes() {
    let sandbox = provider().await;
    let config = OutboundConfig::default().with_provider("lever", |p| {
        p.retry.max_attempts = 1;
        p.breaker.window = Duration::from_secs(10);
        p.breaker.min_calls = 4;
        p.breaker.failure_rate = 0.5;
        p.breaker.open_duration = Duration::from_millis(300);
        p.breaker.half_open_probes = 1;
    });
    let outbound = OutboundHttp::new(config, Metrics::new()).expect("client");

    sandbox
        .faults
        .fail_next(100, StatusCode::SERVICE_UNAVAILABLE);
    for _ in 0..4 {
        let err = ping(&outbound, &sandbox).await.expect_err("503");
        assert!(err.is_retryable());
    }
    assert!(matches!(
        outbound.breaker_state("lever"),
        BreakerState::Open { .. }
    ));
    let seen = sandbox.log.len();
    let err = ping(&outbound, &sandbox).await.expect_err("open circuit");
    assert!(matches!(err, ProviderError::CircuitOpen { .. }), "{err:?}");
    assert_eq!(sandbox.log.len(), seen, "an open circuit sends nothing");

    // still failing when half-open: it opens again
    tokio::time::sleep(Duration::from_millis(350)).await;
    ping(&outbound, &sandbox).await.expect_err("probe fails");
    assert!(matches!(
        outbound.breaker_state("lever"),
        BreakerState::Open { .. }
    ));

    // the provider recovers: the probe closes the circuit
    sandbox.faults.clear();
    tokio::time::sleep(Duration::from_millis(350)).await;
    ping(&outbound, &sandbox).await.expect("probe succeeds");
    assert!(matches!(
        outbound.breaker_state("lever"),
        BreakerState::Closed
    ));
    ping(&outbound, &sandbox).await.expect("closed again");
}

db_tests!(retry_after_is_honored_and_counted);
