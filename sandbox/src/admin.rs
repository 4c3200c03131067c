//! Admin routes to flip a running sandbox's fault switches with curl.
//!
//! ```text
//! curl -X POST localhost:50100/__sandbox/faults \
//!   -H 'content-type: application/json' \
//!   -d '{"throttle_next": {"n": 2, "retry_after_secs": 5}}'
//! curl -X POST localhost:50101/__sandbox/faults \
//!   -H 'content-type: application/json' \
//!   -d '{"echo_credentials_next": {"n": 1, "status": 401}}'
//! ```
//!
//! `clear` is applied first, then every other field present. The answer (and
//! `GET /__sandbox/faults`) is the fault counters as JSON.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::echo::EchoFormat;
use super::faults::{Faults, RetryAfter};

/// The JSON body of `POST /__sandbox/faults`; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsRequest {
    /// Delay every matching request by this many milliseconds (0 turns it off).
    pub latency_ms: Option<u64>,
    /// Answer the next `n` requests with `status`.
    pub fail_next: Option<FailNext>,
    /// Answer the next `n` requests with 429.
    pub throttle_next: Option<ThrottleNext>,
    /// Answer the next `n` requests with `status` echoing their credentials.
    pub echo_credentials_next: Option<EchoNext>,
    /// Drop the connection for the next this many requests.
    pub drop_next: Option<u32>,
    /// Rolling-window rate limit; `{"requests": 0}` is refused, use `clear`.
    pub rate_limit: Option<RateLimitRequest>,
    /// Apply faults only to paths starting with this prefix (`""` for all).
    pub path_prefix: Option<String>,
    /// Turn every switch off first.
    #[serde(default)]
    pub clear: bool,
}

/// `fail_next` of [`FaultsRequest`].
#[derive(Debug, Deserialize)]
pub struct FailNext {
    /// How many requests.
    pub n: u32,
    /// The HTTP status to answer (e.g. 500, 503).
    pub status: u16,
}

/// `echo_credentials_next` of [`FaultsRequest`].
#[derive(Debug, Deserialize)]
pub struct EchoNext {
    /// How many requests.
    pub n: u32,
    /// The HTTP status to answer (e.g. 400, 401, 500).
    pub status: u16,
    /// `text` for a plain-text body; JSON otherwise.
    #[serde(default)]
    pub text: bool,
}

/// `throttle_next` of [`FaultsRequest`].
#[derive(Debug, Deserialize)]
pub struct ThrottleNext {
    /// How many requests.
    pub n: u32,
    /// `Retry-After` in seconds; absent means no header.
    pub retry_after_secs: Option<u64>,
}

/// `rate_limit` of [`FaultsRequest`].
#[derive(Debug, Deserialize)]
pub struct RateLimitRequest {
    /// Requests allowed per window.
    pub requests: u32,
    /// Window length in milliseconds.
    pub window_ms: u64,
}

/// Fault counters, as answered by the admin routes.
#[derive(Debug, Serialize)]
pub struct FaultCounters {
    /// Requests answered by `fail_next`.
    pub failed: u64,
    /// Requests answered 429 by `throttle_next`.
    pub throttled: u64,
    /// Requests answered 429 by the rate limiter.
    pub rate_limited: u64,
    /// Connections dropped.
    pub dropped: u64,
    /// Requests delayed.
    pub delayed: u64,
    /// Requests answered by `echo_credentials_next`.
    pub echoed: u64,
}

/// The admin router for one server's faults.
pub(crate) fn router(faults: Faults) -> Router {
    Router::new()
        .route("/__sandbox/faults", get(counters).post(apply))
        .with_state(faults)
}

async fn counters(State(faults): State<Faults>) -> Json<FaultCounters> {
    Json(snapshot(&faults))
}

async fn apply(State(faults): State<Faults>, Json(req): Json<FaultsRequest>) -> Response {
    let fail_status = match &req.fail_next {
        Some(f) => match StatusCode::from_u16(f.status) {
            Ok(s) => Some(s),
            Err(_) => return (StatusCode::BAD_REQUEST, "invalid status").into_response(),
        },
        None => None,
    };
    let echo_status = match &req.echo_credentials_next {
        Some(e) => match StatusCode::from_u16(e.status) {
            Ok(s) => Some(s),
            Err(_) => return (StatusCode::BAD_REQUEST, "invalid status").into_response(),
        },
        None => None,
    };
    if matches!(&req.rate_limit, Some(r) if r.requests == 0 || r.window_ms == 0) {
        return (
            StatusCode::BAD_REQUEST,
            "rate_limit needs requests and window_ms > 0",
        )
            .into_response();
    }
    if req.clear {
        faults.clear();
    }
    if let Some(prefix) = &req.path_prefix {
        faults.set_path_prefix((!prefix.is_empty()).then_some(prefix.as_str()));
    }
    if let Some(ms) = req.latency_ms {
        faults.set_latency(Duration::from_millis(ms));
    }
    if let (Some(f), Some(status)) = (&req.fail_next, fail_status) {
        faults.fail_next(f.n, status);
    }
    if let Some(t) = &req.throttle_next {
        let retry_after = t
            .retry_after_secs
            .map_or(RetryAfter::None, RetryAfter::Seconds);
        faults.throttle_next(t.n, retry_after);
    }
    if let (Some(e), Some(status)) = (&req.echo_credentials_next, echo_status) {
        let format = if e.text {
            EchoFormat::Text
        } else {
            EchoFormat::Json
        };
        faults.echo_credentials_next(e.n, status, format);
    }
    if let Some(n) = req.drop_next {
        faults.drop_next(n);
    }
    if let Some(r) = &req.rate_limit {
        faults.set_rate_limit(Some((r.requests, Duration::from_millis(r.window_ms))));
    }
    tracing::info!(clear = req.clear, "sandbox faults updated");
    Json(snapshot(&faults)).into_response()
}

fn snapshot(faults: &Faults) -> FaultCounters {
    FaultCounters {
        failed: faults.failed_count(),
        throttled: faults.throttled_count(),
        rate_limited: faults.rate_limited_count(),
        dropped: faults.dropped_count(),
        delayed: faults.delayed_count(),
        echoed: faults.echoed_count(),
    }
}
