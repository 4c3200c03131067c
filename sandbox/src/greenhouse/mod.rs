//! The Greenhouse sandbox: one [`Router`] serving the paths of every
//! Greenhouse host the service calls (their base URLs are configured
//! separately and all point here):
//! - `auth.greenhouse.io`: `POST /token` ([`auth`]);
//! - `harvest.greenhouse.io`: `GET /v3/jobs`, `GET /v3/job_posts`,
//!   `GET|POST /v3/applications`, `POST /v3/candidates`,
//!   `POST /v3/attachments` ([`harvest`], [`writes`], [`attachments`]);
//! - `boards-api.greenhouse.io`: `/v1/boards/{board_token}...` ([`job_board`], [`apply`]);
//! - webhooks the service receives are built and sent by [`webhooks`].
//!
//! Sources: Greenhouse's documentation source (`grnhse/greenhouse-api-docs`:
//! webhooks, Job Board API, Harvest v1) and harvestdocs.greenhouse.io's v3
//! guides (authentication, pagination, list endpoints, write migration),
//! as summarised in `docs/providers/greenhouse.md` and
//! `docs/providers/ats-field-facts.md`. Verified there: the token request,
//! bearer auth, cursor pagination with `Link` and the cursor-only rule,
//! the list filters, the Job Board API and its apply, webhook signing and
//! payloads, v1's rate-limit headers and validation body. NOT verified,
//! with the best documented shape used instead and said so in each file:
//! the token answer and errors, the v3 job and job post objects (v1's
//! Harvest objects), list bodies (arrays, as v1), v3 write bodies (v1's),
//! the v3 `per_page` bounds and rate-limit window, the 422 for a cursor
//! with other parameters, Job Board apply answers, the ping body.
//!
//! Records live in memory (`parking_lot` locks; jobs and posts in
//! `BTreeMap`s by id), so 100,000 generated jobs page quickly.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;

use super::page_faults::PageFaults;
use super::{SandboxHandle, SandboxServer};

pub mod apply;
pub mod attachments;
pub mod auth;
pub mod cursor;
pub mod data;
pub mod generate;
pub mod harvest;
pub mod job_board;
mod mutations;
mod pipeline;
pub mod posts;
pub mod rate_limit;
pub mod records;
pub mod webhooks;
pub mod writes;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod webhook_tests;
#[cfg(test)]
mod write_tests;

pub use data::{
    Department, HiringMember, HiringTeam, Job, JobStatus, Office, Opening, SalaryRange,
};
pub use posts::{JobPost, PostLocation, Question, QuestionType, QuestionValue};
pub use records::{
    Application, ApplicationOrigin, ApplicationStatus, Attachment, BoardApplication, Candidate,
    STAGES,
};
pub use webhooks::{GreenhouseWebhook, SignedDelivery};

/// Scope of `GET /v3/jobs`.
pub const SCOPE_JOBS_LIST: &str = "harvest:jobs:list";
/// Scope of `GET /v3/job_posts`.
pub const SCOPE_JOB_POSTS_LIST: &str = "harvest:job_posts:list";
/// Scope of `GET /v3/applications`.
pub const SCOPE_APPLICATIONS_LIST: &str = "harvest:applications:list";
/// Scope of `POST /v3/candidates`.
pub const SCOPE_CANDIDATES_CREATE: &str = "harvest:candidates:create";
/// Scope of `POST /v3/applications`.
pub const SCOPE_APPLICATIONS_CREATE: &str = "harvest:applications:create";
/// Scope of `POST /v3/attachments`.
pub const SCOPE_ATTACHMENTS_CREATE: &str = "harvest:attachments:create";
/// Every scope the sandbox checks.
pub const ALL_SCOPES: &[&str] = &[
    SCOPE_JOBS_LIST,
    SCOPE_JOB_POSTS_LIST,
    SCOPE_APPLICATIONS_LIST,
    SCOPE_CANDIDATES_CREATE,
    SCOPE_APPLICATIONS_CREATE,
    SCOPE_ATTACHMENTS_CREATE,
];

/// Client id of the default client.
pub const DEFAULT_CLIENT_ID: &str = "sandbox-greenhouse-client";
/// Client secret of the default client.
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-greenhouse-secret";
/// The default user id (`sub`).
pub const DEFAULT_USER_ID: u64 = 4_080_001;
/// Token of the default job board.
pub const DEFAULT_BOARD_TOKEN: &str = "nextke";
/// Job Board API key of the default board.
pub const DEFAULT_BOARD_API_KEY: &str = "sandbox-greenhouse-board-key";

/// A client-credentials client of the Harvest v3 token endpoint.
#[derive(Clone)]
pub struct GreenhouseClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// Scopes its tokens hold (default [`ALL_SCOPES`]).
    pub scopes: Vec<String>,
}

impl GreenhouseClient {
    /// A client holding every scope.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The same client holding only these scopes.
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

impl std::fmt::Debug for GreenhouseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GreenhouseClient")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// A job board: its URL token, `{name, content}`, and its Job Board API key.
#[derive(Clone)]
pub struct GreenhouseBoard {
    /// `board_token` in the path.
    pub token: String,
    /// `name`.
    pub name: String,
    /// `content` (HTML introduction).
    pub content: String,
    /// The key apply requests send as the Basic user name.
    pub api_key: String,
}

impl std::fmt::Debug for GreenhouseBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GreenhouseBoard")
            .field("token", &self.token)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How a [`GreenhouseSandbox`] behaves.
#[derive(Debug, Clone)]
pub struct GreenhouseSandboxConfig {
    /// Token endpoint clients (default one: [`DEFAULT_CLIENT_ID`]).
    pub clients: Vec<GreenhouseClient>,
    /// User ids `sub` may name (default `[DEFAULT_USER_ID]`).
    pub user_ids: Vec<u64>,
    /// `expires_in` answered (default 3600 s, the documented 1 h).
    pub token_ttl: Duration,
    /// `Some(d)`: tokens really stop working after `d` (when shorter than
    /// `token_ttl`), so a client trusting `expires_in` meets a 401.
    pub token_lifetime: Option<Duration>,
    /// Harvest requests per window and client (default 50, v1's example).
    pub rate_limit: u32,
    /// The fixed window (default 10 s, v1's documented window).
    pub rate_window: Duration,
    /// Job boards (default one: [`DEFAULT_BOARD_TOKEN`]).
    pub boards: Vec<GreenhouseBoard>,
    /// Jobs generated at start (default 40; see [`generate`]).
    pub jobs: usize,
    /// Size of each generated post's content in bytes (default 1500).
    pub content_bytes: usize,
}

impl Default for GreenhouseSandboxConfig {
    fn default() -> Self {
        Self {
            clients: vec![GreenhouseClient::new(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
            )],
            user_ids: vec![DEFAULT_USER_ID],
            token_ttl: Duration::from_secs(3600),
            token_lifetime: None,
            rate_limit: 50,
            rate_window: Duration::from_secs(10),
            boards: vec![GreenhouseBoard {
                token: DEFAULT_BOARD_TOKEN.to_owned(),
                name: "Next_KE Careers".to_owned(),
                content: "<p>Work with us.</p>".to_owned(),
                api_key: DEFAULT_BOARD_API_KEY.to_owned(),
            }],
            jobs: 40,
            content_bytes: 1500,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) store: RwLock<data::Store>,
    pub(crate) records: Mutex<records::Records>,
    pub(crate) tokens: auth::Tokens,
    pub(crate) rate: rate_limit::FixedWindow,
    pub(crate) pages: PageFaults,
    pub(crate) next_id: AtomicU64,
}

/// Handle to the Greenhouse sandbox's state. Clone freely.
#[derive(Clone)]
pub struct GreenhouseSandbox {
    config: Arc<GreenhouseSandboxConfig>,
    pub(crate) inner: Arc<Inner>,
}

impl GreenhouseSandbox {
    /// A sandbox with this configuration and its generated jobs.
    pub fn new(config: GreenhouseSandboxConfig) -> Self {
        let inner = Inner {
            store: RwLock::new(data::Store::default()),
            records: Mutex::new(records::Records::default()),
            tokens: auth::Tokens::new(config.token_lifetime),
            rate: rate_limit::FixedWindow::new(config.rate_limit, config.rate_window),
            pages: PageFaults::default(),
            next_id: AtomicU64::new(30_000_001),
        };
        let sandbox = Self {
            inner: Arc::new(inner),
            config: Arc::new(config),
        };
        sandbox.seed_jobs(sandbox.config.jobs, sandbox.config.content_bytes);
        sandbox
    }

    /// Start a default sandbox on `listener`.
    pub fn start(listener: TcpListener) -> std::io::Result<(GreenhouseSandbox, SandboxHandle)> {
        Self::start_with(GreenhouseSandboxConfig::default(), listener)
    }

    /// [`start`](Self::start) with a configuration.
    pub fn start_with(
        config: GreenhouseSandboxConfig,
        listener: TcpListener,
    ) -> std::io::Result<(GreenhouseSandbox, SandboxHandle)> {
        let sandbox = Self::new(config);
        let handle = sandbox.server().start(listener)?;
        Ok((sandbox, handle))
    }

    /// A [`SandboxServer`] named `greenhouse` with the admin routes.
    pub fn server(&self) -> SandboxServer {
        SandboxServer::new(self.router())
            .named("greenhouse")
            .with_admin_routes()
    }

    /// Every route of every Greenhouse host.
    pub fn router(&self) -> Router {
        let v3 = Router::new()
            .route("/v3/jobs", get(harvest::list_jobs))
            .route("/v3/job_posts", get(harvest::list_job_posts))
            .route(
                "/v3/applications",
                get(harvest::list_applications).post(writes::post_application),
            )
            .route("/v3/candidates", post(writes::post_candidate))
            .route("/v3/attachments", post(attachments::post_attachment))
            .route_layer(axum::middleware::from_fn_with_state(
                self.clone(),
                harvest::guard,
            ));
        Router::new()
            .route("/token", post(auth::token))
            .route("/v1/boards/{board_token}", get(job_board::board))
            .route("/v1/boards/{board_token}/jobs", get(job_board::jobs))
            .route(
                "/v1/boards/{board_token}/jobs/{id}",
                get(job_board::job).post(apply::apply),
            )
            .merge(v3)
            .with_state(self.clone())
    }

    /// The configuration the sandbox was built with.
    pub fn config(&self) -> &GreenhouseSandboxConfig {
        &self.config
    }

    /// Revoke every token issued so far (the next Harvest call answers 401).
    pub fn revoke_all_tokens(&self) {
        self.inner.tokens.revoke_all();
    }

    /// From now on tokens really live `lifetime` (`None`: their `expires_in`).
    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        self.inner.tokens.set_lifetime(lifetime);
    }

    /// How many tokens `POST /token` issued.
    pub fn tokens_issued(&self) -> u64 {
        self.inner.tokens.issued()
    }

    /// How many issued tokens still work.
    pub fn active_tokens(&self) -> usize {
        self.inner.tokens.active()
    }

    /// A token for a configured client and user without calling `/token`.
    pub fn mint_token(&self, client_id: &str, user_id: u64) -> Option<String> {
        let client = self
            .config
            .clients
            .iter()
            .find(|c| c.client_id == client_id)?;
        let scopes: Arc<[String]> = client.scopes.clone().into();
        let ttl = self.config.token_ttl;
        Some(self.inner.tokens.issue(client_id, user_id, scopes, ttl))
    }

    /// A new rate limit: `limit` Harvest requests per `window` and client.
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        self.inner.rate.set(limit, window);
    }

    /// How many Harvest requests were answered 429 by the rate limit.
    pub fn rate_limited_count(&self) -> u64 {
        self.inner.rate.limited()
    }

    /// How many Harvest requests the rate limit counted.
    pub fn harvest_requests(&self) -> u64 {
        self.inner.rate.counted()
    }

    /// Close the connection without an answer on the `n`-th page (1-based)
    /// of a `GET /v3/jobs` walk (counted from its request without a cursor), once.
    pub fn drop_connection_on_page(&self, n: u64) {
        self.inner.pages.drop_on(n);
    }

    /// Answer the `n`-th page of a `GET /v3/jobs` walk with `status` (429,
    /// 503) and `Retry-After: retry_after` seconds when given, once.
    pub fn fail_page_with(&self, n: u64, status: StatusCode, retry_after: Option<u64>) {
        self.inner.pages.fail_on(n, status, retry_after);
    }

    /// `GET /v3/jobs` requests that passed validation (every page of every walk).
    pub fn page_requests(&self) -> u64 {
        self.inner.pages.requests()
    }

    /// How many page faults fired.
    pub fn page_faults_fired(&self) -> u64 {
        self.inner.pages.fired()
    }
}

impl std::fmt::Debug for GreenhouseSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GreenhouseSandbox")
            .field("config", &self.config)
            .field("jobs", &self.job_count())
            .finish_non_exhaustive()
    }
}
