//! Loopback tests: a scripted axum server on 127.0.0.1:0 per test.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    response::Response,
    Router,
};
use parking_lot::Mutex;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    time::Instant,
};

use super::*;
use crate::metrics::Metrics;

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: String::new(),
        delay: Duration::ZERO,
    }
}

impl Reply {
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
    fn body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }
    fn delay(mut self, ms: u64) -> Self {
        self.delay = Duration::from_millis(ms);
        self
    }
}

/// The script and what the server saw; an empty script answers `200 {}`.
#[derive(Clone, Default)]
struct Server {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    hits: Arc<Mutex<Vec<Instant>>>,
}

impl Server {
    fn hits(&self) -> usize {
        self.hits.lock().len()
    }
    fn hit_times(&self) -> Vec<Instant> {
        self.hits.lock().clone()
    }
    fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.replies.lock().extend(replies);
    }
}

async fn scripted(State(server): State<Server>, _request: Request) -> Response {
    server.hits.lock().push(Instant::now());
    let next = server.replies.lock().pop_front();
    let reply = next.unwrap_or_else(|| reply(200).body("{}"));
    tokio::time::sleep(reply.delay).await;
    let mut response = Response::builder().status(reply.status);
    for (name, value) in reply.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(reply.body)).unwrap()
}

/// Starts a scripted server; returns its base URL.
async fn serve(replies: impl IntoIterator<Item = Reply>) -> (String, Server) {
    let server = Server::default();
    server.push(replies);
    let app = Router::new().fallback(scripted).with_state(server.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), server)
}

/// Tiny durations everywhere; a breaker that never opens and a wide budget.
fn fast_policy() -> ProviderPolicy {
    ProviderPolicy {
        request_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_attempts: 4,
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(10),
            max_retry_after: Duration::from_secs(5),
        },
        breaker: BreakerConfig {
            window: Duration::from_secs(10),
            min_calls: 1000,
            failure_rate: 0.5,
            open_duration: Duration::from_millis(300),
            half_open_probes: 1,
        },
        budget: BudgetConfig {
            requests: 1000,
            per: Duration::from_secs(1),
            burst: 1000,
            max_wait: Duration::from_secs(1),
        },
    }
}

fn outbound(edit: impl FnOnce(&mut ProviderPolicy)) -> (OutboundHttp, Metrics) {
    let mut defaults = fast_policy();
    edit(&mut defaults);
    let config = OutboundConfig {
        connect_timeout: Duration::from_secs(1),
        defaults,
        ..OutboundConfig::default()
    };
    let metrics = Metrics::new();
    (OutboundHttp::new(config, metrics.clone()).unwrap(), metrics)
}

fn get(provider: &'static str) -> ProviderCall<'static> {
    ProviderCall::idempotent(provider, "get_thing")
}

async fn send_get(
    http: &OutboundHttp,
    call: ProviderCall<'_>,
    url: &str,
) -> Result<ProviderResponse, ProviderError> {
    http.send(call, || http.client().get(url)).await
}

fn count(metrics: &Metrics, outcome: &str) -> u64 {
    let needle = format!("outcome=\"{outcome}\"");
    metrics
        .render()
        .lines()
        .filter(|l| l.starts_with("nextke_provider_calls_total") && l.contains(&needle))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let (base, server) = serve([reply(503), reply(503), reply(200).body(r#"{"id":7}"#)]).await;
    let (http, metrics) = outbound(|_| {});
    let response = send_get(&http, get("p"), &format!("{base}/x"))
        .await
        .unwrap();
    assert_eq!(response.attempts, 3);
    assert_eq!(response.json::<serde_json::Value>().unwrap()["id"], 7);
    assert_eq!(server.hits(), 3);
    assert_eq!(count(&metrics, "retryable"), 2);
    assert_eq!(count(&metrics, "ok"), 1);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let (base, server) = serve(vec![reply(500); 5]).await;
    let (http, _) = outbound(|p| p.retry.max_attempts = 3);
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Exhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(500));
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn waits_for_retry_after_on_429() {
    let (base, server) = serve([reply(429).header("retry-after", "1"), reply(200)]).await;
    let (http, _) = outbound(|_| {});
    let response = send_get(&http, get("p"), &base).await.unwrap();
    assert_eq!(response.attempts, 2);
    let times = server.hit_times();
    let gap = times[1] - times[0];
    assert!(gap >= Duration::from_millis(950), "{gap:?}");
}

#[tokio::test]
async fn long_retry_after_gives_up_and_pauses_the_budget() {
    let (base, server) = serve([reply(429).header("retry-after", "600")]).await;
    let (http, metrics) = outbound(|_| {});
    let call = get("p").with_credential("conn-1");
    let err = send_get(&http, call, &base).await.unwrap_err();
    assert!(matches!(err, ProviderError::Retryable { status: 429, .. }));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(600)));
    assert_eq!(server.hits(), 1);
    // concurrent callers with the same credential are held back, others are not
    let wait = http.budget_available("p", Some("conn-1")).unwrap_err();
    assert!(wait > Duration::from_secs(590), "{wait:?}");
    http.budget_available("p", Some("conn-2")).unwrap();
    let err = send_get(&http, call, &base).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    assert_eq!(server.hits(), 1);
    assert_eq!(count(&metrics, "rate_limited"), 1);
}

#[tokio::test]
async fn bad_request_is_permanent_and_not_retried() {
    let (base, server) = serve([reply(400).body(r#"{"message":"title is required"}"#)]).await;
    let (http, metrics) = outbound(|_| {});
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    match &err {
        ProviderError::Permanent { status, code, .. } => {
            assert_eq!(*status, 400);
            assert_eq!(code, &None, "free text is not a code");
            assert!(!err.to_string().contains("title is required"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(server.hits(), 1);
    assert_eq!(count(&metrics, "permanent"), 1);
}

/// A classifier that reads `{"throttled": true}` in a 400 as retryable.
fn throttled_400(
    provider: &str,
    status: reqwest::StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Option<ProviderError> {
    let throttled = serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("throttled")?
        .as_bool()?;
    (status == reqwest::StatusCode::BAD_REQUEST && throttled).then(|| ProviderError::Retryable {
        provider: provider.to_owned(),
        status: 400,
        code: None,
        retry_after,
    })
}

#[tokio::test]
async fn a_provider_classifier_is_asked_first_and_only_for_its_calls() {
    let throttled = r#"{"throttled":true}"#;
    let (base, server) = serve([
        reply(400).body(throttled),
        reply(200),
        reply(400).body(throttled),
        reply(400).body(r#"{"throttled":false}"#),
    ])
    .await;
    let (http, _) = outbound(|_| {});
    // with the classifier: the 400 is retryable, and retried (idempotent)
    let response = send_get(&http, get("p").with_classifier(throttled_400), &base)
        .await
        .unwrap();
    assert_eq!(response.attempts, 2);
    // without it the same answer is permanent, as before
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Permanent { status: 400, .. }),
        "{err:?}"
    );
    // the classifier declining leaves the shared classification
    let err = send_get(&http, get("p").with_classifier(throttled_400), &base)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::Permanent { status: 400, .. }),
        "{err:?}"
    );
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn unauthorized_and_invalid_grant_need_reauth() {
    let (base, server) = serve([
        reply(401),
        reply(400).body(r#"{"error":"invalid_grant","error_description":"expired"}"#),
    ])
    .await;
    let (http, metrics) = outbound(|_| {});
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    assert!(matches!(err, ProviderError::Reauth { status: 401, .. }));
    let err = http
        .send(ProviderCall::non_idempotent("p", "token"), || {
            http.client()
                .post(&base)
                .form(&[("grant_type", "refresh_token")])
        })
        .await
        .unwrap_err();
    assert!(err.is_reauth(), "{err:?}");
    assert_eq!(server.hits(), 2);
    assert_eq!(count(&metrics, "reauth"), 2);
}

#[tokio::test]
async fn non_idempotent_post_is_not_retried_on_500() {
    let (base, server) = serve([reply(500), reply(200)]).await;
    let (http, _) = outbound(|_| {});
    let call = ProviderCall::non_idempotent("p", "create");
    let err = http
        .send(call, || http.client().post(&base).body("{}"))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Retryable { status: 500, .. }));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn non_idempotent_post_is_retried_on_503_with_retry_after() {
    let (base, server) = serve([reply(503).header("retry-after", "0"), reply(201)]).await;
    let (http, _) = outbound(|_| {});
    let call = ProviderCall::non_idempotent("p", "create");
    let response = http
        .send(call, || http.client().post(&base).body("{}"))
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 201);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let (base, server) = serve([reply(200).delay(500), reply(200).delay(500)]).await;
    let (http, _) = outbound(|p| {
        p.request_timeout = Duration::from_millis(50);
        p.retry.max_attempts = 2;
    });
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    match err {
        ProviderError::Exhausted { attempts, last } => {
            assert_eq!(attempts, 2);
            assert!(matches!(
                *last,
                ProviderError::Transport {
                    kind: TransportKind::Timeout,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn connect_errors_are_retried_even_when_not_idempotent() {
    // a port nobody listens on any more
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (http, _) = outbound(|p| p.retry.max_attempts = 2);
    let url = format!("http://{addr}/token?client_secret=hunter2");
    let err = http
        .send(ProviderCall::non_idempotent("p", "token"), || {
            http.client()
                .post(&url)
                .bearer_auth("tok-hunter2")
                .body("code=hunter2")
        })
        .await
        .unwrap_err();
    match &err {
        ProviderError::Exhausted { attempts, last } => {
            assert_eq!(*attempts, 2);
            assert!(matches!(
                **last,
                ProviderError::Transport {
                    kind: TransportKind::Connect,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    // nothing secret in the error, whichever way it is printed
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains(&addr.port().to_string()), "{text}");
    }
}

/// A raw server that drops the first `drops` connections after reading the
/// request head, then answers 200.
async fn dropping_server(drops: usize) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(0usize));
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = {
                let mut seen = counter.lock();
                *seen += 1;
                *seen
            };
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            if n <= drops {
                drop(socket);
                continue;
            }
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        }
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn connection_closed_mid_request_is_retried() {
    let (base, seen) = dropping_server(1).await;
    let (http, _) = outbound(|_| {});
    let response = send_get(&http, get("p"), &base).await.unwrap();
    assert_eq!(response.attempts, 2);
    assert_eq!(&response.body[..], b"ok");
    assert_eq!(*seen.lock(), 2);
}

#[tokio::test]
async fn connection_closed_is_not_retried_when_not_idempotent() {
    let (base, seen) = dropping_server(1).await;
    let (http, _) = outbound(|_| {});
    let err = http
        .send(ProviderCall::non_idempotent("p", "create"), || {
            http.client().post(&base).body("{}")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Transport {
                kind: TransportKind::Closed,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(*seen.lock(), 1);
}

fn breaking(p: &mut ProviderPolicy) {
    p.retry.max_attempts = 1;
    p.breaker.min_calls = 2;
    p.breaker.failure_rate = 0.5;
    p.breaker.open_duration = Duration::from_millis(300);
}

#[tokio::test]
async fn breaker_opens_fails_fast_half_opens_and_closes() {
    let (base, server) = serve([reply(500), reply(502)]).await;
    let (http, metrics) = outbound(breaking);
    for _ in 0..2 {
        send_get(&http, get("p"), &base).await.unwrap_err();
    }
    assert!(matches!(http.breaker_state("p"), BreakerState::Open { .. }));
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    match err {
        ProviderError::CircuitOpen { retry_in, .. } => {
            assert!(retry_in <= Duration::from_millis(300))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.hits(),
        2,
        "an open circuit does not touch the server"
    );
    assert_eq!(count(&metrics, "circuit_open"), 1);
    // other providers are not affected
    assert_eq!(http.breaker_state("other"), BreakerState::Closed);

    tokio::time::sleep(Duration::from_millis(320)).await;
    assert_eq!(http.breaker_state("p"), BreakerState::HalfOpen);
    send_get(&http, get("p"), &base).await.unwrap();
    assert_eq!(http.breaker_state("p"), BreakerState::Closed);
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn breaker_reopens_on_probe_failure() {
    let (base, server) = serve([reply(503), reply(503), reply(500)]).await;
    let (http, _) = outbound(breaking);
    for _ in 0..2 {
        send_get(&http, get("p"), &base).await.unwrap_err();
    }
    tokio::time::sleep(Duration::from_millis(320)).await;
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    assert!(matches!(err, ProviderError::Retryable { status: 500, .. }));
    assert!(matches!(http.breaker_state("p"), BreakerState::Open { .. }));
    let err = send_get(&http, get("p"), &base).await.unwrap_err();
    assert!(matches!(err, ProviderError::CircuitOpen { .. }));
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn client_errors_do_not_open_the_breaker() {
    let (base, _server) = serve(vec![reply(404); 4].into_iter().chain([reply(429)])).await;
    let (http, _) = outbound(breaking);
    for _ in 0..5 {
        send_get(&http, get("p"), &base).await.unwrap_err();
    }
    assert_eq!(http.breaker_state("p"), BreakerState::Closed);
}

#[tokio::test]
async fn rate_budget_paces_requests_per_second() {
    let (base, server) = serve([]).await;
    let (http, _) = outbound(|p| {
        p.budget.requests = 10;
        p.budget.burst = 1;
        p.budget.max_wait = Duration::from_secs(2);
    });
    let call = get("p").with_credential("conn-1");
    let start = Instant::now();
    for _ in 0..4 {
        send_get(&http, call, &base).await.unwrap();
    }
    // one at once, then one every 100 ms
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(280), "{elapsed:?}");
    let times = server.hit_times();
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(90));
    }
}

#[tokio::test]
async fn rate_budget_fails_fast_beyond_max_wait() {
    let (base, server) = serve([]).await;
    let (http, metrics) = outbound(|p| {
        p.budget.requests = 1;
        p.budget.burst = 1;
        p.budget.max_wait = Duration::from_millis(10);
    });
    let call = get("p").with_credential("conn-1");
    send_get(&http, call, &base).await.unwrap();
    let err = send_get(&http, call, &base).await.unwrap_err();
    match &err {
        ProviderError::RateLimited { retry_in, .. } => {
            assert!(*retry_in > Duration::from_millis(500))
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(server.hits(), 1);
    assert_eq!(count(&metrics, "rate_limited"), 1);
    // another credential has its own budget
    send_get(&http, get("p").with_credential("conn-2"), &base)
        .await
        .unwrap();
}

#[tokio::test]
async fn per_provider_overrides_apply() {
    let (base, server) = serve([reply(500), reply(500), reply(500)]).await;
    let config = OutboundConfig {
        defaults: fast_policy(),
        ..OutboundConfig::default()
    }
    .with_provider("lever", |p| p.retry.max_attempts = 1);
    let http = OutboundHttp::new(config, Metrics::new()).unwrap();
    let err = send_get(&http, get("lever"), &base).await.unwrap_err();
    assert!(matches!(err, ProviderError::Retryable { status: 500, .. }));
    let response = send_get(&http, get("greenhouse"), &base).await.unwrap();
    assert_eq!(response.attempts, 3);
    assert_eq!(server.hits(), 4);
}
