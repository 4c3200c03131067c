//! Tests of the sandbox server over real loopback HTTP.

use std::time::{Duration, Instant, SystemTime};

use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use axum::Router;

use crate::{FaultKind, RetryAfter, SandboxHandle, SandboxServer};

async fn start() -> SandboxHandle {
    let router = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route("/v2/me", get(|| async { "me" }))
        .route("/echo", post(|body: String| async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    SandboxServer::new(router)
        .with_admin_routes()
        .start(listener)
        .unwrap()
}

#[tokio::test]
async fn serves_router_and_logs_requests() {
    let sb = start().await;
    assert!(sb.base_url().starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();
    let resp = client
        .post(sb.url("/echo?x=1"))
        .bearer_auth("not-printed")
        .form(&[("a", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "a=b");
    assert_eq!(sb.log.count(Method::POST, "/echo"), 1);
    let rec = sb.log.last().unwrap();
    assert_eq!(rec.query.as_deref(), Some("x=1"));
    assert_eq!(rec.form_field("a").as_deref(), Some("b"));
    assert_eq!(rec.authorization_scheme.as_deref(), Some("Bearer"));
    assert_eq!(
        rec.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let debug = format!("{rec:?}");
    assert!(!debug.contains("not-printed") && !debug.contains("a=b"));
    sb.log.clear();
    assert!(sb.log.is_empty());
}

#[tokio::test]
async fn std_listener_and_shutdown_close_the_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sb = SandboxServer::new(Router::new().route("/hello", get(|| async { "hello" })))
        .start_std(listener)
        .unwrap();
    let addr = sb.addr;
    let body = reqwest::get(sb.url("/hello")).await.unwrap().text().await;
    assert_eq!(body.unwrap(), "hello");
    sb.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn fail_next_answers_503_then_recovers() {
    let sb = start().await;
    sb.faults.fail_next(2, StatusCode::SERVICE_UNAVAILABLE);
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let resp = client.get(sb.url("/hello")).send().await.unwrap();
        assert_eq!(resp.status(), 503);
    }
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sb.faults.failed_count(), 2);
    assert_eq!(sb.log.count(Method::GET, "/hello"), 3);
    assert_eq!(sb.log.requests()[0].fault, Some(FaultKind::Failed));
}

#[tokio::test]
async fn throttle_sends_retry_after_seconds_and_http_date() {
    let sb = start().await;
    let client = reqwest::Client::new();

    sb.faults.throttle_next(1, RetryAfter::Seconds(7));
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");

    let at = SystemTime::now() + Duration::from_secs(120);
    sb.faults.throttle_next(1, RetryAfter::HttpDate(at));
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let value = resp.headers()["retry-after"].to_str().unwrap().to_owned();
    let parsed = httpdate::parse_http_date(&value).unwrap();
    let diff = parsed
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    assert!(diff > Duration::from_secs(100), "{value}");

    sb.faults.throttle_next(1, RetryAfter::None);
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());

    assert_eq!(sb.faults.throttled_count(), 3);
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn dropped_connection_is_a_request_error_on_a_pooled_keep_alive_client() {
    let sb = start().await;
    let client = reqwest::Client::new();
    // Warm the pool so the faulted request goes over a reused keep-alive connection.
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    assert_eq!(resp.text().await.unwrap(), "hello");

    sb.faults.drop_next(1);
    let err = client
        .get(sb.url("/hello"))
        .send()
        .await
        .expect_err("dropped connection must not produce a response");
    assert!(err.status().is_none());
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(sb.faults.dropped_count(), 1);

    // The client recovers on a fresh connection.
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn dropped_request_is_an_error_over_http2_too() {
    let sb = start().await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    sb.faults.drop_next(1);
    let err = client.get(sb.url("/hello")).send().await.unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn dropped_post_is_a_request_error() {
    let sb = start().await;
    sb.faults.drop_next(1);
    let err = reqwest::Client::new()
        .post(sb.url("/echo"))
        .body("payload")
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert_eq!(sb.log.requests()[0].body, "payload");
}

#[tokio::test]
async fn latency_delays_answers() {
    let sb = start().await;
    sb.faults.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    let resp = reqwest::get(sb.url("/hello")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(sb.faults.delayed_count(), 1);

    sb.faults.set_latency(Duration::ZERO);
    let started = Instant::now();
    reqwest::get(sb.url("/hello")).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn rate_limit_answers_429_beyond_the_limit() {
    let sb = start().await;
    sb.faults
        .set_rate_limit(Some((3, Duration::from_millis(1500))));
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let resp = client.get(sb.url("/hello")).send().await.unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            retry_after = resp.headers().get("retry-after").cloned();
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    // 1.5 s window, rounded up: "2" unless the machine stalled for half a second.
    let retry_after = retry_after.unwrap();
    assert!(retry_after == "2" || retry_after == "1", "{retry_after:?}");
    assert_eq!(sb.faults.rate_limited_count(), 2);

    tokio::time::sleep(Duration::from_millis(1600)).await;
    let resp = client.get(sb.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    sb.faults.clear();
    for _ in 0..5 {
        let resp = client.get(sb.url("/hello")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
}

#[tokio::test]
async fn path_prefix_and_admin_route() {
    let sb = start().await;
    let client = reqwest::Client::new();
    let resp = client
        .post(sb.url("/__sandbox/faults"))
        .json(&serde_json::json!({
            "path_prefix": "/v2/",
            "fail_next": {"n": 1, "status": 500},
            "throttle_next": {"n": 1, "retry_after_secs": 3}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        client.get(sb.url("/hello")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        client.get(sb.url("/v2/me")).send().await.unwrap().status(),
        500
    );
    let resp = client.get(sb.url("/v2/me")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");

    let counters: serde_json::Value = client
        .post(sb.url("/__sandbox/faults"))
        .json(&serde_json::json!({"clear": true, "drop_next": 0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["failed"], 1);
    assert_eq!(counters["throttled"], 1);
    // Admin requests are neither faulted nor logged.
    assert_eq!(sb.log.len(), 3);

    let resp = client
        .post(sb.url("/__sandbox/faults"))
        .json(&serde_json::json!({"fail_next": {"n": 1, "status": 1000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
