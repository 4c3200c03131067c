//! Lever's Data API rate limit as connector docs describe it (NOT verified
//! in Lever's own pages): a token bucket per API key, 10 requests a second
//! steady with bursts to 20; beyond it `429` without `Retry-After` (none is
//! documented). Every authenticated request's arrival is recorded, so a
//! test or bench can compute the rate a client really used.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key, with counters and arrival times.
pub(crate) struct TokenBuckets {
    settings: Mutex<(f64, u32)>,
    buckets: Mutex<HashMap<String, Bucket>>,
    arrivals: Mutex<Vec<Instant>>,
    counted: AtomicU64,
    limited: AtomicU64,
}

impl TokenBuckets {
    /// `per_second` refill, `burst` capacity (buckets start full).
    pub(crate) fn new(per_second: f64, burst: u32) -> Self {
        Self {
            settings: Mutex::new((per_second, burst)),
            buckets: Mutex::new(HashMap::new()),
            arrivals: Mutex::new(Vec::new()),
            counted: AtomicU64::new(0),
            limited: AtomicU64::new(0),
        }
    }

    /// New settings; every bucket starts full again.
    pub(crate) fn set(&self, per_second: f64, burst: u32) {
        *self.settings.lock() = (per_second, burst);
        self.buckets.lock().clear();
    }

    /// Count one request of `key` at `now`; `false` when it must get 429.
    pub(crate) fn take(&self, key: &str, now: Instant) -> bool {
        let (rate, burst) = *self.settings.lock();
        self.counted.fetch_add(1, Ordering::Relaxed);
        self.arrivals.lock().push(now);
        let mut buckets = self.buckets.lock();
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: f64::from(burst),
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(f64::from(burst));
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            self.limited.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    pub(crate) fn counted(&self) -> u64 {
        self.counted.load(Ordering::Relaxed)
    }

    pub(crate) fn limited(&self) -> u64 {
        self.limited.load(Ordering::Relaxed)
    }

    pub(crate) fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().clone()
    }

    /// The most requests that arrived within any `window` (sliding).
    pub(crate) fn peak_in(&self, window: Duration) -> usize {
        let mut arrivals = self.arrivals.lock().clone();
        arrivals.sort_unstable();
        peak(&arrivals, window)
    }
}

/// The most instants of a sorted list within any `window`.
pub(crate) fn peak(arrivals: &[Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, t) in arrivals.iter().enumerate() {
        while t.saturating_duration_since(arrivals[start]) >= window {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_refill() {
        let tb = TokenBuckets::new(10.0, 20);
        let t0 = Instant::now();
        let burst = (0..25).filter(|_| tb.take("k", t0)).count();
        assert_eq!(burst, 20);
        // 0.5 s later: 5 tokens back.
        let later = t0 + Duration::from_millis(500);
        assert_eq!((0..10).filter(|_| tb.take("k", later)).count(), 5);
        // Another key has its own bucket.
        assert!(tb.take("other", later));
        assert_eq!((tb.counted(), tb.limited()), (36, 10));
        assert_eq!(tb.peak_in(Duration::from_millis(100)), 25);
        assert_eq!(tb.peak_in(Duration::from_secs(1)), 36);
    }
}
