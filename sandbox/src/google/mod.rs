//! The Google sandbox: Google's OAuth 2.0 endpoints, the OpenID Connect
//! userinfo endpoint and the parts of Calendar API v3 the service uses, on
//! one [`Router`] serving the paths of every Google host involved:
//! - `accounts.google.com`: `GET /o/oauth2/v2/auth`;
//! - `oauth2.googleapis.com`: `POST /token`, `POST /revoke` (form field
//!   `token`, no client authentication; revoking an access token ends its
//!   refresh token too, as Google documents);
//! - `openidconnect.googleapis.com`: `GET /v1/userinfo`;
//! - `www.googleapis.com`: `/calendar/v3/...` ([`events`], [`freebusy`]).
//!
//! Shapes are written from Google's discovery document `calendar.v3.json`
//! and the Calendar guides ("Handle API errors", "Manage quotas"), not from
//! any client code. Where a detail could not be verified it says so.
//!
//! OAuth: PKCE (S256) is required; a refresh token comes only when the
//! authorization request had `access_type=offline` **and** `prompt=consent`
//! (a simplification: real Google also gives one on the first consent of
//! an offline request without `prompt=consent`); refresh tokens are not
//! rotated (a refresh answers a new access token only).
//!
//! # Layout
//! - `errors`: Google's error body.
//! - [`events`]: `calendarList`, events insert/get/patch/update/delete/list.
//! - [`freebusy`]: `POST /calendar/v3/freeBusy`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::after_store::{AfterStore, AfterStoreFault};
use super::oauth_server::{RefreshTokenRule, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use super::{
    AccessTokenStatus, ClientAuth, OAuthClient, OAuthServer, OAuthServerConfig, PkceMode,
    SandboxHandle, SandboxServer, TokenInfo,
};

mod errors;
pub mod events;
pub mod freebusy;

#[cfg(test)]
mod tests;

use errors::GoogleError;

/// Google's authorization endpoint path (`accounts.google.com`).
pub const AUTHORIZE_PATH: &str = "/o/oauth2/v2/auth";
/// Google's token endpoint path (`oauth2.googleapis.com`).
pub const TOKEN_PATH: &str = "/token";
/// Google's revocation endpoint path (`oauth2.googleapis.com`).
pub const REVOKE_PATH: &str = "/revoke";
/// The OpenID Connect userinfo path (`openidconnect.googleapis.com`).
pub const USERINFO_PATH: &str = "/v1/userinfo";
/// Prefix of Calendar API v3 paths (`www.googleapis.com`).
pub const CALENDAR_PREFIX: &str = "/calendar/v3";

/// Scope `https://www.googleapis.com/auth/calendar`: everything.
pub const SCOPE_CALENDAR: &str = "https://www.googleapis.com/auth/calendar";
/// Scope `.../auth/calendar.readonly`.
pub const SCOPE_CALENDAR_READONLY: &str = "https://www.googleapis.com/auth/calendar.readonly";
/// Scope `.../auth/calendar.events`: events read and write, no free/busy.
pub const SCOPE_EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
/// Scope `.../auth/calendar.events.readonly`.
pub const SCOPE_EVENTS_READONLY: &str = "https://www.googleapis.com/auth/calendar.events.readonly";
/// Scope `.../auth/calendar.freebusy` (the granular free/busy scope).
pub const SCOPE_FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.freebusy";

/// Email of the first default account.
pub const DEFAULT_EMAIL: &str = "ada.lovelace@gmail.example";
/// Sub of the first default account.
pub const DEFAULT_SUB: &str = "110248495921238986420";

/// A simulated Google account with one primary calendar (its id is the email).
#[derive(Debug, Clone)]
pub struct GoogleAccount {
    /// OIDC `sub` (also the OAuth subject).
    pub sub: String,
    /// The address; also the primary calendar's id.
    pub email: String,
    /// `email_verified` in userinfo.
    pub email_verified: bool,
    /// Display name (`name` in userinfo, `summary` of the primary calendar is the email).
    pub name: String,
    /// IANA time zone of the primary calendar.
    pub time_zone: String,
    /// Busy blocks free/busy reports besides the stored events (`[start, end)`).
    pub busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl GoogleAccount {
    /// An account with no pre-seeded busy blocks.
    pub fn new(sub: &str, email: &str, name: &str, time_zone: &str) -> Self {
        Self {
            sub: sub.to_owned(),
            email: email.to_owned(),
            email_verified: true,
            name: name.to_owned(),
            time_zone: time_zone.to_owned(),
            busy: Vec::new(),
        }
    }

    /// Two accounts: Ada (Europe/Berlin) and Grace (Africa/Nairobi).
    pub fn defaults() -> Vec<GoogleAccount> {
        vec![
            GoogleAccount::new(DEFAULT_SUB, DEFAULT_EMAIL, "Ada Lovelace", "Europe/Berlin"),
            GoogleAccount::new(
                "110248495921238986421",
                "grace.hopper@gmail.example",
                "Grace Hopper",
                "Africa/Nairobi",
            ),
        ]
    }
}

/// How a [`GoogleSandbox`] behaves.
#[derive(Debug, Clone)]
pub struct GoogleSandboxConfig {
    /// The registered client's id.
    pub client_id: String,
    /// The registered client's secret.
    pub client_secret: String,
    /// Accounts; the first one is signed in until [`GoogleSandbox::set_account`].
    pub accounts: Vec<GoogleAccount>,
    /// Access token lifetime (default 3599 s, as Google answers).
    pub access_token_ttl: Duration,
    /// Refresh token lifetime (default `None`; `Some(7 days)` imitates an app in
    /// Testing status with the External user type).
    pub refresh_token_ttl: Option<Duration>,
    /// How long a "store then time out" answer is held (default 120 s).
    pub store_then_timeout_delay: Duration,
}

impl Default for GoogleSandboxConfig {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            accounts: GoogleAccount::defaults(),
            access_token_ttl: Duration::from_secs(3599),
            refresh_token_ttl: None,
            store_then_timeout_delay: Duration::from_secs(120),
        }
    }
}

impl GoogleSandboxConfig {
    /// The generic OAuth server's configuration with Google's settings.
    pub fn oauth_config(&self) -> OAuthServerConfig {
        OAuthServerConfig {
            authorize_path: AUTHORIZE_PATH.to_owned(),
            token_path: TOKEN_PATH.to_owned(),
            revoke_path: REVOKE_PATH.to_owned(),
            clients: vec![OAuthClient::new(&self.client_id, &self.client_secret)],
            access_token_ttl: self.access_token_ttl,
            issue_refresh_tokens: true,
            rotate_refresh_tokens: false,
            refresh_token_ttl: self.refresh_token_ttl,
            client_auth: ClientAuth::Either,
            pkce: PkceMode::Required,
            refresh_token_rule: RefreshTokenRule::WithParams(vec![
                ("access_type".to_owned(), "offline".to_owned()),
                ("prompt".to_owned(), "consent".to_owned()),
            ]),
            revoke_requires_client_auth: false,
            revoke_access_ends_grant: true,
            ..OAuthServerConfig::default()
        }
    }
}

/// Which 403 the rate-limit switch answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoogleRateLimit {
    /// `rateLimitExceeded` (per calendar or per user).
    RateLimitExceeded,
    /// `userRateLimitExceeded` (a Cloud console limit).
    UserRateLimitExceeded,
}

/// One stored event: the resource as Google would answer it, plus bookkeeping.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The calendar it lives in (always an id, never `primary`).
    pub calendar_id: String,
    /// The event resource as stored (what GET answers).
    pub resource: Value,
    /// `sendUpdates` of the last write (`None`: not given).
    pub send_updates: Option<String>,
    /// Change counter for sync tokens.
    pub(crate) changed_at: u64,
}

impl StoredEvent {
    /// The event id.
    pub fn id(&self) -> &str {
        self.resource["id"].as_str().unwrap_or_default()
    }

    /// `status` (`confirmed`, `tentative`, `cancelled`).
    pub fn status(&self) -> &str {
        self.resource["status"].as_str().unwrap_or_default()
    }
}

/// A busy interval `[start, end)`.
pub type BusyBlock = (DateTime<Utc>, DateTime<Utc>);

#[derive(Default)]
pub(crate) struct CalendarState {
    /// Per account sub: event id → event (of every calendar of that account).
    pub(crate) events: HashMap<String, BTreeMap<String, StoredEvent>>,
    /// Extra busy blocks added at run time, per email.
    pub(crate) busy: HashMap<String, Vec<BusyBlock>>,
    pub(crate) rate_limit: Option<(u32, GoogleRateLimit)>,
    pub(crate) change_counter: u64,
}

/// Handle to the Google sandbox's state. Clone freely.
#[derive(Clone)]
pub struct GoogleSandbox {
    config: Arc<GoogleSandboxConfig>,
    oauth: OAuthServer,
    pub(crate) state: Arc<Mutex<CalendarState>>,
    after_store: AfterStoreFault,
}

impl GoogleSandbox {
    /// A sandbox with this configuration, its first account signed in.
    pub fn new(config: GoogleSandboxConfig) -> Self {
        let oauth = OAuthServer::new(config.oauth_config());
        if let Some(first) = config.accounts.first() {
            oauth.set_subject(first.sub.clone());
        }
        Self {
            config: Arc::new(config),
            oauth,
            state: Arc::new(Mutex::new(CalendarState::default())),
            after_store: AfterStoreFault::default(),
        }
    }

    /// Start a default sandbox on `listener`.
    pub fn start(listener: TcpListener) -> std::io::Result<(GoogleSandbox, SandboxHandle)> {
        Self::start_with(GoogleSandboxConfig::default(), listener)
    }

    /// [`start`](Self::start) with a configuration.
    pub fn start_with(
        config: GoogleSandboxConfig,
        listener: TcpListener,
    ) -> std::io::Result<(GoogleSandbox, SandboxHandle)> {
        let sandbox = Self::new(config);
        let handle = sandbox.server().start(listener)?;
        Ok((sandbox, handle))
    }

    /// A [`SandboxServer`] named `google` serving [`router`](Self::router) and the admin routes.
    pub fn server(&self) -> SandboxServer {
        SandboxServer::new(self.router())
            .named("google")
            .with_admin_routes()
    }

    /// Every route of every Google host involved.
    pub fn router(&self) -> Router {
        let c = CALENDAR_PREFIX;
        let api = Router::new()
            .route(USERINFO_PATH, get(userinfo))
            .route(
                &format!("{c}/users/me/calendarList"),
                get(events::calendar_list),
            )
            .route(
                &format!("{c}/calendars/{{calendar_id}}/events"),
                post(events::insert).get(events::list),
            )
            .route(
                &format!("{c}/calendars/{{calendar_id}}/events/{{event_id}}"),
                get(events::get_event)
                    .patch(events::patch)
                    .put(events::update)
                    .delete(events::delete),
            )
            .route(&format!("{c}/freeBusy"), post(freebusy::query))
            .with_state(self.clone());
        self.oauth.router().merge(api)
    }

    /// The configuration the sandbox was built with.
    pub fn config(&self) -> &GoogleSandboxConfig {
        &self.config
    }

    /// The authorization server: tokens, consent, expiry, revocation.
    pub fn oauth(&self) -> &OAuthServer {
        &self.oauth
    }

    /// The account signed in at Google from now on (by sub).
    pub fn set_account(&self, sub: &str) {
        self.oauth.set_subject(sub);
    }

    /// An access token for the account with this email and these scopes,
    /// without the authorization dance. `None` for an unknown email.
    pub fn mint_token(&self, email: &str, scopes: &[&str]) -> Option<String> {
        let account = self.account_by_email(email)?;
        Some(
            self.oauth
                .mint_access_token(&account.sub, &self.config.client_id, scopes),
        )
    }

    /// The account with this sub.
    pub fn account(&self, sub: &str) -> Option<&GoogleAccount> {
        self.config.accounts.iter().find(|a| a.sub == sub)
    }

    /// The account with this email (case-insensitive).
    pub fn account_by_email(&self, email: &str) -> Option<&GoogleAccount> {
        self.config
            .accounts
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(email))
    }

    /// Every stored event of the account with this email, cancelled ones
    /// included, in id order.
    pub fn events(&self, email: &str) -> Vec<StoredEvent> {
        let Some(account) = self.account_by_email(email) else {
            return Vec::new();
        };
        self.state
            .lock()
            .events
            .get(&account.sub)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One stored event by id.
    pub fn event(&self, email: &str, event_id: &str) -> Option<StoredEvent> {
        let account = self.account_by_email(email)?;
        self.state
            .lock()
            .events
            .get(&account.sub)
            .and_then(|m| m.get(event_id).cloned())
    }

    /// How many events are stored for the account (cancelled ones included).
    pub fn event_count(&self, email: &str) -> usize {
        self.events(email).len()
    }

    /// How many stored events are not cancelled.
    pub fn live_event_count(&self, email: &str) -> usize {
        self.events(email)
            .iter()
            .filter(|e| e.status() != "cancelled")
            .count()
    }

    /// Add a busy block free/busy reports for this email from now on.
    pub fn add_busy(&self, email: &str, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.state
            .lock()
            .busy
            .entry(email.to_ascii_lowercase())
            .or_default()
            .push((start, end));
    }

    /// Store the next inserted event, then hold its answer for
    /// [`GoogleSandboxConfig::store_then_timeout_delay`] (one shot).
    pub fn store_then_timeout_next(&self) {
        self.after_store
            .arm(AfterStore::Delay(self.config.store_then_timeout_delay));
    }

    /// Store the next inserted event, then drop the connection without an answer (one shot).
    pub fn store_then_drop_next(&self) {
        self.after_store.arm(AfterStore::Drop);
    }

    /// The "store then fail" switch itself (arm any [`AfterStore`], read how often it fired).
    pub fn after_store(&self) -> &AfterStoreFault {
        &self.after_store
    }

    /// Answer the next `n` Calendar API calls with 403 and this reason.
    pub fn rate_limit_next(&self, n: u32, kind: GoogleRateLimit) {
        self.state.lock().rate_limit = (n > 0).then_some((n, kind));
    }

    /// The bearer token's grant and account, a 401 `authError`, or a
    /// scripted 403 `rateLimitExceeded`.
    pub(crate) fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<(TokenInfo, GoogleAccount), GoogleError> {
        let info = match self.oauth.bearer_status(headers) {
            AccessTokenStatus::Active(info) => info,
            _ => return Err(GoogleError::auth()),
        };
        let account = self
            .account(&info.subject)
            .cloned()
            .ok_or_else(GoogleError::auth)?;
        let mut st = self.state.lock();
        if let Some((n, kind)) = st.rate_limit.take() {
            st.rate_limit = (n > 1).then_some((n - 1, kind));
            return Err(match kind {
                GoogleRateLimit::RateLimitExceeded => GoogleError::rate_limit(),
                GoogleRateLimit::UserRateLimitExceeded => GoogleError::user_rate_limit(),
            });
        }
        Ok((info, account))
    }

    pub(crate) fn take_after_store(&self) -> Option<AfterStore> {
        self.after_store.take()
    }
}

impl std::fmt::Debug for GoogleSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleSandbox")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Whether the grant holds any of these scopes.
pub(crate) fn has_any(info: &TokenInfo, scopes: &[&str]) -> bool {
    info.scopes.iter().any(|s| scopes.contains(&s.as_str()))
}

/// `GET /v1/userinfo` (OpenID Connect): `sub` always; `email`,
/// `email_verified` with scope `email`; `name` with scope `profile` (the
/// long `userinfo.email`/`userinfo.profile` scope URLs count too).
async fn userinfo(State(sandbox): State<GoogleSandbox>, headers: HeaderMap) -> Response {
    let info =
        match sandbox.oauth.bearer_status(&headers) {
            AccessTokenStatus::Active(info) => info,
            // Google's userinfo answers an OAuth-style error, not the API error body.
            _ => return (
                StatusCode::UNAUTHORIZED,
                Json(
                    json!({"error": "invalid_request", "error_description": "Invalid Credentials"}),
                ),
            )
                .into_response(),
        };
    let Some(account) = sandbox.account(&info.subject) else {
        return GoogleError::auth().into_response();
    };
    let mut body = serde_json::Map::new();
    body.insert("sub".to_owned(), json!(account.sub));
    if has_any(
        &info,
        &["email", "https://www.googleapis.com/auth/userinfo.email"],
    ) {
        body.insert("email".to_owned(), json!(account.email));
        body.insert("email_verified".to_owned(), json!(account.email_verified));
    }
    if has_any(
        &info,
        &[
            "profile",
            "https://www.googleapis.com/auth/userinfo.profile",
        ],
    ) {
        body.insert("name".to_owned(), json!(account.name));
    }
    Json(Value::Object(body)).into_response()
}
