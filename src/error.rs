//! The one error type of the domain, and the one table ([`AppError::answer`])
//! from which every consumer derives its answer: the gRPC code, the HTTP
//! status, the `Retry-After` both carry, and what a background job does next.
//!
//! A provider's failure keeps its kind ([`FailureKind`]: retry after a delay,
//! rate-limited until a time, circuit open, re-auth, permanent) on its way up,
//! so nothing between the provider client and the consumer guesses it again.
//! This module is the bottom layer: `providers/` converts its errors into it
//! (`impl From<ProviderError> for AppError`), never the other way round.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Result with [`AppError`] as the default error.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// What can go wrong in a domain operation, classified for the caller.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed; `field` names the offending field.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The request field at fault.
        field: &'static str,
        /// Why it is wrong.
        reason: String,
    },
    /// No bearer token, or one that does not verify.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller may not do this (but may know the object exists).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The object does not exist for this caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The object already exists.
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// The system is not in a state that allows the operation (e.g. a flag is off).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A limit was reached; try again after the given time.
    #[error("{message}")]
    ResourceExhausted {
        /// Secret-free explanation.
        message: String,
        /// When to try again.
        retry_after: Option<Duration>,
    },
    /// A dependency is down; retrying later may work.
    #[error("{0}")]
    Unavailable(String),
    /// Another operation on the same object is under way (a sync already
    /// running): retry after it.
    #[error("{0}")]
    Aborted(String),
    /// A provider call failed; its kind says what the failure means.
    #[error(transparent)]
    Provider(ProviderFailure),
    /// A bug or an unexpected failure; logged with its chain, answered generically.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A failed provider call, classified once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ProviderFailure {
    /// The provider's name (`linkedin`, `google`, ...).
    pub provider: String,
    /// What the failure means for whoever retries.
    pub kind: FailureKind,
    /// Secret-free detail in our own words (status, the provider's short code).
    pub message: String,
}

/// What a provider failure means for whoever would try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Worth another attempt (5xx, a timeout), not before `after` when the
    /// provider said so.
    Retry {
        /// The provider's `Retry-After`, when it sent one.
        after: Option<Duration>,
    },
    /// The provider (a 429 with `Retry-After`) or our own rate budget refuses
    /// calls until this time; waiting is not a failure of the work.
    RateLimited {
        /// When calls are accepted again.
        until: DateTime<Utc>,
    },
    /// The provider's circuit is open: no call was sent.
    CircuitOpen {
        /// Time until the circuit lets a probe through.
        retry_in: Duration,
    },
    /// The credential is no longer accepted: the owner must reconnect.
    Reauth,
    /// The provider refused the request itself; retrying cannot help.
    Permanent,
}

impl ProviderFailure {
    /// A failure of `provider` of this kind.
    pub fn new(provider: impl Into<String>, kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            kind,
            message: message.into(),
        }
    }

    /// The secret-free sentence callers, `last_error` and activity rows show:
    /// what happened, from the kind, then the detail.
    fn describe(&self) -> String {
        let Self {
            provider,
            kind,
            message,
        } = self;
        match kind {
            FailureKind::Retry { after: Some(wait) } => format!(
                "{provider} unavailable, retry in {} s: {message}",
                ceil_secs(*wait)
            ),
            FailureKind::Retry { after: None } => {
                format!("{provider} unavailable, retry later: {message}")
            }
            FailureKind::RateLimited { until } => format!(
                "{provider} rate limit reached, retry after {}: {message}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            FailureKind::CircuitOpen { retry_in } => format!(
                "{provider} unavailable (circuit open), retry in {} s: {message}",
                ceil_secs(*retry_in)
            ),
            FailureKind::Reauth => {
                format!("{provider} no longer accepts this connection, reconnect needed: {message}")
            }
            FailureKind::Permanent => format!("{provider} refused the request: {message}"),
        }
    }
}

/// Whole seconds, rounded up, at least 1: what a `Retry-After` says.
pub fn ceil_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// What a background job does after a run that ended in an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Another attempt after the kind's backoff, not before `after` when known
    /// (an attempt is spent).
    Retry {
        /// The earliest time worth trying again.
        after: Option<Duration>,
    },
    /// Run again after this long without spending an attempt: the provider
    /// is unavailable for a known time, the work did not fail.
    Delay(Duration),
    /// Nothing to retry and nothing wrong with the job: the failure is
    /// recorded where its owner sees it (activity row, connection state), and
    /// the job completes.
    Settled,
    /// Retrying cannot help: the job is dead at once.
    Fatal,
}

impl JobOutcome {
    /// Whether the job is worth running again.
    pub fn is_retry(&self) -> bool {
        matches!(self, JobOutcome::Retry { .. } | JobOutcome::Delay(_))
    }
}

/// Every consumer's answer to one error, from [`AppError::answer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The gRPC code.
    pub grpc: tonic::Code,
    /// The HTTP status (Google AIP-193's mapping of the gRPC code).
    pub http: http::StatusCode,
    /// When to try again, for `retry-after` metadata and the `Retry-After` header.
    pub retry_after: Option<Duration>,
    /// What a background job does next.
    pub job: JobOutcome,
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::Internal(anyhow::Error::new(err).context("database error"))
    }
}

/// True when `err` is a unique-constraint violation: the row, or another with
/// the same key, already exists.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl AppError {
    /// An `InvalidArgument` for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        AppError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// The error of a write that may collide with an existing row: a
    /// unique-constraint violation becomes `AlreadyExists(what)` (gRPC
    /// `ALREADY_EXISTS`), any other database error is internal. The one place
    /// this mapping is made.
    pub fn from_write(err: sea_orm::DbErr, what: &'static str) -> Self {
        if is_unique_violation(&err) {
            AppError::AlreadyExists(what)
        } else {
            err.into()
        }
    }

    /// A provider failure of this kind.
    pub fn provider(
        provider: impl Into<String>,
        kind: FailureKind,
        message: impl Into<String>,
    ) -> Self {
        AppError::Provider(ProviderFailure::new(provider, kind, message))
    }

    /// Every consumer's answer to this error: the one table.
    pub fn answer(&self) -> Answer {
        self.answer_at(Utc::now())
    }

    /// [`AppError::answer`] as of `now` (a rate limit's end becomes a wait).
    pub fn answer_at(&self, now: DateTime<Utc>) -> Answer {
        use http::StatusCode as H;
        use tonic::Code as G;
        use JobOutcome as J;
        let answer = |grpc, http, retry_after, job| Answer {
            grpc,
            http,
            retry_after,
            job,
        };
        match self {
            AppError::InvalidArgument { .. } => {
                answer(G::InvalidArgument, H::BAD_REQUEST, None, J::Fatal)
            }
            AppError::Unauthenticated => {
                answer(G::Unauthenticated, H::UNAUTHORIZED, None, J::Fatal)
            }
            AppError::PermissionDenied(_) => {
                answer(G::PermissionDenied, H::FORBIDDEN, None, J::Fatal)
            }
            // the object went away meanwhile (a disconnect): nothing left to do
            AppError::NotFound(_) => answer(G::NotFound, H::NOT_FOUND, None, J::Settled),
            // an idempotent job that finds its work done
            AppError::AlreadyExists(_) => answer(G::AlreadyExists, H::CONFLICT, None, J::Settled),
            // a flag is off or the owner must act: recorded, nothing to retry
            AppError::FailedPrecondition(_) => {
                answer(G::FailedPrecondition, H::BAD_REQUEST, None, J::Settled)
            }
            AppError::ResourceExhausted { retry_after, .. } => answer(
                G::ResourceExhausted,
                H::TOO_MANY_REQUESTS,
                *retry_after,
                match retry_after {
                    Some(wait) => J::Delay(*wait),
                    None => J::Retry { after: None },
                },
            ),
            AppError::Unavailable(_) => answer(
                G::Unavailable,
                H::SERVICE_UNAVAILABLE,
                None,
                J::Retry { after: None },
            ),
            // what the job wanted is being done by another: nothing to add
            AppError::Aborted(_) => answer(G::Aborted, H::CONFLICT, None, J::Settled),
            AppError::Provider(failure) => match failure.kind {
                FailureKind::Retry { after } => answer(
                    G::Unavailable,
                    H::SERVICE_UNAVAILABLE,
                    after,
                    J::Retry { after },
                ),
                FailureKind::RateLimited { until } => {
                    let wait = (until - now).to_std().unwrap_or(Duration::ZERO);
                    answer(
                        G::Unavailable,
                        H::SERVICE_UNAVAILABLE,
                        Some(wait),
                        J::Delay(wait),
                    )
                }
                FailureKind::CircuitOpen { retry_in } => answer(
                    G::Unavailable,
                    H::SERVICE_UNAVAILABLE,
                    Some(retry_in),
                    J::Delay(retry_in),
                ),
                FailureKind::Reauth => {
                    answer(G::FailedPrecondition, H::BAD_REQUEST, None, J::Settled)
                }
                FailureKind::Permanent => {
                    answer(G::FailedPrecondition, H::BAD_REQUEST, None, J::Fatal)
                }
            },
            // the database and the unexpected: worth another attempt
            AppError::Internal(_) => answer(
                G::Internal,
                H::INTERNAL_SERVER_ERROR,
                None,
                J::Retry { after: None },
            ),
        }
    }

    /// The gRPC code and HTTP status of this error, from [`AppError::answer`].
    pub fn codes(&self) -> (tonic::Code, http::StatusCode) {
        let answer = self.answer();
        (answer.grpc, answer.http)
    }

    /// The message a caller may see: internal errors are logged with their
    /// chain and answered generically.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                "internal error".to_owned()
            }
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode as H;
    use tonic::Code as G;

    use super::*;

    fn provider(kind: FailureKind) -> AppError {
        AppError::provider("linkedin", kind, "linkedin answered 429, worth retrying")
    }

    #[test]
    fn each_provider_kind_has_one_answer_everywhere() {
        let now = Utc::now();
        let secs = Duration::from_secs;
        let cases = [
            (
                FailureKind::Retry { after: None },
                (G::Unavailable, H::SERVICE_UNAVAILABLE, None),
                JobOutcome::Retry { after: None },
            ),
            (
                FailureKind::Retry {
                    after: Some(secs(4)),
                },
                (G::Unavailable, H::SERVICE_UNAVAILABLE, Some(secs(4))),
                JobOutcome::Retry {
                    after: Some(secs(4)),
                },
            ),
            (
                FailureKind::RateLimited {
                    until: now + chrono::Duration::seconds(30),
                },
                (G::Unavailable, H::SERVICE_UNAVAILABLE, Some(secs(30))),
                JobOutcome::Delay(secs(30)),
            ),
            (
                FailureKind::CircuitOpen { retry_in: secs(7) },
                (G::Unavailable, H::SERVICE_UNAVAILABLE, Some(secs(7))),
                JobOutcome::Delay(secs(7)),
            ),
            (
                FailureKind::Reauth,
                (G::FailedPrecondition, H::BAD_REQUEST, None),
                JobOutcome::Settled,
            ),
            (
                FailureKind::Permanent,
                (G::FailedPrecondition, H::BAD_REQUEST, None),
                JobOutcome::Fatal,
            ),
        ];
        for (kind, (grpc, http, retry_after), job) in cases {
            let answer = provider(kind).answer_at(now);
            assert_eq!(
                (answer.grpc, answer.http, answer.retry_after, answer.job),
                (grpc, http, retry_after, job),
                "{kind:?}"
            );
        }
        // a rate limit that already ended: run again now
        let past = provider(FailureKind::RateLimited {
            until: now - chrono::Duration::seconds(5),
        });
        assert_eq!(past.answer_at(now).job, JobOutcome::Delay(Duration::ZERO));
    }

    #[test]
    fn the_other_errors_keep_their_codes() {
        let cases = [
            (
                AppError::invalid("f", "bad"),
                G::InvalidArgument,
                H::BAD_REQUEST,
                JobOutcome::Fatal,
            ),
            (
                AppError::Unauthenticated,
                G::Unauthenticated,
                H::UNAUTHORIZED,
                JobOutcome::Fatal,
            ),
            (
                AppError::PermissionDenied("no".into()),
                G::PermissionDenied,
                H::FORBIDDEN,
                JobOutcome::Fatal,
            ),
            (
                AppError::NotFound("x"),
                G::NotFound,
                H::NOT_FOUND,
                JobOutcome::Settled,
            ),
            (
                AppError::AlreadyExists("x"),
                G::AlreadyExists,
                H::CONFLICT,
                JobOutcome::Settled,
            ),
            // Google AIP-193: FAILED_PRECONDITION is 400, not 412
            (
                AppError::FailedPrecondition("off".into()),
                G::FailedPrecondition,
                H::BAD_REQUEST,
                JobOutcome::Settled,
            ),
            (
                AppError::ResourceExhausted {
                    message: "slow down".into(),
                    retry_after: Some(Duration::from_secs(9)),
                },
                G::ResourceExhausted,
                H::TOO_MANY_REQUESTS,
                JobOutcome::Delay(Duration::from_secs(9)),
            ),
            (
                AppError::Unavailable("down".into()),
                G::Unavailable,
                H::SERVICE_UNAVAILABLE,
                JobOutcome::Retry { after: None },
            ),
            (
                AppError::Internal(anyhow::anyhow!("boom")),
                G::Internal,
                H::INTERNAL_SERVER_ERROR,
                JobOutcome::Retry { after: None },
            ),
        ];
        for (err, grpc, http, job) in cases {
            let answer = err.answer();
            assert_eq!(
                (answer.grpc, answer.http, answer.job),
                (grpc, http, job),
                "{err:?}"
            );
            assert_eq!(err.codes(), (grpc, http));
        }
    }

    #[test]
    fn messages_say_the_kind() {
        let until = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let limited = provider(FailureKind::RateLimited { until });
        assert_eq!(
            limited.to_string(),
            "linkedin rate limit reached, retry after 2026-01-02T03:04:05Z: linkedin answered 429, worth retrying"
        );
        let open = provider(FailureKind::CircuitOpen {
            retry_in: Duration::from_millis(1_200),
        });
        assert!(
            open.to_string().contains("(circuit open), retry in 2 s"),
            "{open}"
        );
        assert!(provider(FailureKind::Reauth)
            .to_string()
            .contains("reconnect needed"));
        assert_eq!(ceil_secs(Duration::ZERO), 1);
        assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
    }
}
