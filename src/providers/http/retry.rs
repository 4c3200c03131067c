//! Retry timing: full-jitter exponential backoff and `Retry-After` parsing
//! (RFC 9110 §10.2.3: delta-seconds or an HTTP-date).

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::config::RetryPolicy;

/// The ceiling of the backoff before retry number `retry` (0 for the first
/// retry): `min(max_backoff, base_backoff * 2^retry)`.
pub fn backoff_ceiling(policy: &RetryPolicy, retry: u32) -> Duration {
    let factor = 2u32.saturating_pow(retry.min(31));
    policy
        .base_backoff
        .saturating_mul(factor)
        .min(policy.max_backoff)
}

/// A full-jitter backoff: uniformly random between zero and [`backoff_ceiling`].
pub fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let ceiling = backoff_ceiling(policy, retry);
    if ceiling.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date, relative to
/// `now`. A date in the past gives zero; anything else unreadable gives `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // more digits than fit in u64 mean "very long"
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The `Retry-After` of a response, if present and readable.
pub fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_delta_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retry_after_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now),
            Some(Duration::from_secs(120))
        );
        // obsolete RFC 850 and asctime forms are accepted too
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:47 1994", now),
            Some(Duration::from_secs(10))
        );
        // a date in the past means "now"
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_from_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after_header(&headers), None);
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after_header(&headers), Some(Duration::from_secs(7)));
    }

    #[test]
    fn backoff_stays_within_its_ceiling() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(120),
        };
        assert_eq!(backoff_ceiling(&policy, 0), Duration::from_millis(100));
        assert_eq!(backoff_ceiling(&policy, 1), Duration::from_millis(200));
        assert_eq!(backoff_ceiling(&policy, 3), Duration::from_millis(800));
        assert_eq!(backoff_ceiling(&policy, 4), Duration::from_secs(1));
        assert_eq!(backoff_ceiling(&policy, 1000), Duration::from_secs(1));
        for retry in 0..8 {
            let ceiling = backoff_ceiling(&policy, retry);
            let samples: Vec<_> = (0..200).map(|_| backoff(&policy, retry)).collect();
            assert!(samples.iter().all(|d| *d <= ceiling));
            // full jitter: the samples spread, they are not all at the ceiling
            assert!(samples.iter().any(|d| *d < ceiling / 2));
        }
        let zero = RetryPolicy {
            base_backoff: Duration::ZERO,
            ..policy
        };
        assert_eq!(backoff(&zero, 3), Duration::ZERO);
    }
}
