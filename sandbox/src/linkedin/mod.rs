//! The LinkedIn sandbox: Sign In with LinkedIn (OIDC) and the Member Data
//! Portability snapshot API, shaped as documented in
//! `shared-notes/linkedin-api.md` (and as production really answers where
//! the two differ).
//!
//! One [`Router`] serves the paths of both LinkedIn hosts, so tests mount it
//! once and point both the OAuth and the API base URL at it:
//! - `www.linkedin.com`: `GET /oauth/v2/authorization`, `POST /oauth/v2/accessToken`,
//!   `POST /oauth/v2/revoke`: the generic [`OAuthServer`] with LinkedIn's
//!   settings (client credentials in the body, comma-separated sorted `scope`,
//!   60-day access tokens, no refresh tokens unless asked, no PKCE for web
//!   apps, `user_cancelled_authorize` on refusal);
//! - `api.linkedin.com`: `GET /v2/userinfo` ([`userinfo`]) and
//!   `GET /rest/memberSnapshotData` ([`snapshot`]).
//!
//! # Layout
//! - [`members`]: [`SandboxMember`], the simulated members, defaults and a generator.
//! - `userinfo`, `snapshot`: the two API handlers.
//! - `errors`: LinkedIn's error bodies (`status`, `serviceErrorCode`, `code`, `message`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use axum::routing::get;
use axum::Router;
use parking_lot::RwLock;
use tokio::net::TcpListener;

use super::oauth_server::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use super::{
    AccessTokenStatus, ClientAuth, OAuthClient, OAuthServer, OAuthServerConfig, PkceMode,
    SandboxHandle, SandboxServer, TokenInfo,
};

mod errors;
pub mod members;
pub mod snapshot;
mod userinfo;

#[cfg(test)]
mod tests;

pub use members::{
    Education, Endorsement, MemberLocale, MonthYear, Position, ProfileFields, SandboxMember,
    EEA_MEMBER_SUB, NO_EMAIL_MEMBER_SUB, US_MEMBER_SUB,
};
pub use snapshot::{FILLED_DOMAINS, PAGE_SIZE, PORTABILITY_SCOPE};

use errors::ApiError;

/// LinkedIn's authorization endpoint path.
pub const AUTHORIZE_PATH: &str = "/oauth/v2/authorization";
/// LinkedIn's token endpoint path.
pub const TOKEN_PATH: &str = "/oauth/v2/accessToken";
/// LinkedIn's (undocumented but widely used) revocation endpoint path.
pub const REVOKE_PATH: &str = "/oauth/v2/revoke";
/// The OIDC userinfo path on the API host.
pub const USERINFO_PATH: &str = "/v2/userinfo";
/// The Member Snapshot API path on the API host.
pub const SNAPSHOT_PATH: &str = "/rest/memberSnapshotData";

/// Looks up members that are not in [`LinkedInSandboxConfig::members`] by sub
/// (e.g. generated ones), so a load test needs no large table.
pub type MemberFactory = Arc<dyn Fn(&str) -> Option<SandboxMember> + Send + Sync>;

/// How a [`LinkedInSandbox`] behaves.
#[derive(Clone)]
pub struct LinkedInSandboxConfig {
    /// The registered app's client id (default the generic sandbox client id).
    pub client_id: String,
    /// The registered app's client secret.
    pub client_secret: String,
    /// Members known up front (default [`SandboxMember::defaults`]); the first
    /// one is logged in at LinkedIn until [`LinkedInSandbox::set_member`].
    pub members: Vec<SandboxMember>,
    /// Asked for a sub not in `members` (default `None`).
    pub member_factory: Option<MemberFactory>,
    /// `LinkedIn-Version` values `/rest` accepts (default 202312 and a few later months).
    pub accepted_versions: Vec<String>,
    /// Whether the code grant issues refresh tokens, as for approved MDP
    /// partners only (default false).
    pub issue_refresh_tokens: bool,
    /// Access token lifetime (default 60 days, 5184000 s).
    pub access_token_ttl: Duration,
    /// Refresh token lifetime from the first authorization (default 365 days).
    pub refresh_token_ttl: Duration,
    /// PKCE handling (default [`PkceMode::Rejected`], as for confidential web
    /// apps; LinkedIn enables PKCE for native apps only).
    pub pkce: PkceMode,
    /// Scopes the app may request; others are refused with
    /// `unauthorized_scope_error` (default `openid profile email r_dma_portability_3rd_party`).
    pub allowed_scopes: Vec<String>,
}

impl Default for LinkedInSandboxConfig {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            members: SandboxMember::defaults(),
            member_factory: None,
            accepted_versions: ["202312", "202406", "202412", "202505", "202510"]
                .map(str::to_owned)
                .to_vec(),
            issue_refresh_tokens: false,
            access_token_ttl: Duration::from_secs(5_184_000),
            refresh_token_ttl: Duration::from_secs(31_536_000),
            pkce: PkceMode::Rejected,
            allowed_scopes: ["openid", "profile", "email", PORTABILITY_SCOPE]
                .map(str::to_owned)
                .to_vec(),
        }
    }
}

impl LinkedInSandboxConfig {
    /// Also know every member [`SandboxMember::generated`] can make (subs
    /// `gen0000000`, `gen0000001`, ...), built on demand.
    pub fn with_generated_members(mut self) -> Self {
        self.member_factory = Some(Arc::new(|sub: &str| {
            SandboxMember::generated_index(sub).map(SandboxMember::generated)
        }));
        self
    }

    /// Use `factory` for subs not in `members`.
    pub fn with_member_factory(
        mut self,
        factory: impl Fn(&str) -> Option<SandboxMember> + Send + Sync + 'static,
    ) -> Self {
        self.member_factory = Some(Arc::new(factory));
        self
    }

    /// The generic OAuth server's configuration with LinkedIn's settings.
    pub fn oauth_config(&self) -> OAuthServerConfig {
        OAuthServerConfig {
            authorize_path: AUTHORIZE_PATH.to_owned(),
            token_path: TOKEN_PATH.to_owned(),
            revoke_path: REVOKE_PATH.to_owned(),
            clients: vec![OAuthClient::new(&self.client_id, &self.client_secret)],
            access_token_ttl: self.access_token_ttl,
            issue_refresh_tokens: self.issue_refresh_tokens,
            // LinkedIn answers a refresh with a new access token only.
            rotate_refresh_tokens: false,
            refresh_token_ttl: Some(self.refresh_token_ttl),
            client_auth: ClientAuth::Body,
            add_iss_to_callback: None,
            // Codes live 30 minutes at LinkedIn.
            code_ttl: Duration::from_secs(30 * 60),
            allowed_scopes: Some(self.allowed_scopes.clone()),
            response_scope_separator: ",".to_owned(),
            sort_response_scopes: true,
            pkce: self.pkce,
            denied_error: "user_cancelled_authorize".to_owned(),
            denied_error_description:
                "The user cancelled the authorization request from your application".to_owned(),
            scope_error: "unauthorized_scope_error".to_owned(),
            ..OAuthServerConfig::default()
        }
    }
}

impl std::fmt::Debug for LinkedInSandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInSandboxConfig")
            .field("client_id", &self.client_id)
            .field("members", &self.members.len())
            .field("member_factory", &self.member_factory.is_some())
            .field("accepted_versions", &self.accepted_versions)
            .field("issue_refresh_tokens", &self.issue_refresh_tokens)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("pkce", &self.pkce)
            .finish_non_exhaustive()
    }
}

/// Handle to the LinkedIn sandbox's state. Clone freely.
#[derive(Clone)]
pub struct LinkedInSandbox {
    config: Arc<LinkedInSandboxConfig>,
    oauth: OAuthServer,
    members: Arc<RwLock<HashMap<String, SandboxMember>>>,
}

impl LinkedInSandbox {
    /// A sandbox with this configuration, its first member logged in.
    pub fn new(config: LinkedInSandboxConfig) -> Self {
        let oauth = OAuthServer::new(config.oauth_config());
        if let Some(first) = config.members.first() {
            oauth.set_subject(first.sub.clone());
        }
        let members = config
            .members
            .iter()
            .map(|m| (m.sub.clone(), m.clone()))
            .collect();
        Self {
            config: Arc::new(config),
            oauth,
            members: Arc::new(RwLock::new(members)),
        }
    }

    /// Start a default sandbox on `listener` through a [`SandboxServer`] (faults,
    /// rate limits, request log and admin routes apply).
    pub fn start(listener: TcpListener) -> std::io::Result<(LinkedInSandbox, SandboxHandle)> {
        Self::start_with(LinkedInSandboxConfig::default(), listener)
    }

    /// [`start`](Self::start) with a configuration.
    pub fn start_with(
        config: LinkedInSandboxConfig,
        listener: TcpListener,
    ) -> std::io::Result<(LinkedInSandbox, SandboxHandle)> {
        let sandbox = Self::new(config);
        let handle = sandbox.server().start(listener)?;
        Ok((sandbox, handle))
    }

    /// A [`SandboxServer`] named `linkedin` serving [`router`](Self::router) and the admin routes.
    pub fn server(&self) -> SandboxServer {
        SandboxServer::new(self.router())
            .named("linkedin")
            .with_admin_routes()
    }

    /// Every route of both LinkedIn hosts.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route(USERINFO_PATH, get(userinfo::userinfo))
            .route(SNAPSHOT_PATH, get(snapshot::member_snapshot_data))
            .with_state(self.clone());
        self.oauth.router().merge(api)
    }

    /// The configuration the sandbox was built with.
    pub fn config(&self) -> &LinkedInSandboxConfig {
        &self.config
    }

    /// The authorization server: token counters, consent, expiry, revocation.
    pub fn oauth(&self) -> &OAuthServer {
        &self.oauth
    }

    /// The member logged in at LinkedIn from now on (who the next
    /// authorization is for).
    pub fn set_member(&self, sub: &str) {
        self.oauth.set_subject(sub);
    }

    /// A copy of the member with this sub, if known (factory included).
    pub fn member(&self, sub: &str) -> Option<SandboxMember> {
        if let Some(m) = self.members.read().get(sub) {
            return Some(m.clone());
        }
        self.config.member_factory.as_ref().and_then(|f| f(sub))
    }

    /// Change a member, e.g. a new headline between two syncs. Returns false
    /// for an unknown sub.
    pub fn update_member(&self, sub: &str, change: impl FnOnce(&mut SandboxMember)) -> bool {
        let mut members = self.members.write();
        if !members.contains_key(sub) {
            let Some(made) = self.config.member_factory.as_ref().and_then(|f| f(sub)) else {
                return false;
            };
            members.insert(sub.to_owned(), made);
        }
        match members.get_mut(sub) {
            Some(m) => {
                change(m);
                true
            }
            None => false,
        }
    }

    /// Add (or replace) a member.
    pub fn insert_member(&self, member: SandboxMember) {
        self.members.write().insert(member.sub.clone(), member);
    }
}

impl std::fmt::Debug for LinkedInSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInSandbox")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The bearer token's grant and member, or LinkedIn's 401.
fn authenticate(
    sandbox: &LinkedInSandbox,
    headers: &HeaderMap,
) -> Result<(TokenInfo, SandboxMember), ApiError> {
    if !headers.contains_key(header::AUTHORIZATION) {
        return Err(ApiError::empty_token());
    }
    match sandbox.oauth.bearer_status(headers) {
        AccessTokenStatus::Active(info) => {
            let member = sandbox
                .member(&info.subject)
                .ok_or_else(ApiError::invalid_token)?;
            Ok((info, member))
        }
        other => Err(ApiError::for_status(&other)),
    }
}
