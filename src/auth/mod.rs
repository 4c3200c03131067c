//! Caller identity from JWT bearer tokens issued by the Next_KE platform.
//!
//! # Layout
//! - [`identity`]: the [`Identity`] a request runs as, with its organization roles.
//! - [`jwt`]: [`JwtConfig`], the [`JwtVerifier`] (algorithm pinned, `iss`, `aud`, `exp`,
//!   `nbf` checked), the development [`JwtSigner`] and [`parse_authorization_header`].
//! - [`error`]: [`AuthError`]; every verification failure maps to gRPC `UNAUTHENTICATED`.

pub mod error;
pub mod identity;
pub mod jwt;

pub use error::AuthError;
pub use identity::{Identity, OrgMembership, OrgRole};
pub use jwt::{
    parse_authorization_header, JwtAlgorithm, JwtConfig, JwtKey, JwtSigner, JwtVerifier,
    DEFAULT_LEEWAY_SECS,
};
