//! Harvest's rate limit: a fixed window per client (verified for v1 in
//! GH-DOCS: "per 10 seconds", 50 in the example; the v3 window is NOT
//! verified, integrators speak of 30 s). Every counted answer carries
//! `X-RateLimit-Limit` and `X-RateLimit-Remaining`; beyond the limit the
//! answer is `429` with `Retry-After` (seconds) and `X-RateLimit-Reset`
//! and, as GH-DOCS says, without the two other headers. `X-RateLimit-Reset`
//! is written as Unix seconds (the docs say "timestamp", format NOT
//! verified). Only authenticated `/v3/` requests count.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue};
use parking_lot::Mutex;

/// The outcome of one request against the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Let through; header values.
    Allowed { limit: u32, remaining: u32 },
    /// Over the limit.
    Limited { retry_after: u64, reset_unix: u64 },
}

impl Verdict {
    /// Add this verdict's headers to an answer.
    pub(crate) fn write_headers(self, headers: &mut HeaderMap) {
        match self {
            Verdict::Allowed { limit, remaining } => {
                headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
                headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            }
            Verdict::Limited {
                retry_after,
                reset_unix,
            } => {
                headers.insert("retry-after", HeaderValue::from(retry_after));
                headers.insert("x-ratelimit-reset", HeaderValue::from(reset_unix));
            }
        }
    }
}

struct Window {
    started: Instant,
    count: u32,
}

/// Fixed windows, one per client id.
pub(crate) struct FixedWindow {
    settings: Mutex<(u32, Duration)>,
    windows: Mutex<HashMap<String, Window>>,
    counted: AtomicU64,
    limited: AtomicU64,
}

impl FixedWindow {
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            settings: Mutex::new((limit, window)),
            windows: Mutex::new(HashMap::new()),
            counted: AtomicU64::new(0),
            limited: AtomicU64::new(0),
        }
    }

    /// New limit and window; every client's window starts afresh.
    pub(crate) fn set(&self, limit: u32, window: Duration) {
        *self.settings.lock() = (limit, window);
        self.windows.lock().clear();
    }

    /// Count one request of `client` at `now`.
    pub(crate) fn hit(&self, client: &str, now: Instant) -> Verdict {
        let (limit, window) = *self.settings.lock();
        self.counted.fetch_add(1, Ordering::Relaxed);
        let mut windows = self.windows.lock();
        let w = windows.entry(client.to_owned()).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(w.started) >= window {
            *w = Window {
                started: now,
                count: 0,
            };
        }
        if w.count < limit {
            w.count += 1;
            return Verdict::Allowed {
                limit,
                remaining: limit - w.count,
            };
        }
        self.limited.fetch_add(1, Ordering::Relaxed);
        let left = window.saturating_sub(now.duration_since(w.started));
        // Round up: waiting exactly this long reaches the next window.
        let retry_after = (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1);
        let reset_unix = (SystemTime::now() + left)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        Verdict::Limited {
            retry_after,
            reset_unix,
        }
    }

    /// Requests counted (allowed or not).
    pub(crate) fn counted(&self) -> u64 {
        self.counted.load(Ordering::Relaxed)
    }

    /// Requests answered 429.
    pub(crate) fn limited(&self) -> u64 {
        self.limited.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_counts_down_then_limits_until_it_ends() {
        let rl = FixedWindow::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(
            rl.hit("a", t0),
            Verdict::Allowed {
                limit: 2,
                remaining: 1
            }
        );
        assert_eq!(
            rl.hit("a", t0),
            Verdict::Allowed {
                limit: 2,
                remaining: 0
            }
        );
        // Another client has its own window.
        assert!(matches!(rl.hit("b", t0), Verdict::Allowed { .. }));
        match rl.hit("a", t0 + Duration::from_millis(2500)) {
            Verdict::Limited { retry_after, .. } => assert_eq!(retry_after, 8),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            rl.hit("a", t0 + Duration::from_secs(10)),
            Verdict::Allowed { remaining: 1, .. }
        ));
        assert_eq!((rl.counted(), rl.limited()), (5, 1));
    }
}
