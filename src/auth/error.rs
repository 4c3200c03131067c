//! Authentication errors; none of them carries a token, a secret or a key.

/// Why a caller could not be authenticated, or why the JWT settings are unusable.
///
/// All variants except [`AuthError::Config`], [`AuthError::Signing`] and
/// [`AuthError::TtlAboveMaximum`] come from verifying a request and map to gRPC
/// `UNAUTHENTICATED`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token was presented.
    #[error("missing bearer token")]
    Missing,
    /// The header or token is not a well-formed JWT with the expected claims.
    #[error("malformed token")]
    Malformed,
    /// A claim the service requires (`sub`, `iss`, `aud`, `exp`) is absent.
    #[error("token lacks the {0} claim")]
    MissingClaim(String),
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `exp - iat` is longer than the configured maximum lifetime.
    #[error("token lifetime exceeds the maximum")]
    LifetimeTooLong,
    /// A claim is present but unusable: `sub` or an org id empty, too long or
    /// with control characters, an org listed twice, an unknown `role`.
    #[error("token has an invalid {0} claim")]
    InvalidClaim(&'static str),
    /// The header has a `crit` parameter; no extension is understood here.
    #[error("token header names critical extensions")]
    CriticalHeader,
    /// `iss` is not the configured issuer.
    #[error("token has the wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("token has the wrong audience")]
    WrongAudience,
    /// The signature does not verify with the configured key.
    #[error("token signature is invalid")]
    BadSignature,
    /// The header names an algorithm other than the pinned one (including `none`).
    #[error("token uses an algorithm that is not accepted")]
    WrongAlgorithm,
    /// The JWT settings are unusable (startup error, not a caller error).
    #[error("invalid jwt configuration: {0}")]
    Config(&'static str),
    /// A development token could not be signed.
    #[error("could not sign token")]
    Signing,
    /// A development token was asked for with a lifetime the verifier would refuse.
    #[error("token ttl is above the maximum lifetime of {max_secs} seconds (JWT_MAX_TTL_SECS)")]
    TtlAboveMaximum {
        /// The configured maximum.
        max_secs: u64,
    },
}

impl AuthError {
    /// Whether the error is the caller's (answer `UNAUTHENTICATED`) rather than ours.
    pub fn is_unauthenticated(&self) -> bool {
        !matches!(
            self,
            Self::Config(_) | Self::Signing | Self::TtlAboveMaximum { .. }
        )
    }
}

impl From<jsonwebtoken::errors::Error> for AuthError {
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match err.kind() {
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::WrongIssuer,
            ErrorKind::InvalidAudience => Self::WrongAudience,
            ErrorKind::InvalidSignature | ErrorKind::Crypto(_) => Self::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => Self::WrongAlgorithm,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(claim.clone()),
            _ => Self::Malformed,
        }
    }
}
