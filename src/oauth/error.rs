//! What can go wrong in an OAuth flow, and how callers see it.

use crate::{crypto::CryptoError, error::AppError, providers::http::ProviderError};

/// An OAuth failure, classified.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The state is unknown or was already used.
    #[error("unknown or already used oauth state")]
    UnknownState,
    /// The state expired before the user came back.
    #[error("oauth state expired")]
    ExpiredState,
    /// The state belongs to another user or provider.
    #[error("oauth state belongs to another flow")]
    ForeignState,
    /// The flow came back in a browser other than the one that opened it.
    #[error("oauth flow opened in another browser")]
    ForeignBrowser,
    /// The user refused consent at the provider.
    #[error("consent denied at the provider")]
    ConsentDenied,
    /// The provider refused the grant (`invalid_grant`): the owner must reconnect.
    #[error("the provider refused the grant; reconnect needed")]
    InvalidGrant,
    /// The connection has no refresh token and its access token expired.
    #[error("the access token expired and cannot be refreshed; reconnect needed")]
    NoRefreshToken,
    /// The connection does not exist.
    #[error("connection not found")]
    UnknownConnection,
    /// The user started too many flows lately: try again after the given time.
    #[error("too many authorization flows started; try again in {} s", .retry_after.as_secs().max(1))]
    TooManyFlows {
        /// When the window that refused it ends.
        retry_after: std::time::Duration,
    },
    /// The provider is not configured (no client id).
    #[error("{0} oauth client is not configured")]
    NotConfigured(&'static str),
    /// The provider answered an OAuth error other than `invalid_grant`.
    #[error("oauth error from the provider: {0}")]
    Protocol(String),
    /// The provider could not be reached or is throttling: retry later.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A sealed value did not open.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl OAuthError {
    /// True when the owner must connect again.
    pub fn needs_reauth(&self) -> bool {
        matches!(self, OAuthError::InvalidGrant | OAuthError::NoRefreshToken)
    }

    /// A short, stable, secret-free code for redirects and activity rows.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::UnknownState | OAuthError::ExpiredState | OAuthError::ForeignState => {
                "invalid_state"
            }
            OAuthError::ForeignBrowser => "wrong_browser",
            OAuthError::ConsentDenied => "access_denied",
            OAuthError::InvalidGrant | OAuthError::NoRefreshToken => "reauth_required",
            OAuthError::UnknownConnection => "not_connected",
            OAuthError::NotConfigured(_) => "not_configured",
            OAuthError::TooManyFlows { .. } => "rate_limited",
            OAuthError::Protocol(_) => "provider_error",
            OAuthError::Provider(err) if err.is_retryable() => "provider_unavailable",
            OAuthError::Provider(_) => "provider_error",
            OAuthError::Crypto(_) | OAuthError::Db(_) => "internal_error",
        }
    }
}

impl From<OAuthError> for AppError {
    fn from(err: OAuthError) -> Self {
        match err {
            OAuthError::UnknownState
            | OAuthError::ExpiredState
            | OAuthError::ForeignState
            | OAuthError::ForeignBrowser => AppError::invalid("state", err.to_string()),
            OAuthError::ConsentDenied
            | OAuthError::InvalidGrant
            | OAuthError::NoRefreshToken
            | OAuthError::NotConfigured(_) => AppError::FailedPrecondition(err.to_string()),
            OAuthError::UnknownConnection => AppError::NotFound("connection"),
            OAuthError::TooManyFlows { retry_after } => AppError::ResourceExhausted {
                message: err.to_string(),
                retry_after: Some(retry_after),
            },
            // keeps the provider error's kind (rate-limited until, circuit open, ...)
            OAuthError::Provider(p) => p.into(),
            OAuthError::Protocol(message) => AppError::FailedPrecondition(message),
            OAuthError::Crypto(e) => AppError::Internal(anyhow::Error::new(e)),
            OAuthError::Db(e) => e.into(),
        }
    }
}
