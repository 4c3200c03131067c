//! Caller identity from JWT bearer tokens issued by the Next_KE platform.
//!
//! # Layout
//! - [`identity`]: the [`Identity`] a request runs as, with its organization roles.
//! - [`jwt`]: [`JwtConfig`], the [`JwtVerifier`] (algorithm pinned, `iss`, `aud`, `exp`,
//!   `nbf` checked), the development [`JwtSigner`] and [`parse_authorization_header`].
//! - `claims`: the checks on a verified token's claims (identity values fit their
//!   columns; `iat` and the lifetime bounded).
//! - [`error`]: [`AuthError`]; every verification failure maps to gRPC `UNAUTHENTICATED`.

mod claims;
pub mod error;
pub mod identity;
pub mod jwt;

pub use error::AuthError;
pub use identity::{Identity, OrgMembership, OrgRole};
pub use jwt::{
    parse_authorization_header, JwtAlgorithm, JwtConfig, JwtKey, JwtSigner, JwtVerifier,
    DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TTL_SECS,
};
