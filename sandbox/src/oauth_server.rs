//! A generic OAuth 2.0 authorization server (RFC 6749, PKCE RFC 7636,
//! revocation RFC 7009, `iss` in the callback RFC 9207), configurable enough to
//! stand in for LinkedIn's, Google's or Microsoft's.
//!
//! [`OAuthServer::new`] gives a cloneable handle; [`OAuthServer::router`] the
//! axum routes (authorize, token, revoke) to serve with a
//! [`SandboxServer`](super::SandboxServer). Resource-server sandboxes call
//! [`OAuthServer::validate_access_token`] to decide between an answer and 401.
//!
//! Everything here is written from the RFCs; it shares no type with the
//! production clients in `providers/`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use parking_lot::Mutex;
use rand::RngCore;
use sha2::{Digest, Sha256};

mod authorize;
mod token;

#[cfg(test)]
mod tests;

/// Which redirect URIs a client may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectUris {
    /// Any absolute `http`/`https` URL (handy for tests with random ports).
    Any,
    /// Only these, compared byte for byte.
    Exact(Vec<String>),
}

/// A registered client.
#[derive(Clone)]
pub struct OAuthClient {
    /// The `client_id`.
    pub client_id: String,
    /// The `client_secret`; `None` for a public client (PKCE only, id in the body).
    pub client_secret: Option<String>,
    /// Allowed redirect URIs.
    pub redirect_uris: RedirectUris,
}

impl OAuthClient {
    /// A confidential client allowed to use any redirect URI.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()),
            redirect_uris: RedirectUris::Any,
        }
    }

    /// Restrict the client to exactly these redirect URIs.
    pub fn with_redirect_uris<I, S>(mut self, uris: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redirect_uris = RedirectUris::Exact(uris.into_iter().map(Into::into).collect());
        self
    }

    fn allows_redirect(&self, uri: &str) -> bool {
        match &self.redirect_uris {
            RedirectUris::Exact(list) => list.iter().any(|u| u == uri),
            RedirectUris::Any => url::Url::parse(uri)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none()),
        }
    }
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("confidential", &self.client_secret.is_some())
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

/// How confidential clients authenticate at the token and revoke endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Body,
    /// HTTP Basic (`client_secret_basic`).
    Basic,
    /// Either one, but not both in the same request.
    Either,
}

/// What the simulated member answers on the consent screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Grant access: redirect with a code.
    Approve,
    /// Refuse: redirect with [`OAuthServerConfig::denied_error`] (default `access_denied`).
    Deny,
}

/// How the server treats PKCE (RFC 7636).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMode {
    /// Every authorization request must carry an `S256` challenge and every
    /// code exchange the matching verifier (the default).
    Required,
    /// A challenge is checked when the authorization request had one; a
    /// verifier without a challenge is refused with `invalid_grant`.
    Optional,
    /// PKCE is not supported, as for LinkedIn's confidential web apps: a
    /// challenge is ignored, and a `code_verifier` at the token endpoint fails
    /// client authentication (`401 invalid_client`).
    Rejected,
}

/// What an access token presented to a resource server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessTokenStatus {
    /// Issued, not expired, not revoked.
    Active(TokenInfo),
    /// Issued by this server but past its expiry.
    Expired,
    /// Issued by this server and revoked since (revoke endpoint, code replay,
    /// [`OAuthServer::revoke_all_for_subject`]).
    Revoked,
    /// Never issued by this server, or no token at all.
    Unknown,
}

/// How an [`OAuthServer`] behaves.
#[derive(Debug, Clone)]
pub struct OAuthServerConfig {
    /// Path of the authorization endpoint (default `/authorize`).
    pub authorize_path: String,
    /// Path of the token endpoint (default `/token`).
    pub token_path: String,
    /// Path of the revocation endpoint (default `/revoke`).
    pub revoke_path: String,
    /// Registered clients.
    pub clients: Vec<OAuthClient>,
    /// Lifetime of access tokens (default 1 hour).
    pub access_token_ttl: Duration,
    /// Whether the code grant issues refresh tokens (default true).
    pub issue_refresh_tokens: bool,
    /// Whether each refresh issues a new refresh token and retires the old one (default true).
    pub rotate_refresh_tokens: bool,
    /// Lifetime of a refresh grant; rotation keeps the original expiry, as LinkedIn does
    /// (default `None`: never expires, and no `refresh_token_expires_in` is sent).
    pub refresh_token_ttl: Option<Duration>,
    /// Accepted client authentication (default `Either`).
    pub client_auth: ClientAuth,
    /// Add `iss=<this>` to callbacks (RFC 9207), e.g. the issuer URL (default `None`).
    pub add_iss_to_callback: Option<String>,
    /// Lifetime of authorization codes (default 60 s).
    pub code_ttl: Duration,
    /// If set, requested scopes outside this list are refused with `invalid_scope`.
    pub allowed_scopes: Option<Vec<String>>,
    /// Separator of scopes in token responses (default `" "`; LinkedIn uses `","`).
    pub response_scope_separator: String,
    /// Sort the scopes of token responses alphabetically, as LinkedIn does (default false:
    /// the requested order).
    pub sort_response_scopes: bool,
    /// How PKCE is treated (default [`PkceMode::Required`]).
    pub pkce: PkceMode,
    /// `error` of the callback when the member refuses consent (default
    /// `access_denied`; LinkedIn sends `user_cancelled_authorize`).
    pub denied_error: String,
    /// `error_description` of that callback.
    pub denied_error_description: String,
    /// `error` of the callback for a scope outside `allowed_scopes` (default
    /// `invalid_scope`; LinkedIn sends `unauthorized_scope_error`).
    pub scope_error: String,
    /// Which authorization requests lead to a refresh token, when
    /// `issue_refresh_tokens` is on (default [`RefreshTokenRule::Always`]).
    pub refresh_token_rule: RefreshTokenRule,
    /// Whether the revocation endpoint authenticates the client (default true,
    /// RFC 7009). Google's `POST /revoke` takes the token alone.
    pub revoke_requires_client_auth: bool,
    /// Whether revoking an access token also ends its grant (its refresh
    /// token), as Google documents (default false: only that access token).
    pub revoke_access_ends_grant: bool,
}

/// When the code grant comes with a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshTokenRule {
    /// Every code exchange (when `issue_refresh_tokens` is on).
    Always,
    /// Only when the authorization request asked for this scope (Microsoft:
    /// `offline_access`).
    WithScope(String),
    /// Only when the authorization request carried every one of these
    /// parameters with these values (Google: `access_type=offline` and
    /// `prompt=consent`).
    WithParams(Vec<(String, String)>),
}

impl Default for OAuthServerConfig {
    fn default() -> Self {
        Self {
            authorize_path: "/authorize".to_owned(),
            token_path: "/token".to_owned(),
            revoke_path: "/revoke".to_owned(),
            clients: vec![OAuthClient::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)],
            access_token_ttl: Duration::from_secs(3600),
            issue_refresh_tokens: true,
            rotate_refresh_tokens: true,
            refresh_token_ttl: None,
            client_auth: ClientAuth::Either,
            add_iss_to_callback: None,
            code_ttl: Duration::from_secs(60),
            allowed_scopes: None,
            response_scope_separator: " ".to_owned(),
            sort_response_scopes: false,
            pkce: PkceMode::Required,
            denied_error: "access_denied".to_owned(),
            denied_error_description: "the member refused to authorize the application".to_owned(),
            scope_error: "invalid_scope".to_owned(),
            refresh_token_rule: RefreshTokenRule::Always,
            revoke_requires_client_auth: true,
            revoke_access_ends_grant: false,
        }
    }
}

/// Client id registered by [`OAuthServerConfig::default`].
pub const DEFAULT_CLIENT_ID: &str = "sandbox-client";
/// Client secret registered by [`OAuthServerConfig::default`] (a sandbox value, not a secret).
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret";
/// The member logged in at the provider unless [`OAuthServer::set_subject`] says otherwise.
pub const DEFAULT_SUBJECT: &str = "sandbox-member-1";

/// What an access token grants, as seen by a resource server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The member the token acts for (the client id for `client_credentials`).
    pub subject: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When the token stops working.
    pub expires_at: SystemTime,
}

/// Handle to a running authorization server's state. Clone freely.
#[derive(Clone)]
pub struct OAuthServer {
    config: Arc<OAuthServerConfig>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    consent: Option<Consent>,
    /// Overrides `add_iss_to_callback` once set (`Some(None)`: no `iss`).
    callback_issuer: Option<Option<String>>,
    subject: Option<String>,
    codes: HashMap<String, CodeRecord>,
    access: HashMap<String, AccessRecord>,
    revoked: HashSet<String>,
    refresh: HashMap<String, RefreshRecord>,
    token_requests: HashMap<String, usize>,
    next_grant: u64,
}

struct CodeRecord {
    subject: String,
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    challenge: Option<String>,
    expires_at: SystemTime,
    used: bool,
    grant_id: u64,
    /// Whether the authorization request qualified for a refresh token.
    refresh_allowed: bool,
}

struct AccessRecord {
    info: TokenInfo,
    grant_id: u64,
}

#[derive(Clone)]
struct RefreshRecord {
    subject: String,
    client_id: String,
    scopes: Vec<String>,
    expires_at: Option<SystemTime>,
    grant_id: u64,
}

impl OAuthServer {
    /// A server with this configuration and no tokens.
    pub fn new(config: OAuthServerConfig) -> Self {
        Self {
            config: Arc::new(config),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The routes: `GET authorize_path`, `POST token_path`, `POST revoke_path`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(&self.config.authorize_path, get(authorize::authorize))
            .route(&self.config.token_path, post(token::token))
            .route(&self.config.revoke_path, post(token::revoke))
            .with_state(self.clone())
    }

    /// The configuration the server was built with.
    pub fn config(&self) -> &OAuthServerConfig {
        &self.config
    }

    /// The `iss` (RFC 9207) added to callbacks from now on; `None` adds none.
    pub fn set_callback_issuer(&self, issuer: Option<String>) {
        self.state.lock().callback_issuer = Some(issuer);
    }

    /// The `iss` added to callbacks.
    pub(crate) fn callback_issuer(&self) -> Option<String> {
        match &self.state.lock().callback_issuer {
            Some(issuer) => issuer.clone(),
            None => self.config.add_iss_to_callback.clone(),
        }
    }

    /// What the member answers on the consent screen from now on.
    pub fn set_consent(&self, consent: Consent) {
        self.state.lock().consent = Some(consent);
    }

    /// The member logged in at the provider from now on.
    pub fn set_subject(&self, subject: impl Into<String>) {
        self.state.lock().subject = Some(subject.into());
    }

    /// The grant an access token carries, or `None` if unknown, revoked or expired.
    pub fn validate_access_token(&self, token: &str) -> Option<TokenInfo> {
        let st = self.state.lock();
        let rec = st.access.get(token)?;
        (rec.info.expires_at > SystemTime::now()).then(|| rec.info.clone())
    }

    /// [`validate_access_token`](Self::validate_access_token) on an
    /// `Authorization: Bearer <token>` header.
    pub fn validate_bearer(&self, headers: &HeaderMap) -> Option<TokenInfo> {
        self.validate_access_token(bearer_token(headers)?)
    }

    /// Why a token works or not, for resource servers that answer expired and
    /// revoked tokens differently.
    pub fn access_token_status(&self, token: &str) -> AccessTokenStatus {
        let st = self.state.lock();
        match st.access.get(token) {
            Some(rec) if rec.info.expires_at > SystemTime::now() => {
                AccessTokenStatus::Active(rec.info.clone())
            }
            Some(_) => AccessTokenStatus::Expired,
            None if st.revoked.contains(token) => AccessTokenStatus::Revoked,
            None => AccessTokenStatus::Unknown,
        }
    }

    /// [`access_token_status`](Self::access_token_status) on an
    /// `Authorization: Bearer <token>` header (`Unknown` when there is none).
    pub fn bearer_status(&self, headers: &HeaderMap) -> AccessTokenStatus {
        match bearer_token(headers) {
            Some(token) => self.access_token_status(token),
            None => AccessTokenStatus::Unknown,
        }
    }

    /// Issue an access token directly, without the authorization dance, for
    /// tests of resource-server sandboxes.
    pub fn mint_access_token(&self, subject: &str, client_id: &str, scopes: &[&str]) -> String {
        let mut st = self.state.lock();
        let grant_id = st.new_grant();
        let token = random_token();
        st.access.insert(
            token.clone(),
            AccessRecord {
                info: TokenInfo {
                    subject: subject.to_owned(),
                    client_id: client_id.to_owned(),
                    scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                    expires_at: SystemTime::now() + self.config.access_token_ttl,
                },
                grant_id,
            },
        );
        token
    }

    /// How many token requests with this `grant_type` arrived (failed ones included).
    pub fn token_requests(&self, grant_type: &str) -> usize {
        self.state
            .lock()
            .token_requests
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// Make every access token issued so far expired (refresh tokens keep working).
    pub fn expire_all_access_tokens(&self) {
        let past = SystemTime::now() - Duration::from_secs(1);
        for rec in self.state.lock().access.values_mut() {
            rec.info.expires_at = past;
        }
    }

    /// Revoke every token and pending code of `subject`, as when a member
    /// removes the app at the provider: the next refresh gets `invalid_grant`.
    pub fn revoke_all_for_subject(&self, subject: &str) {
        let mut st = self.state.lock();
        let gone: Vec<String> = st
            .access
            .iter()
            .filter(|(_, r)| r.info.subject == subject)
            .map(|(t, _)| t.clone())
            .collect();
        for token in gone {
            st.revoke_access(&token);
        }
        st.refresh.retain(|_, r| r.subject != subject);
        st.codes.retain(|_, r| r.subject != subject);
    }

    /// How many refresh tokens currently work.
    pub fn active_refresh_tokens(&self) -> usize {
        let now = SystemTime::now();
        self.state
            .lock()
            .refresh
            .values()
            .filter(|r| r.expires_at.is_none_or(|e| e > now))
            .count()
    }

    fn consent(&self) -> Consent {
        self.state.lock().consent.unwrap_or(Consent::Approve)
    }

    fn subject(&self) -> String {
        self.state
            .lock()
            .subject
            .clone()
            .unwrap_or_else(|| DEFAULT_SUBJECT.to_owned())
    }

    fn client(&self, client_id: &str) -> Option<&OAuthClient> {
        self.config
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
    }
}

impl std::fmt::Debug for OAuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthServer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl State {
    fn new_grant(&mut self) -> u64 {
        self.next_grant += 1;
        self.next_grant
    }

    /// Remove every token of one grant (code replay, refresh token revocation).
    fn revoke_grant(&mut self, grant_id: u64) {
        let gone: Vec<String> = self
            .access
            .iter()
            .filter(|(_, r)| r.grant_id == grant_id)
            .map(|(t, _)| t.clone())
            .collect();
        for token in gone {
            self.revoke_access(&token);
        }
        self.refresh.retain(|_, r| r.grant_id != grant_id);
    }

    /// Remove one access token and remember that it was revoked.
    fn revoke_access(&mut self, token: &str) {
        if self.access.remove(token).is_some() {
            self.revoked.insert(token.to_owned());
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(token.trim())
}

/// 32 random bytes from the OS, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE `S256` code challenge of a verifier: `BASE64URL(SHA256(verifier))`.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `s` is a well-formed PKCE verifier or challenge (RFC 7636 §4.1):
/// 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Split a space-separated `scope` parameter.
fn parse_scopes(scope: Option<&str>) -> Vec<String> {
    scope
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parse an `application/x-www-form-urlencoded` string; `Err(name)` when a
/// parameter appears more than once (RFC 6749 §3.1, §3.2).
fn parse_params(raw: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        // "Parameters sent without a value MUST be treated as if they were omitted."
        if v.is_empty() {
            continue;
        }
        if out.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(k.into_owned());
        }
    }
    Ok(out)
}
