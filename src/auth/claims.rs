//! The claims of a verified token and the checks that turn them into an
//! [`Identity`]: identity values fit their columns, the lifetime is bounded.

use std::collections::HashSet;

use serde::Deserialize;

use super::error::AuthError;
use super::identity::{Identity, OrgMembership};
use crate::limits;

/// Value of the `role` claim that marks a platform service caller.
pub(super) const SERVICE_ROLE: &str = "service";

/// Claims read from a token whose signature, `iss`, `aud`, `exp` and `nbf` the
/// library has checked; the rest is checked by [`TokenClaims::into_identity`].
#[derive(Deserialize)]
pub(super) struct TokenClaims {
    #[serde(default)]
    sub: String,
    #[serde(default)]
    orgs: Option<Vec<OrgMembership>>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    iat: Option<u64>,
    /// Required, but a missing one is reported by the library's own check.
    #[serde(default)]
    exp: u64,
}

/// The time rules the library does not apply.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lifetime {
    /// Current time, seconds since the epoch.
    pub now: u64,
    /// Clock skew tolerated on `iat`.
    pub leeway_secs: u64,
    /// Longest `exp - iat` accepted; 0 means no maximum (and `iat` is optional).
    pub max_ttl_secs: u64,
}

impl TokenClaims {
    /// The caller, if every claim is usable: `sub` and each org id non-empty,
    /// within the column's length and free of control characters; org ids
    /// listed once; `role` absent or `service`; `iat` not in the future; the
    /// lifetime within the maximum.
    pub(super) fn into_identity(self, lifetime: Lifetime) -> Result<Identity, AuthError> {
        if self.sub.trim().is_empty() {
            return Err(AuthError::MissingClaim("sub".to_owned()));
        }
        limits::check(&self.sub, limits::USER_ID_MAX)
            .map_err(|_| AuthError::InvalidClaim("sub"))?;
        let orgs = self.orgs.unwrap_or_default();
        check_orgs(&orgs)?;
        let service = match self.role.as_deref() {
            None => false,
            Some(SERVICE_ROLE) => true,
            Some(_) => return Err(AuthError::InvalidClaim("role")),
        };
        check_lifetime(self.iat, self.exp, lifetime)?;
        Ok(Identity {
            user_id: self.sub,
            orgs,
            service,
        })
    }
}

fn check_orgs(orgs: &[OrgMembership]) -> Result<(), AuthError> {
    if orgs.len() > limits::ORGS_MAX {
        return Err(AuthError::InvalidClaim("orgs"));
    }
    let mut seen = HashSet::with_capacity(orgs.len());
    for org in orgs {
        limits::check(&org.id, limits::ORG_ID_MAX).map_err(|_| AuthError::InvalidClaim("orgs"))?;
        if !seen.insert(org.id.as_str()) {
            return Err(AuthError::InvalidClaim("orgs"));
        }
    }
    Ok(())
}

fn check_lifetime(iat: Option<u64>, exp: u64, rules: Lifetime) -> Result<(), AuthError> {
    if let Some(iat) = iat {
        if iat > rules.now.saturating_add(rules.leeway_secs) {
            return Err(AuthError::IssuedInFuture);
        }
    }
    if rules.max_ttl_secs == 0 {
        return Ok(());
    }
    let iat = iat.ok_or_else(|| AuthError::MissingClaim("iat".to_owned()))?;
    if exp.saturating_sub(iat) > rules.max_ttl_secs {
        return Err(AuthError::LifetimeTooLong);
    }
    Ok(())
}
