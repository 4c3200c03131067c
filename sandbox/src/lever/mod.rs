//! The Lever sandbox: one [`Router`] for the hosts the service calls (the
//! global `api.lever.co` and the EU `api.eu.lever.co` alike; the service
//! picks the base URL):
//! - the Data API `/v1/...` ([`data_api`], [`create`]);
//! - the public Postings API `/v0/postings/...` ([`postings`]);
//! - webhooks the service receives are built and sent by [`webhooks`].
//!
//! Sources: Lever's `postings-api` README (verified: the v0 endpoints,
//! fields and apply), Lever's developer documentation's table of contents,
//! introduction and authentication (verified: Basic auth with the key as
//! user name; that postings, application questions, opportunities, stages,
//! archive reasons, users exist), and third-party clients for the rest, as
//! `docs/providers/lever.md` and `docs/providers/ats-field-facts.md` say.
//! NOT verified, with the shape most clients agree on: every Data API path
//! and object, list pagination (`limit`, `offset`, `hasNext`, `next`), the
//! error body, `perform_as`, the rate limit (10/s, bursts of 20) and the
//! webhook body and signature. Each file says which.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;

use super::page_faults::PageFaults;
use super::{SandboxHandle, SandboxServer};

pub mod create;
pub mod data;
pub mod data_api;
pub mod generate;
pub mod opportunities;
pub mod postings;
pub mod rate_limit;
pub mod webhooks;

mod mutations;
#[cfg(test)]
mod postings_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod webhook_tests;

pub use data::{Categories, LeverSalaryRange, Posting, PostingList, PostingState};
pub use opportunities::{
    LeverApi, Opportunity, ReceivedFile, StageChange, ARCHIVE_REASONS, STAGES,
};
pub use webhooks::{LeverWebhook, SignedLeverDelivery};

/// The default Data API key.
pub const DEFAULT_API_KEY: &str = "sandbox-lever-key";
/// The default site name of the Postings API.
pub const DEFAULT_SITE: &str = "nextke";
/// The default Postings API key (`?key=` of apply).
pub const DEFAULT_POSTINGS_API_KEY: &str = "sandbox-lever-postings-key";
/// Ids of the default users; generated postings name them as owners.
pub const DEFAULT_USER_IDS: &[&str] = &[
    "8d49b010-cc6a-4f40-ace5-e86061c677ed",
    "5f2b1a09-7e3c-4d5a-9b8e-2c6d4a1f0e37",
];

/// A Lever user (`GET /v1/users`; `perform_as` must name one).
#[derive(Debug, Clone)]
pub struct LeverUser {
    /// User id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// `super admin`, `admin`, `team member`, `limited team member`, `interviewer`.
    pub access_role: String,
}

/// How a [`LeverSandbox`] behaves.
#[derive(Clone)]
pub struct LeverSandboxConfig {
    /// Accepted Data API keys (default `[DEFAULT_API_KEY]`).
    pub api_keys: Vec<String>,
    /// Users (default two, with [`DEFAULT_USER_IDS`]).
    pub users: Vec<LeverUser>,
    /// The Postings API site name (default [`DEFAULT_SITE`]).
    pub site: String,
    /// The Postings API apply key (default [`DEFAULT_POSTINGS_API_KEY`]).
    pub postings_api_key: String,
    /// Postings generated at start (default 30; see [`generate`]).
    pub postings: usize,
    /// Data API steady rate per key, requests a second (default 10).
    pub rate_per_second: f64,
    /// Data API burst per key (default 20).
    pub rate_burst: u32,
    /// Postings API applications a second per site (default 2, documented).
    pub apply_per_second: u32,
}

impl Default for LeverSandboxConfig {
    fn default() -> Self {
        Self {
            api_keys: vec![DEFAULT_API_KEY.to_owned()],
            users: vec![
                LeverUser {
                    id: DEFAULT_USER_IDS[0].to_owned(),
                    name: "Wanjiru Kamau".to_owned(),
                    email: "wanjiru@nextke.example".to_owned(),
                    access_role: "super admin".to_owned(),
                },
                LeverUser {
                    id: DEFAULT_USER_IDS[1].to_owned(),
                    name: "Jonas Weber".to_owned(),
                    email: "jonas@nextke.example".to_owned(),
                    access_role: "team member".to_owned(),
                },
            ],
            site: DEFAULT_SITE.to_owned(),
            postings_api_key: DEFAULT_POSTINGS_API_KEY.to_owned(),
            postings: 30,
            rate_per_second: 10.0,
            rate_burst: 20,
            apply_per_second: 2,
        }
    }
}

impl std::fmt::Debug for LeverSandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeverSandboxConfig")
            .field("api_keys", &self.api_keys.len())
            .field("users", &self.users)
            .field("site", &self.site)
            .field("postings", &self.postings)
            .field("rate_per_second", &self.rate_per_second)
            .field("rate_burst", &self.rate_burst)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) store: RwLock<data::Store>,
    pub(crate) records: Mutex<opportunities::Records>,
    pub(crate) rate: rate_limit::TokenBuckets,
    pub(crate) apply_rate: rate_limit::TokenBuckets,
    pub(crate) pages: PageFaults,
}

/// Handle to the Lever sandbox's state. Clone freely.
#[derive(Clone)]
pub struct LeverSandbox {
    config: Arc<LeverSandboxConfig>,
    pub(crate) inner: Arc<Inner>,
}

impl LeverSandbox {
    /// A sandbox with this configuration and its generated postings.
    pub fn new(config: LeverSandboxConfig) -> Self {
        let apply = config.apply_per_second;
        let inner = Inner {
            store: RwLock::new(data::Store::default()),
            records: Mutex::new(opportunities::Records::default()),
            rate: rate_limit::TokenBuckets::new(config.rate_per_second, config.rate_burst),
            apply_rate: rate_limit::TokenBuckets::new(f64::from(apply), apply),
            pages: PageFaults::default(),
        };
        let sandbox = Self {
            inner: Arc::new(inner),
            config: Arc::new(config),
        };
        sandbox.seed_postings(sandbox.config.postings);
        sandbox
    }

    /// Start a default sandbox on `listener`.
    pub fn start(listener: TcpListener) -> std::io::Result<(LeverSandbox, SandboxHandle)> {
        Self::start_with(LeverSandboxConfig::default(), listener)
    }

    /// [`start`](Self::start) with a configuration.
    pub fn start_with(
        config: LeverSandboxConfig,
        listener: TcpListener,
    ) -> std::io::Result<(LeverSandbox, SandboxHandle)> {
        let sandbox = Self::new(config);
        let handle = sandbox.server().start(listener)?;
        Ok((sandbox, handle))
    }

    /// A [`SandboxServer`] named `lever` with the admin routes.
    pub fn server(&self) -> SandboxServer {
        SandboxServer::new(self.router())
            .named("lever")
            .with_admin_routes()
    }

    /// The Data API and Postings API routes.
    pub fn router(&self) -> Router {
        let v1 = Router::new()
            .route("/v1/postings", get(data_api::list_postings))
            .route("/v1/postings/{id}", get(data_api::get_posting))
            .route("/v1/postings/{id}/apply", get(data_api::apply_form))
            .route("/v1/users", get(data_api::list_users))
            .route("/v1/stages", get(data_api::list_stages))
            .route("/v1/archive_reasons", get(data_api::list_archive_reasons))
            .route("/v1/opportunities", post(create::create_opportunity))
            .route("/v1/opportunities/{id}", get(create::get_opportunity))
            .route_layer(axum::middleware::from_fn_with_state(
                self.clone(),
                data_api::guard,
            ));
        Router::new()
            .route("/v0/postings/{site}", get(postings::list))
            .route(
                "/v0/postings/{site}/{id}",
                get(postings::one).post(postings::apply),
            )
            .merge(v1)
            .with_state(self.clone())
    }

    /// The configuration the sandbox was built with.
    pub fn config(&self) -> &LeverSandboxConfig {
        &self.config
    }

    /// A new Data API limit per key: `per_second` steady, `burst` at once
    /// (buckets start full).
    pub fn set_rate_limit(&self, per_second: f64, burst: u32) {
        self.inner.rate.set(per_second, burst);
    }

    /// Authenticated Data API requests received (allowed or not).
    pub fn data_api_requests(&self) -> u64 {
        self.inner.rate.counted()
    }

    /// Data API requests answered 429.
    pub fn rate_limited_count(&self) -> u64 {
        self.inner.rate.limited()
    }

    /// When each authenticated Data API request arrived, in order.
    pub fn request_times(&self) -> Vec<Instant> {
        self.inner.rate.arrivals()
    }

    /// The most Data API requests that arrived within any `window`
    /// (`Duration::from_secs(1)`: the peak requests per second used).
    pub fn peak_requests_in(&self, window: Duration) -> usize {
        self.inner.rate.peak_in(window)
    }

    /// Postings API applications answered 429 (more than the documented 2/s).
    pub fn apply_rate_limited_count(&self) -> u64 {
        self.inner.apply_rate.limited()
    }

    /// Close the connection without an answer on the `n`-th page (1-based)
    /// of a `GET /v1/postings` walk (counted from its request without
    /// `offset`), once.
    pub fn drop_connection_on_page(&self, n: u64) {
        self.inner.pages.drop_on(n);
    }

    /// Answer the `n`-th page request of a `GET /v1/postings` walk with
    /// `status` and `Retry-After: retry_after` seconds when given, once.
    pub fn fail_page_with(&self, n: u64, status: StatusCode, retry_after: Option<u64>) {
        self.inner.pages.fail_on(n, status, retry_after);
    }

    /// `GET /v1/postings` requests that passed validation.
    pub fn page_requests(&self) -> u64 {
        self.inner.pages.requests()
    }
}

impl std::fmt::Debug for LeverSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeverSandbox")
            .field("config", &self.config)
            .field("postings", &self.posting_count())
            .finish_non_exhaustive()
    }
}
