//! JWT verification with a pinned algorithm, and minting of development tokens.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::claims::{Lifetime, TokenClaims, SERVICE_ROLE};
use super::error::AuthError;
use super::identity::{Identity, OrgMembership};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds, unless configured otherwise.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;
/// Longest token lifetime (`exp - iat`) accepted unless configured otherwise: a day.
pub const DEFAULT_MAX_TTL_SECS: u64 = 86_400;
/// Shortest accepted HS256 secret in bytes (the HMAC-SHA256 output size).
pub const MIN_HS256_SECRET_LEN: usize = 32;

/// The one signature algorithm the service accepts; tokens naming any other are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a secret shared with the platform.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, verified with the platform's RSA public key.
    Rs256,
    /// Ed25519, verified with the platform's Ed25519 public key.
    EdDsa,
}

impl JwtAlgorithm {
    /// The `alg` header value: `HS256`, `RS256` or `EdDSA`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    fn to_jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Rs256 => Algorithm::RS256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwtAlgorithm {
    type Err = AuthError;

    /// Parses `HS256`, `RS256` or `EdDSA`, ignoring case (configuration input).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Hs256, Self::Rs256, Self::EdDsa]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(AuthError::Config(
                "unknown jwt algorithm (expected HS256, RS256 or EdDSA)",
            ))
    }
}

/// The verification key: a shared secret for HS256, a public key for RS256 and EdDSA.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 shared secret (its utf-8 bytes are the HMAC key), at least 32 bytes.
    Secret(SecretString),
    /// Contents of a PEM public key file (`-----BEGIN PUBLIC KEY-----`).
    PublicKeyPem(String),
}

/// JWT settings; `Debug` never prints a secret.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The pinned algorithm.
    pub algorithm: JwtAlgorithm,
    /// Key that verifies tokens (for HS256 it also signs them).
    pub key: JwtKey,
    /// PEM private key, only to mint development tokens with RS256 or EdDSA.
    pub private_key_pem: Option<SecretString>,
    /// Required `iss`.
    pub issuer: String,
    /// Required member of `aud`.
    pub audience: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_secs: u64,
    /// Longest accepted `exp - iat` (tokens without `iat` are refused); 0: no maximum.
    pub max_ttl_secs: u64,
}

impl JwtConfig {
    /// HS256 with a shared secret and the default leeway.
    pub fn hs256(
        secret: SecretString,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            algorithm: JwtAlgorithm::Hs256,
            key: JwtKey::Secret(secret),
            private_key_pem: None,
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_ttl_secs: DEFAULT_MAX_TTL_SECS,
        }
    }

    /// RS256 or EdDSA with a PEM public key and the default leeway.
    pub fn public_key(
        algorithm: JwtAlgorithm,
        public_key_pem: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            algorithm,
            key: JwtKey::PublicKeyPem(public_key_pem.into()),
            private_key_pem: None,
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_ttl_secs: DEFAULT_MAX_TTL_SECS,
        }
    }

    /// Sets the longest accepted token lifetime (0: no maximum).
    pub fn with_max_ttl_secs(mut self, max_ttl_secs: u64) -> Self {
        self.max_ttl_secs = max_ttl_secs;
        self
    }

    /// Adds the PEM private key used by [`JwtSigner`] for RS256 or EdDSA.
    pub fn with_private_key_pem(mut self, pem: SecretString) -> Self {
        self.private_key_pem = Some(pem);
        self
    }

    fn check(&self) -> Result<(), AuthError> {
        if self.issuer.trim().is_empty() {
            return Err(AuthError::Config("jwt issuer must not be empty"));
        }
        if self.audience.trim().is_empty() {
            return Err(AuthError::Config("jwt audience must not be empty"));
        }
        Ok(())
    }

    fn hs_secret(&self) -> Result<&[u8], AuthError> {
        match &self.key {
            JwtKey::Secret(secret) if secret.expose_secret().len() >= MIN_HS256_SECRET_LEN => {
                Ok(secret.expose_secret().as_bytes())
            }
            JwtKey::Secret(_) => Err(AuthError::Config("hs256 secret must be at least 32 bytes")),
            JwtKey::PublicKeyPem(_) => Err(AuthError::Config(
                "hs256 needs a shared secret, not a public key",
            )),
        }
    }
}

/// Claims written into a development token.
#[derive(Serialize)]
struct MintClaims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    orgs: &'a [OrgMembership],
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
}

/// The part of the header we check ourselves before the library sees the token.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    /// Extensions the issuer says we must understand (RFC 7515 §4.1.11); we
    /// understand none, so any `crit`, even `null` or empty, refuses the token.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// Whether the field is present at all, whatever its value.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Verifies bearer tokens and turns them into an [`Identity`].
#[derive(Clone)]
pub struct JwtVerifier {
    algorithm: JwtAlgorithm,
    key: DecodingKey,
    validation: Validation,
    max_ttl_secs: u64,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .field("leeway_secs", &self.validation.leeway)
            .field("max_ttl_secs", &self.max_ttl_secs)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Builds a verifier that accepts exactly `config.algorithm` with `config.key`,
    /// and requires `sub`, `iss`, `aud` and `exp` (and checks `nbf` when present),
    /// plus `iat` when a maximum lifetime is set.
    pub fn new(config: &JwtConfig) -> Result<Self, AuthError> {
        config.check()?;
        let key = match (config.algorithm, &config.key) {
            (JwtAlgorithm::Hs256, _) => DecodingKey::from_secret(config.hs_secret()?),
            (JwtAlgorithm::Rs256, JwtKey::PublicKeyPem(pem)) => {
                DecodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|_| AuthError::Config("rs256 needs an rsa public key in pem format"))?
            }
            (JwtAlgorithm::EdDsa, JwtKey::PublicKeyPem(pem)) => {
                DecodingKey::from_ed_pem(pem.as_bytes()).map_err(|_| {
                    AuthError::Config("eddsa needs an ed25519 public key in pem format")
                })?
            }
            (_, JwtKey::Secret(_)) => {
                return Err(AuthError::Config(
                    "rs256 and eddsa need a public key, not a shared secret",
                ))
            }
        };
        let mut validation = Validation::new(config.algorithm.to_jwt());
        validation.algorithms = vec![config.algorithm.to_jwt()];
        validation.leeway = config.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_audience(&[config.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Ok(Self {
            algorithm: config.algorithm,
            key,
            validation,
            max_ttl_secs: config.max_ttl_secs,
        })
    }

    /// The pinned algorithm.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Verifies a bearer token (without the `Bearer ` prefix) and returns the caller.
    pub fn verify(&self, bearer_token: &str) -> Result<Identity, AuthError> {
        let token = bearer_token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        check_header_algorithm(token, self.algorithm)?;
        let data = jsonwebtoken::decode::<TokenClaims>(token, &self.key, &self.validation)?;
        data.claims.into_identity(Lifetime {
            now: jsonwebtoken::get_current_timestamp(),
            leeway_secs: self.validation.leeway,
            max_ttl_secs: self.max_ttl_secs,
        })
    }

    /// Verifies an `authorization` header value, if any (`None` means no header).
    pub fn verify_header(&self, header: Option<&str>) -> Result<Identity, AuthError> {
        let value = header.ok_or(AuthError::Missing)?;
        self.verify(parse_authorization_header(value)?)
    }
}

/// Refuses any token whose header `alg` is not exactly the pinned one, `none` included,
/// before a key is ever used with it, and any token with a `crit` header.
fn check_header_algorithm(token: &str, expected: JwtAlgorithm) -> Result<(), AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    let header: RawHeader = serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)?;
    if header.alg != expected.as_str() {
        return Err(AuthError::WrongAlgorithm);
    }
    if header.crit {
        return Err(AuthError::CriticalHeader);
    }
    Ok(())
}

/// Extracts the token from `Bearer <token>` (scheme case-insensitive).
pub fn parse_authorization_header(value: &str) -> Result<&str, AuthError> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let (scheme, token) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed);
    }
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

/// Mints tokens for the development `token` command, with the configured key.
#[derive(Clone)]
pub struct JwtSigner {
    algorithm: JwtAlgorithm,
    key: EncodingKey,
    issuer: String,
    audience: String,
    max_ttl_secs: u64,
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSigner")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    /// HS256 signs with the shared secret; RS256 and EdDSA need `private_key_pem`.
    pub fn new(config: &JwtConfig) -> Result<Self, AuthError> {
        config.check()?;
        let private = || {
            config
                .private_key_pem
                .as_ref()
                .map(|pem| pem.expose_secret().as_bytes())
                .ok_or(AuthError::Config(
                    "minting rs256 or eddsa tokens needs a private key pem",
                ))
        };
        let key = match config.algorithm {
            JwtAlgorithm::Hs256 => EncodingKey::from_secret(config.hs_secret()?),
            JwtAlgorithm::Rs256 => EncodingKey::from_rsa_pem(private()?)
                .map_err(|_| AuthError::Config("rs256 needs an rsa private key in pem format"))?,
            JwtAlgorithm::EdDsa => EncodingKey::from_ed_pem(private()?).map_err(|_| {
                AuthError::Config("eddsa needs an ed25519 private key in pem format")
            })?,
        };
        Ok(Self {
            algorithm: config.algorithm,
            key,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            max_ttl_secs: config.max_ttl_secs,
        })
    }

    /// Mints a token for `user_id` valid from now for `ttl`, with `iss`, `aud`, `iat`,
    /// `nbf`, `exp`, the `orgs` claim and `role: "service"` when `service` is set.
    /// A `ttl` above the configured maximum lifetime is refused: the verifier
    /// would refuse the token.
    pub fn mint(
        &self,
        user_id: &str,
        orgs: &[OrgMembership],
        service: bool,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        if user_id.trim().is_empty() {
            return Err(AuthError::Config("token subject must not be empty"));
        }
        if self.max_ttl_secs != 0 && ttl.as_secs() > self.max_ttl_secs {
            return Err(AuthError::TtlAboveMaximum {
                max_secs: self.max_ttl_secs,
            });
        }
        let now = jsonwebtoken::get_current_timestamp();
        let claims = MintClaims {
            sub: user_id,
            iss: &self.issuer,
            aud: &self.audience,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl.as_secs()),
            orgs,
            role: service.then_some(SERVICE_ROLE),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm.to_jwt()), &claims, &self.key)
            .map_err(|_| AuthError::Signing)
    }
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
