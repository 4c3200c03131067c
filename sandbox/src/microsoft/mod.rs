//! The Microsoft sandbox: the Microsoft identity platform's OAuth 2.0
//! endpoints and the parts of Microsoft Graph v1.0 the service uses, on one
//! [`Router`] serving the paths of both hosts:
//! - `login.microsoftonline.com`: `GET /{tenant}/oauth2/v2.0/authorize`,
//!   `POST /{tenant}/oauth2/v2.0/token` (any tenant segment: `common`,
//!   `organizations`, a tenant id). PKCE (S256) required; a refresh token
//!   only with scope `offline_access`; refresh tokens rotate (every refresh
//!   answers a new one and the old one is refused at once: the platform
//!   documents the replacement, not how long the old one keeps working, so
//!   the sandbox is strict). `POST /{tenant}/oauth2/v2.0/logout` revokes
//!   (RFC 7009 style): a sandbox convenience, the platform has no such
//!   revocation endpoint.
//! - `graph.microsoft.com`: `/v1.0/me`, `/v1.0/me/calendars`,
//!   `/v1.0/me/events`, `/v1.0/me/calendars/{id}/events`,
//!   `/v1.0/me/events/{id}`, `/v1.0/me/calendar/getSchedule` ([`graph`]).
//!
//! Shapes follow Graph v1.0's `microsoft-graph.d.ts` (`interface Event`,
//! `ScheduleInformation`, `ScheduleItem`, `Calendar`, `User`) and the Graph
//! reference pages; details not verified are marked so.
//!
//! Graph permission names are compared case-insensitively, with or without
//! the `https://graph.microsoft.com/` prefix.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::net::TcpListener;

use super::after_store::{AfterStore, AfterStoreFault};
use super::oauth_server::{RefreshTokenRule, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use super::{
    AccessTokenStatus, ClientAuth, OAuthClient, OAuthServer, OAuthServerConfig, PkceMode,
    SandboxHandle, SandboxServer, TokenInfo,
};

mod errors;
pub mod graph;
pub mod time_zones;

#[cfg(test)]
mod tests;

use errors::GraphError;

/// Authorization endpoint path (any tenant).
pub const AUTHORIZE_PATH: &str = "/{tenant}/oauth2/v2.0/authorize";
/// Token endpoint path (any tenant).
pub const TOKEN_PATH: &str = "/{tenant}/oauth2/v2.0/token";
/// Sandbox-only revocation path (any tenant).
pub const REVOKE_PATH: &str = "/{tenant}/oauth2/v2.0/logout";
/// Graph's version prefix.
pub const GRAPH_PREFIX: &str = "/v1.0";

/// Id of the first default account.
pub const DEFAULT_USER_ID: &str = "4b9e5f3a-7c2d-4e1f-9a8b-0c6d2e3f4a51";
/// Mail of the first default account.
pub const DEFAULT_MAIL: &str = "alan.turing@contoso.example";

/// A simulated Microsoft 365 user with one default calendar.
#[derive(Debug, Clone)]
pub struct MicrosoftAccount {
    /// The user's object id (also the OAuth subject).
    pub id: String,
    /// `displayName`.
    pub display_name: String,
    /// `mail` (also the `scheduleId` getSchedule knows the user by).
    pub mail: String,
    /// `userPrincipalName`.
    pub user_principal_name: String,
    /// Busy blocks getSchedule reports besides the stored events.
    pub busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl MicrosoftAccount {
    /// An account whose UPN is its mail.
    pub fn new(id: &str, display_name: &str, mail: &str) -> Self {
        Self {
            id: id.to_owned(),
            display_name: display_name.to_owned(),
            mail: mail.to_owned(),
            user_principal_name: mail.to_owned(),
            busy: Vec::new(),
        }
    }

    /// Alan and Katherine.
    pub fn defaults() -> Vec<MicrosoftAccount> {
        vec![
            MicrosoftAccount::new(DEFAULT_USER_ID, "Alan Turing", DEFAULT_MAIL),
            MicrosoftAccount::new(
                "8d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c62",
                "Katherine Johnson",
                "katherine.johnson@contoso.example",
            ),
        ]
    }

    /// The id of the user's default calendar (stable per account).
    pub fn default_calendar_id(&self) -> String {
        use base64::Engine;
        format!(
            "AAMkAGCal{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.id.as_bytes())
        )
    }
}

/// How a [`MicrosoftSandbox`] behaves.
#[derive(Debug, Clone)]
pub struct MicrosoftSandboxConfig {
    /// The registered app's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// Users; the first one is signed in until [`MicrosoftSandbox::set_account`].
    pub accounts: Vec<MicrosoftAccount>,
    /// Access token lifetime (default 3599 s).
    pub access_token_ttl: Duration,
    /// Refresh token lifetime (default 90 days).
    pub refresh_token_ttl: Duration,
    /// How long a "store then time out" answer is held (default 120 s).
    pub store_then_timeout_delay: Duration,
}

impl Default for MicrosoftSandboxConfig {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            accounts: MicrosoftAccount::defaults(),
            access_token_ttl: Duration::from_secs(3599),
            refresh_token_ttl: Duration::from_secs(90 * 24 * 3600),
            store_then_timeout_delay: Duration::from_secs(120),
        }
    }
}

impl MicrosoftSandboxConfig {
    /// The generic OAuth server's configuration with the identity platform's settings.
    pub fn oauth_config(&self) -> OAuthServerConfig {
        OAuthServerConfig {
            authorize_path: AUTHORIZE_PATH.to_owned(),
            token_path: TOKEN_PATH.to_owned(),
            revoke_path: REVOKE_PATH.to_owned(),
            clients: vec![OAuthClient::new(&self.client_id, &self.client_secret)],
            access_token_ttl: self.access_token_ttl,
            issue_refresh_tokens: true,
            rotate_refresh_tokens: true,
            // Sliding lifetime at Microsoft; the generic server keeps the
            // first expiry on rotation (a simplification).
            refresh_token_ttl: Some(self.refresh_token_ttl),
            client_auth: ClientAuth::Either,
            pkce: PkceMode::Required,
            refresh_token_rule: RefreshTokenRule::WithScope("offline_access".to_owned()),
            ..OAuthServerConfig::default()
        }
    }
}

/// One stored event.
#[derive(Debug, Clone)]
pub struct StoredGraphEvent {
    /// The calendar it lives in.
    pub calendar_id: String,
    /// The event as stored (what GET answers, times in their original zones).
    pub resource: Value,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant.
    pub end: DateTime<Utc>,
    /// Names of request fields the sandbox ignored (read-only ones such as
    /// `onlineMeetingUrl`, or unknown ones), accumulated over writes.
    pub ignored_fields: Vec<String>,
}

impl StoredGraphEvent {
    /// The event id.
    pub fn id(&self) -> &str {
        self.resource["id"].as_str().unwrap_or_default()
    }
}

/// A busy interval `[start, end)`.
pub type BusyBlock = (DateTime<Utc>, DateTime<Utc>);

#[derive(Default)]
pub(crate) struct GraphState {
    /// Per user id: event id → event.
    pub(crate) events: HashMap<String, BTreeMap<String, StoredGraphEvent>>,
    /// Per user id: transactionId → event id.
    pub(crate) transactions: HashMap<String, HashMap<String, String>>,
    /// Extra busy blocks per mail (lowercase).
    pub(crate) busy: HashMap<String, Vec<BusyBlock>>,
    pub(crate) throttle: Option<(u32, u64)>,
    pub(crate) deleted: u64,
}

/// Handle to the Microsoft sandbox's state. Clone freely.
#[derive(Clone)]
pub struct MicrosoftSandbox {
    config: Arc<MicrosoftSandboxConfig>,
    oauth: OAuthServer,
    pub(crate) state: Arc<Mutex<GraphState>>,
    after_store: AfterStoreFault,
}

impl MicrosoftSandbox {
    /// A sandbox with this configuration, its first user signed in.
    pub fn new(config: MicrosoftSandboxConfig) -> Self {
        let oauth = OAuthServer::new(config.oauth_config());
        if let Some(first) = config.accounts.first() {
            oauth.set_subject(first.id.clone());
        }
        Self {
            config: Arc::new(config),
            oauth,
            state: Arc::new(Mutex::new(GraphState::default())),
            after_store: AfterStoreFault::default(),
        }
    }

    /// Start a default sandbox on `listener`.
    pub fn start(listener: TcpListener) -> std::io::Result<(MicrosoftSandbox, SandboxHandle)> {
        Self::start_with(MicrosoftSandboxConfig::default(), listener)
    }

    /// [`start`](Self::start) with a configuration.
    pub fn start_with(
        config: MicrosoftSandboxConfig,
        listener: TcpListener,
    ) -> std::io::Result<(MicrosoftSandbox, SandboxHandle)> {
        let sandbox = Self::new(config);
        let handle = sandbox.server().start(listener)?;
        Ok((sandbox, handle))
    }

    /// A [`SandboxServer`] named `microsoft` serving [`router`](Self::router) and the admin routes.
    pub fn server(&self) -> SandboxServer {
        SandboxServer::new(self.router())
            .named("microsoft")
            .with_admin_routes()
    }

    /// Every route of both hosts.
    pub fn router(&self) -> Router {
        let p = GRAPH_PREFIX;
        let api = Router::new()
            .route(&format!("{p}/me"), get(graph::me))
            .route(&format!("{p}/me/calendars"), get(graph::calendars))
            .route(&format!("{p}/me/events"), post(graph::create_default))
            .route(
                &format!("{p}/me/calendars/{{calendar_id}}/events"),
                post(graph::create_in),
            )
            .route(
                &format!("{p}/me/events/{{event_id}}"),
                get(graph::get_event)
                    .patch(graph::patch_event)
                    .delete(graph::delete_event),
            )
            .route(
                &format!("{p}/me/calendar/getSchedule"),
                post(graph::get_schedule),
            )
            .with_state(self.clone());
        self.oauth.router().merge(api)
    }

    /// The configuration the sandbox was built with.
    pub fn config(&self) -> &MicrosoftSandboxConfig {
        &self.config
    }

    /// The authorization server.
    pub fn oauth(&self) -> &OAuthServer {
        &self.oauth
    }

    /// The user signed in from now on (by id).
    pub fn set_account(&self, id: &str) {
        self.oauth.set_subject(id);
    }

    /// An access token for the user with this mail and these permissions
    /// (e.g. `Calendars.ReadWrite`), without the authorization dance.
    pub fn mint_token(&self, mail: &str, scopes: &[&str]) -> Option<String> {
        let account = self.account_by_mail(mail)?;
        Some(
            self.oauth
                .mint_access_token(&account.id, &self.config.client_id, scopes),
        )
    }

    /// The user with this id.
    pub fn account(&self, id: &str) -> Option<&MicrosoftAccount> {
        self.config.accounts.iter().find(|a| a.id == id)
    }

    /// The user with this mail or UPN (case-insensitive).
    pub fn account_by_mail(&self, mail: &str) -> Option<&MicrosoftAccount> {
        self.config.accounts.iter().find(|a| {
            a.mail.eq_ignore_ascii_case(mail) || a.user_principal_name.eq_ignore_ascii_case(mail)
        })
    }

    /// Every stored event of the user with this mail, in id order.
    pub fn events(&self, mail: &str) -> Vec<StoredGraphEvent> {
        let Some(account) = self.account_by_mail(mail) else {
            return Vec::new();
        };
        self.state
            .lock()
            .events
            .get(&account.id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One stored event.
    pub fn event(&self, mail: &str, id: &str) -> Option<StoredGraphEvent> {
        let account = self.account_by_mail(mail)?;
        self.state
            .lock()
            .events
            .get(&account.id)
            .and_then(|m| m.get(id).cloned())
    }

    /// How many events the user has.
    pub fn event_count(&self, mail: &str) -> usize {
        self.events(mail).len()
    }

    /// How many events were deleted through the API, all users together.
    pub fn deleted_count(&self) -> u64 {
        self.state.lock().deleted
    }

    /// Add a busy block getSchedule reports for this mail from now on.
    pub fn add_busy(&self, mail: &str, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.state
            .lock()
            .busy
            .entry(mail.to_ascii_lowercase())
            .or_default()
            .push((start, end));
    }

    /// Store the next created event, then hold its answer for
    /// [`MicrosoftSandboxConfig::store_then_timeout_delay`] (one shot).
    pub fn store_then_timeout_next(&self) {
        self.after_store
            .arm(AfterStore::Delay(self.config.store_then_timeout_delay));
    }

    /// Store the next created event, then drop the connection (one shot).
    pub fn store_then_drop_next(&self) {
        self.after_store.arm(AfterStore::Drop);
    }

    /// The "store then fail" switch itself.
    pub fn after_store(&self) -> &AfterStoreFault {
        &self.after_store
    }

    /// Answer the next `n` Graph calls with 429 `ApplicationThrottled` and
    /// `Retry-After: retry_after_secs`, in Graph's error shape.
    pub fn throttle_next(&self, n: u32, retry_after_secs: u64) {
        self.state.lock().throttle = (n > 0).then_some((n, retry_after_secs));
    }

    /// The bearer token's grant and user, a 401 `InvalidAuthenticationToken`,
    /// or a scripted 429.
    pub(crate) fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<(TokenInfo, MicrosoftAccount), GraphError> {
        let info = match self.oauth.bearer_status(headers) {
            AccessTokenStatus::Active(info) => info,
            AccessTokenStatus::Expired => {
                return Err(GraphError::invalid_token(
                    "Lifetime validation failed, the token is expired.",
                ))
            }
            _ if !headers.contains_key(axum::http::header::AUTHORIZATION) => {
                return Err(GraphError::invalid_token("Access token is empty."))
            }
            _ => {
                return Err(GraphError::invalid_token(
                    "IDX14100: JWT is not well formed, there are no dots (.).",
                ))
            }
        };
        let account = self
            .account(&info.subject)
            .cloned()
            .ok_or_else(|| GraphError::invalid_token("Access token validation failure."))?;
        let mut st = self.state.lock();
        if let Some((n, secs)) = st.throttle.take() {
            st.throttle = (n > 1).then_some((n - 1, secs));
            return Err(GraphError::throttled(secs));
        }
        Ok((info, account))
    }

    pub(crate) fn take_after_store(&self) -> Option<AfterStore> {
        self.after_store.take()
    }
}

impl std::fmt::Debug for MicrosoftSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MicrosoftSandbox")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Whether the grant holds any of these Graph permissions (case-insensitive,
/// with or without the resource prefix).
pub(crate) fn has_permission(info: &TokenInfo, wanted: &[&str]) -> bool {
    info.scopes.iter().any(|s| {
        let name = s.strip_prefix("https://graph.microsoft.com/").unwrap_or(s);
        wanted.iter().any(|w| w.eq_ignore_ascii_case(name))
    })
}
