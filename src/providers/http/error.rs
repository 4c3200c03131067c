//! [`ProviderError`]: every outcome of a provider call that is not a success,
//! classified once so callers only match on the class.
//!
//! An error keeps the HTTP status, the provider's error code when it is a
//! short machine code ([`provider_code`]) and our own fixed message: never
//! provider text, a token, a header, a URL (its query string may carry a
//! secret) or a request body.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use super::redact::provider_code;
use crate::error::{AppError, FailureKind, ProviderFailure};

/// ` (code X)` when the provider gave a code, else nothing.
fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(" (code {c})"))
        .unwrap_or_default()
}

/// Why a provider call did not succeed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered a status worth retrying (429, 5xx, throttling 403).
    #[error("{provider} answered {status}, worth retrying{}", code_suffix(.code))]
    Retryable {
        /// Provider name.
        provider: String,
        /// HTTP status of the answer.
        status: u16,
        /// The provider's error code, only when it is a short machine code.
        code: Option<String>,
        /// The provider's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The request failed on the network (connect, timeout, connection closed).
    #[error("{provider} unreachable: {kind}")]
    Transport {
        /// Provider name.
        provider: String,
        /// What went wrong on the wire.
        kind: TransportKind,
    },
    /// The credential is no longer accepted: the user must reconnect or the token be refreshed.
    #[error("{provider} wants re-authorization ({status}){}", code_suffix(.code))]
    Reauth {
        /// Provider name.
        provider: String,
        /// HTTP status of the answer (401, or 400 with `invalid_grant`).
        status: u16,
        /// The provider's error code, only when it is a short machine code.
        code: Option<String>,
    },
    /// The provider refused the request itself; retrying cannot help.
    #[error("{provider} refused the request ({status}){}", code_suffix(.code))]
    Permanent {
        /// Provider name.
        provider: String,
        /// HTTP status of the answer.
        status: u16,
        /// The provider's error code, only when it is a short machine code.
        code: Option<String>,
    },
    /// The provider's circuit is open: the call was not sent.
    #[error("circuit of {provider} is open, retry in {retry_in:?}")]
    CircuitOpen {
        /// Provider name.
        provider: String,
        /// Time until the circuit lets a probe through.
        retry_in: Duration,
    },
    /// The rate budget had no capacity within the maximum wait: the call was not sent.
    #[error("rate budget of {provider} exhausted, retry in {retry_in:?}")]
    RateLimited {
        /// Provider name.
        provider: String,
        /// Time until capacity is expected.
        retry_in: Duration,
    },
    /// Every allowed attempt (more than one) failed with a retryable error.
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// The error of the last attempt.
        last: Box<ProviderError>,
    },
    /// The request could not be built (a bug in the calling integration).
    #[error("invalid request for {provider}: {message}")]
    InvalidRequest {
        /// Provider name.
        provider: String,
        /// What was wrong, in our own words.
        message: &'static str,
    },
    /// A successful answer's body did not have the expected shape.
    #[error("unexpected response body: {message}")]
    Decode {
        /// Error category and position, never the offending value (our own words).
        message: String,
    },
}

/// What went wrong on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made: the request certainly did not reach the server.
    Connect,
    /// The attempt ran out of time.
    Timeout,
    /// The connection was closed or reset while the request was in flight.
    Closed,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect failed",
            Self::Timeout => "timed out",
            Self::Closed => "connection closed",
        })
    }
}

impl ProviderError {
    /// Whether trying the same call later may succeed (including after an
    /// open circuit or an exhausted budget).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Retryable { .. }
            | Self::Transport { .. }
            | Self::CircuitOpen { .. }
            | Self::RateLimited { .. } => true,
            Self::Exhausted { last, .. } => last.is_retryable(),
            Self::Reauth { .. }
            | Self::Permanent { .. }
            | Self::InvalidRequest { .. }
            | Self::Decode { .. } => false,
        }
    }

    /// Whether the credential must be refreshed or the user asked to reconnect.
    pub fn is_reauth(&self) -> bool {
        matches!(self, Self::Reauth { .. })
    }

    /// The earliest time worth trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Retryable { retry_after, .. } => *retry_after,
            Self::CircuitOpen { retry_in, .. } | Self::RateLimited { retry_in, .. } => {
                Some(*retry_in)
            }
            Self::Exhausted { last, .. } => last.retry_after(),
            _ => None,
        }
    }

    /// The HTTP status the provider answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Retryable { status, .. }
            | Self::Reauth { status, .. }
            | Self::Permanent { status, .. } => Some(*status),
            Self::Exhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// The metrics outcome label of this error.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Retryable { .. } | Self::Transport { .. } => "retryable",
            Self::Reauth { .. } => "reauth",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::RateLimited { .. } => "rate_limited",
            Self::Exhausted { last, .. } => last.outcome(),
            Self::Permanent { .. } | Self::InvalidRequest { .. } | Self::Decode { .. } => {
                "permanent"
            }
        }
    }

    /// The provider's name, when the error names one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Self::Retryable { provider, .. }
            | Self::Transport { provider, .. }
            | Self::Reauth { provider, .. }
            | Self::Permanent { provider, .. }
            | Self::CircuitOpen { provider, .. }
            | Self::RateLimited { provider, .. }
            | Self::InvalidRequest { provider, .. } => Some(provider),
            Self::Exhausted { last, .. } => last.provider(),
            Self::Decode { .. } => None,
        }
    }

    /// What this error means for whoever would try again, as of `now`: a 429
    /// with `Retry-After` (or our own exhausted budget) is rate-limited until
    /// `now` plus the wait; other retryable answers keep their `Retry-After`.
    pub fn failure_kind(&self, now: DateTime<Utc>) -> FailureKind {
        let until = |wait: Duration| {
            now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::days(1))
        };
        match self {
            Self::Retryable {
                status: 429,
                retry_after: Some(wait),
                ..
            } => FailureKind::RateLimited {
                until: until(*wait),
            },
            Self::Retryable { retry_after, .. } => FailureKind::Retry {
                after: *retry_after,
            },
            Self::Transport { .. } => FailureKind::Retry { after: None },
            Self::RateLimited { retry_in, .. } => FailureKind::RateLimited {
                until: until(*retry_in),
            },
            Self::CircuitOpen { retry_in, .. } => FailureKind::CircuitOpen {
                retry_in: *retry_in,
            },
            Self::Exhausted { last, .. } => last.failure_kind(now),
            Self::Reauth { .. } => FailureKind::Reauth,
            Self::Permanent { .. } | Self::InvalidRequest { .. } | Self::Decode { .. } => {
                FailureKind::Permanent
            }
        }
    }

    /// Whether this outcome counts against the provider's health in the breaker
    /// (5xx, timeouts, connection errors; not 4xx, not 429).
    pub(crate) fn is_provider_failure(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Retryable { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl From<ProviderError> for ProviderFailure {
    fn from(err: ProviderError) -> Self {
        ProviderFailure::new(
            err.provider().unwrap_or("provider"),
            err.failure_kind(Utc::now()),
            err.to_string(),
        )
    }
}

impl From<ProviderError> for AppError {
    fn from(err: ProviderError) -> Self {
        AppError::Provider(err.into())
    }
}

/// Classifies an answer with a status of 400 or more. `retry_after` is the
/// already parsed `Retry-After` header.
pub fn classify_status(
    provider: &str,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> ProviderError {
    let provider = provider.to_owned();
    let code = provider_code(body);
    let status_code = status.as_u16();
    if status == StatusCode::UNAUTHORIZED || is_invalid_grant(status, body) {
        return ProviderError::Reauth {
            provider,
            status: status_code,
            code,
        };
    }
    let retryable = match status_code {
        429 => true,
        501 | 505 => false,
        500..=599 => true,
        403 => is_rate_limit_403(body),
        _ => false,
    };
    if retryable {
        ProviderError::Retryable {
            provider,
            status: status_code,
            code,
            retry_after,
        }
    } else {
        ProviderError::Permanent {
            provider,
            status: status_code,
            code,
        }
    }
}

/// Whether an answer is an OAuth token endpoint's `invalid_grant` (RFC 6749 §5.2):
/// the refresh token or authorization code is no longer valid.
pub fn is_invalid_grant(status: StatusCode, body: &[u8]) -> bool {
    if status != StatusCode::BAD_REQUEST && status != StatusCode::UNAUTHORIZED {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(|e| e == "invalid_grant"))
        .unwrap_or(false)
}

/// Google answers quota errors as 403 with reason `rateLimitExceeded` or
/// `userRateLimitExceeded`; those are worth retrying.
fn is_rate_limit_403(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    value
        .pointer("/error/errors")
        .and_then(|e| e.as_array())
        .is_some_and(|errors| {
            errors.iter().any(|e| {
                matches!(
                    e.get("reason").and_then(|r| r.as_str()),
                    Some("rateLimitExceeded" | "userRateLimitExceeded")
                )
            })
        })
}

/// Classifies a `reqwest` error without keeping its text (which holds the URL).
pub(crate) fn transport_kind(err: &reqwest::Error) -> TransportKind {
    if err.is_timeout() {
        TransportKind::Timeout
    } else if err.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let c = |code: u16, body: &str| {
            classify_status(
                "p",
                StatusCode::from_u16(code).unwrap(),
                body.as_bytes(),
                None,
            )
        };
        for code in [429, 500, 502, 503, 504] {
            assert!(
                matches!(c(code, ""), ProviderError::Retryable { .. }),
                "{code}"
            );
        }
        assert!(matches!(c(401, ""), ProviderError::Reauth { .. }));
        assert!(matches!(
            c(400, r#"{"error":"invalid_grant"}"#),
            ProviderError::Reauth { .. }
        ));
        for code in [400, 403, 404, 409, 422, 501] {
            assert!(
                matches!(c(code, ""), ProviderError::Permanent { .. }),
                "{code}"
            );
        }
        let google = r#"{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"reason":"rateLimitExceeded"}]}}"#;
        let err = c(403, google);
        assert!(matches!(err, ProviderError::Retryable { status: 403, .. }));
        assert!(!err.to_string().contains("Rate Limit Exceeded"), "{err}");
    }

    #[test]
    fn invalid_grant_needs_the_oauth_error_field() {
        let body = br#"{"error":"invalid_grant","error_description":"expired"}"#;
        assert!(is_invalid_grant(StatusCode::BAD_REQUEST, body));
        assert!(!is_invalid_grant(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_request"}"#
        ));
        assert!(!is_invalid_grant(StatusCode::OK, body));
        assert!(!is_invalid_grant(StatusCode::BAD_REQUEST, b"invalid_grant"));
    }

    #[test]
    fn errors_keep_status_and_code_but_no_provider_text() {
        let secret = "AQV8x1_nJ-3kLmq0PzR7tYwE2sD9fGhJkLzXcVbNm";
        let bodies = [
            format!(r#"{{"error":"invalid_request","error_description":"bad {secret}"}}"#),
            format!(r#"{{"message":"Bearer {secret}","code":"{secret}"}}"#),
            format!(r#"{{"error":{{"message":"{secret}"}}}}"#),
            format!("Bearer {secret}"),
        ];
        for status in [400, 401, 403, 500] {
            for body in &bodies {
                let err = classify_status(
                    "p",
                    StatusCode::from_u16(status).unwrap(),
                    body.as_bytes(),
                    None,
                );
                let text = format!("{err} {err:?}");
                assert!(!text.contains(secret), "{text}");
                assert!(!text.contains("Bearer"), "{text}");
                assert_eq!(err.status(), Some(status));
            }
        }
        let err = classify_status("p", StatusCode::BAD_REQUEST, bodies[0].as_bytes(), None);
        assert_eq!(
            err.to_string(),
            "p refused the request (400) (code invalid_request)"
        );
    }

    #[test]
    fn retry_after_and_retryable_follow_the_last_error() {
        let last = ProviderError::Retryable {
            provider: "p".into(),
            status: 503,
            code: None,
            retry_after: Some(Duration::from_secs(3)),
        };
        let err = ProviderError::Exhausted {
            attempts: 3,
            last: Box::new(last),
        };
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(err.status(), Some(503));
        assert_eq!(err.outcome(), "retryable");
        assert_eq!(err.provider(), Some("p"));
    }

    #[test]
    fn failure_kinds_keep_what_the_error_knows() {
        let now = Utc::now();
        let secs = Duration::from_secs;
        let retryable = |status, retry_after| ProviderError::Retryable {
            provider: "p".into(),
            status,
            code: None,
            retry_after,
        };
        assert_eq!(
            retryable(429, Some(secs(30))).failure_kind(now),
            FailureKind::RateLimited {
                until: now + chrono::Duration::seconds(30)
            }
        );
        assert_eq!(
            retryable(429, None).failure_kind(now),
            FailureKind::Retry { after: None }
        );
        assert_eq!(
            retryable(503, Some(secs(4))).failure_kind(now),
            FailureKind::Retry {
                after: Some(secs(4))
            }
        );
        let exhausted = ProviderError::Exhausted {
            attempts: 2,
            last: Box::new(retryable(429, Some(secs(3)))),
        };
        assert_eq!(
            exhausted.failure_kind(now),
            FailureKind::RateLimited {
                until: now + chrono::Duration::seconds(3)
            }
        );
        let budget = ProviderError::RateLimited {
            provider: "p".into(),
            retry_in: secs(2),
        };
        assert_eq!(
            budget.failure_kind(now),
            FailureKind::RateLimited {
                until: now + chrono::Duration::seconds(2)
            }
        );
        let open = ProviderError::CircuitOpen {
            provider: "p".into(),
            retry_in: secs(9),
        };
        assert_eq!(
            open.failure_kind(now),
            FailureKind::CircuitOpen { retry_in: secs(9) }
        );
        let transport = ProviderError::Transport {
            provider: "p".into(),
            kind: TransportKind::Timeout,
        };
        assert_eq!(
            transport.failure_kind(now),
            FailureKind::Retry { after: None }
        );
        let c = |code: u16| classify_status("p", StatusCode::from_u16(code).unwrap(), b"", None);
        assert_eq!(c(401).failure_kind(now), FailureKind::Reauth);
        assert_eq!(c(404).failure_kind(now), FailureKind::Permanent);
        let decode = ProviderError::Decode {
            message: "x".into(),
        };
        assert_eq!(decode.failure_kind(now), FailureKind::Permanent);

        let AppError::Provider(failure) = AppError::from(c(404)) else {
            panic!("a provider failure");
        };
        assert_eq!(failure.provider, "p");
        assert_eq!(failure.kind, FailureKind::Permanent);
        assert_eq!(failure.message, "p refused the request (404)");
    }
}
