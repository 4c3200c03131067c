//! Switchable faults a sandbox server applies before its router sees a request.
//!
//! A [`Faults`] value is a cheap, cloneable handle to shared state: a test keeps
//! one clone and flips switches while the server (holding another clone) is
//! answering requests. Scripted faults (`drop_next`, `fail_next`,
//! `throttle_next`) are consumed one per matching request, in that order of
//! precedence, and do not consume the rate-limit budget; the rate limiter then
//! counts every request that reaches it. An echoing failure
//! (`echo_credentials_next`, see [`super::echo`]) comes right after
//! `fail_next`; holds (`hold_next`, see [`super::hold`]) apply before any
//! fault, whatever the path prefix.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use parking_lot::Mutex;

use super::echo::EchoFormat;
use super::hold::{self, Hold, PendingHold, Release};

/// What a throttled (429) answer says in its `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>` (delta-seconds form).
    Seconds(u64),
    /// `Retry-After: <IMF-fixdate>` (HTTP-date form), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    HttpDate(SystemTime),
    /// No `Retry-After` header at all, as some providers do.
    None,
}

impl RetryAfter {
    /// The header value, or `None` when no header should be sent.
    pub fn header_value(&self) -> Option<String> {
        match self {
            RetryAfter::Seconds(s) => Some(s.to_string()),
            RetryAfter::HttpDate(t) => Some(httpdate::fmt_http_date(*t)),
            RetryAfter::None => None,
        }
    }
}

/// Which fault answered a request; recorded in the [`RequestLog`](super::RequestLog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Answered by `fail_next` with the configured status.
    Failed,
    /// Answered 429 by `throttle_next`.
    Throttled,
    /// Answered 429 by the rate limiter.
    RateLimited,
    /// The connection was dropped without an answer.
    Dropped,
    /// Answered by `echo_credentials_next` with the request's credentials.
    Echoed,
}

/// Switches for latency, scripted failures, throttling, dropped connections
/// and a rolling-window rate limit. Clone it freely: all clones share state.
#[derive(Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<FaultState>>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct FaultState {
    path_prefix: Option<String>,
    latency: Option<Duration>,
    fail: Option<(u32, StatusCode)>,
    throttle: Option<(u32, RetryAfter)>,
    drop_remaining: u32,
    rate_limit: Option<RateLimit>,
    echo: Option<(u32, StatusCode, EchoFormat)>,
    holds: Vec<PendingHold>,
    echoed: Vec<String>,
}

struct RateLimit {
    limit: u32,
    window: Duration,
    hits: VecDeque<Instant>,
}

#[derive(Default)]
struct Counters {
    failed: AtomicU64,
    throttled: AtomicU64,
    rate_limited: AtomicU64,
    dropped: AtomicU64,
    delayed: AtomicU64,
    echoed: AtomicU64,
}

/// What the server must do with one request, decided by [`Faults::decide`].
pub(crate) struct FaultDecision {
    /// Sleep this long before acting.
    pub latency: Option<Duration>,
    /// The action after the sleep.
    pub action: FaultAction,
    /// Wait for this release first (a hold matched).
    pub hold: Option<Release>,
}

/// The action part of a [`FaultDecision`].
pub(crate) enum FaultAction {
    /// Hand the request to the router.
    Pass,
    /// Close the connection without answering.
    Drop,
    /// Answer with this status and optional `Retry-After` value.
    Respond {
        kind: FaultKind,
        status: StatusCode,
        retry_after: Option<String>,
    },
    /// Answer with this status and the request's credentials in the body.
    Echo {
        status: StatusCode,
        format: EchoFormat,
    },
}

impl FaultAction {
    /// The fault kind, if this action is a fault.
    pub fn kind(&self) -> Option<FaultKind> {
        match self {
            FaultAction::Pass => None,
            FaultAction::Drop => Some(FaultKind::Dropped),
            FaultAction::Respond { kind, .. } => Some(*kind),
            FaultAction::Echo { .. } => Some(FaultKind::Echoed),
        }
    }
}

impl Faults {
    /// A fresh set of switches, all off.
    pub fn new() -> Self {
        Self::default()
    }

    /// Apply faults only to request paths starting with `prefix` (`None`: all paths).
    pub fn set_path_prefix(&self, prefix: Option<&str>) {
        self.state.lock().path_prefix = prefix.map(str::to_owned);
    }

    /// Delay every matching request by `latency` (`Duration::ZERO` turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().latency = (!latency.is_zero()).then_some(latency);
    }

    /// Answer the next `n` matching requests with `status` (e.g. 500 or 503).
    /// Replaces any earlier `fail_next` still pending.
    pub fn fail_next(&self, n: u32, status: StatusCode) {
        self.state.lock().fail = (n > 0).then_some((n, status));
    }

    /// Answer the next `n` matching requests with 429 and the given `Retry-After`.
    /// Replaces any earlier `throttle_next` still pending.
    pub fn throttle_next(&self, n: u32, retry_after: RetryAfter) {
        self.state.lock().throttle = (n > 0).then_some((n, retry_after));
    }

    /// Answer the next `n` matching requests with `status` and a body (and a
    /// `WWW-Authenticate` header) echoing the request's bearer token and form
    /// secrets, as a careless provider or proxy does. Replaces any earlier
    /// `echo_credentials_next` still pending.
    pub fn echo_credentials_next(&self, n: u32, status: StatusCode, format: EchoFormat) {
        self.state.lock().echo = (n > 0).then_some((n, status, format));
    }

    /// Every secret an echoing answer sent back so far, in order.
    pub fn echoed_secrets(&self) -> Vec<String> {
        self.state.lock().echoed.clone()
    }

    pub(crate) fn record_echoed(&self, secrets: &[String]) {
        self.state.lock().echoed.extend(secrets.iter().cloned());
    }

    /// Hold the answer of the next request for `path` whose query contains
    /// `query_contains` (any query when `None`) until the returned [`Hold`]
    /// is released or dropped.
    pub fn hold_next(&self, path: &str, query_contains: Option<&str>) -> Hold {
        let (hold, pending) = hold::arm(path, query_contains);
        self.state.lock().holds.push(pending);
        hold
    }

    /// Close the connection without any answer for the next `n` matching requests.
    pub fn drop_next(&self, n: u32) {
        self.state.lock().drop_remaining = n;
    }

    /// Allow at most `requests` matching requests per rolling `window`; beyond
    /// that answer 429 with `Retry-After` in seconds. `None` turns it off.
    pub fn set_rate_limit(&self, limit: Option<(u32, Duration)>) {
        self.state.lock().rate_limit = limit.map(|(limit, window)| RateLimit {
            limit,
            window,
            hits: VecDeque::new(),
        });
    }

    /// Turn every switch off and forget armed holds (counters and echoed
    /// secrets are kept; see [`Faults::reset_counters`]).
    pub fn clear(&self) {
        let mut st = self.state.lock();
        let echoed = std::mem::take(&mut st.echoed);
        *st = FaultState {
            echoed,
            ..FaultState::default()
        };
    }

    /// Set every counter back to zero.
    pub fn reset_counters(&self) {
        for c in self.counters.all() {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// How many requests were answered by `fail_next`.
    pub fn failed_count(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    /// How many requests were answered 429 by `throttle_next`.
    pub fn throttled_count(&self) -> u64 {
        self.counters.throttled.load(Ordering::Relaxed)
    }

    /// How many requests were answered 429 by the rate limiter.
    pub fn rate_limited_count(&self) -> u64 {
        self.counters.rate_limited.load(Ordering::Relaxed)
    }

    /// How many connections were dropped by `drop_next`.
    pub fn dropped_count(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// How many requests were answered by `echo_credentials_next`.
    pub fn echoed_count(&self) -> u64 {
        self.counters.echoed.load(Ordering::Relaxed)
    }

    /// How many requests were delayed by `set_latency`.
    pub fn delayed_count(&self) -> u64 {
        self.counters.delayed.load(Ordering::Relaxed)
    }

    /// Decide what to do with a request for `path` and `query`, consuming one
    /// hold, one scripted fault or one rate-limit slot if it applies.
    pub(crate) fn decide(&self, path: &str, query: Option<&str>) -> FaultDecision {
        let mut st = self.state.lock();
        let hold = st
            .holds
            .iter()
            .position(|h| h.matches(path, query))
            .map(|i| st.holds.remove(i).take());
        if let Some(prefix) = &st.path_prefix {
            if !path.starts_with(prefix.as_str()) {
                return FaultDecision {
                    latency: None,
                    action: FaultAction::Pass,
                    hold,
                };
            }
        }
        let latency = st.latency;
        if latency.is_some() {
            self.counters.delayed.fetch_add(1, Ordering::Relaxed);
        }
        let action = st.next_action(&self.counters);
        FaultDecision {
            latency,
            action,
            hold,
        }
    }
}

impl FaultState {
    fn next_action(&mut self, counters: &Counters) -> FaultAction {
        if self.drop_remaining > 0 {
            self.drop_remaining -= 1;
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            return FaultAction::Drop;
        }
        if let Some((n, status)) = self.fail.take() {
            self.fail = (n > 1).then_some((n - 1, status));
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return FaultAction::Respond {
                kind: FaultKind::Failed,
                status,
                retry_after: None,
            };
        }
        if let Some((n, status, format)) = self.echo.take() {
            self.echo = (n > 1).then_some((n - 1, status, format));
            counters.echoed.fetch_add(1, Ordering::Relaxed);
            return FaultAction::Echo { status, format };
        }
        if let Some((n, retry_after)) = self.throttle.take() {
            self.throttle = (n > 1).then_some((n - 1, retry_after));
            counters.throttled.fetch_add(1, Ordering::Relaxed);
            return FaultAction::Respond {
                kind: FaultKind::Throttled,
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: retry_after.header_value(),
            };
        }
        if let Some(rl) = &mut self.rate_limit {
            if let Some(wait) = rl.hit(Instant::now()) {
                counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                return FaultAction::Respond {
                    kind: FaultKind::RateLimited,
                    status: StatusCode::TOO_MANY_REQUESTS,
                    retry_after: Some(wait.to_string()),
                };
            }
        }
        FaultAction::Pass
    }
}

impl RateLimit {
    /// Record a hit at `now`; `Some(seconds to wait)` when over the limit.
    fn hit(&mut self, now: Instant) -> Option<u64> {
        while let Some(first) = self.hits.front() {
            if now.duration_since(*first) >= self.window {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        if self.hits.len() < self.limit as usize {
            self.hits.push_back(now);
            return None;
        }
        let oldest = self.hits.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        // Round up so a client that waits exactly this long is let through.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Some(secs.max(1))
    }
}

impl Counters {
    fn all(&self) -> [&AtomicU64; 6] {
        [
            &self.echoed,
            &self.failed,
            &self.throttled,
            &self.rate_limited,
            &self.dropped,
            &self.delayed,
        ]
    }
}

/// The HTTP answer for a fault: a small JSON body naming the fault.
pub(crate) fn fault_response(
    kind: FaultKind,
    status: StatusCode,
    retry_after: Option<String>,
) -> Response<Body> {
    let body = serde_json::json!({
        "status": status.as_u16(),
        "message": match kind {
            FaultKind::Throttled | FaultKind::RateLimited => "too many requests",
            _ => "sandbox fault",
        },
    });
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, value);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_window_counts_and_reports_wait() {
        let mut rl = RateLimit {
            limit: 2,
            window: Duration::from_secs(10),
            hits: VecDeque::new(),
        };
        let t0 = Instant::now();
        assert_eq!(rl.hit(t0), None);
        assert_eq!(rl.hit(t0 + Duration::from_secs(1)), None);
        assert_eq!(rl.hit(t0 + Duration::from_millis(2500)), Some(8));
        // The first hit leaves the window after 10 s.
        assert_eq!(rl.hit(t0 + Duration::from_secs(10)), None);
    }

    #[test]
    fn scripted_faults_are_consumed_in_order_and_counted() {
        let f = Faults::new();
        f.drop_next(1);
        f.fail_next(2, StatusCode::SERVICE_UNAVAILABLE);
        f.throttle_next(1, RetryAfter::Seconds(3));
        let kinds: Vec<_> = (0..5).map(|_| f.decide("/x", None).action.kind()).collect();
        assert_eq!(
            kinds,
            vec![
                Some(FaultKind::Dropped),
                Some(FaultKind::Failed),
                Some(FaultKind::Failed),
                Some(FaultKind::Throttled),
                None
            ]
        );
        assert_eq!(
            (f.dropped_count(), f.failed_count(), f.throttled_count()),
            (1, 2, 1)
        );
    }

    #[test]
    fn echo_follows_fail_and_holds_match_path_and_query() {
        let f = Faults::new();
        f.echo_credentials_next(1, StatusCode::UNAUTHORIZED, EchoFormat::Json);
        f.fail_next(1, StatusCode::BAD_GATEWAY);
        let kinds: Vec<_> = (0..3).map(|_| f.decide("/x", None).action.kind()).collect();
        assert_eq!(
            kinds,
            vec![Some(FaultKind::Failed), Some(FaultKind::Echoed), None]
        );
        assert_eq!(f.echoed_count(), 1);
        let _hold = f.hold_next("/rest/x", Some("domain=SKILLS"));
        assert!(f.decide("/rest/x", Some("domain=PROFILE")).hold.is_none());
        assert!(f.decide("/rest/y", Some("domain=SKILLS")).hold.is_none());
        assert!(f
            .decide("/rest/x", Some("q=1&domain=SKILLS"))
            .hold
            .is_some());
        assert!(
            f.decide("/rest/x", Some("domain=SKILLS")).hold.is_none(),
            "once"
        );
    }

    #[test]
    fn path_prefix_limits_faults() {
        let f = Faults::new();
        f.set_path_prefix(Some("/v2/"));
        f.fail_next(1, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(f.decide("/token", None).action.kind().is_none());
        assert_eq!(
            f.decide("/v2/me", None).action.kind(),
            Some(FaultKind::Failed)
        );
    }

    #[test]
    fn http_date_retry_after_is_imf_fixdate() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            RetryAfter::HttpDate(t).header_value().as_deref(),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
    }
}
