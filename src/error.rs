//! The one error type of the domain, and the one table mapping each kind to a
//! gRPC code and an HTTP status.

use std::time::Duration;

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
    /// A provider or dependency is down or throttling; retrying later may work.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; logged with its chain, answered generically.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
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

    /// The gRPC code and HTTP status of this error: the one mapping table.
    pub fn codes(&self) -> (tonic::Code, http::StatusCode) {
        use http::StatusCode as H;
        use tonic::Code as G;
        match self {
            AppError::InvalidArgument { .. } => (G::InvalidArgument, H::BAD_REQUEST),
            AppError::Unauthenticated => (G::Unauthenticated, H::UNAUTHORIZED),
            AppError::PermissionDenied(_) => (G::PermissionDenied, H::FORBIDDEN),
            AppError::NotFound(_) => (G::NotFound, H::NOT_FOUND),
            AppError::AlreadyExists(_) => (G::AlreadyExists, H::CONFLICT),
            AppError::FailedPrecondition(_) => (G::FailedPrecondition, H::PRECONDITION_FAILED),
            AppError::ResourceExhausted { .. } => (G::ResourceExhausted, H::TOO_MANY_REQUESTS),
            AppError::Unavailable(_) => (G::Unavailable, H::SERVICE_UNAVAILABLE),
            AppError::Internal(_) => (G::Internal, H::INTERNAL_SERVER_ERROR),
        }
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
