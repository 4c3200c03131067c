//! The OAuth 2.0 core every OAuth provider uses: authorization-code flows with
//! PKCE S256 and a single-use state, code exchange, the client-credentials
//! grant, sealed token storage and single-flight refresh.
//!
//! Layout: `endpoints` (where each provider's OAuth lives, from configuration),
//! `transport` (the `oauth2` crate's HTTP client, through [`OutboundHttp`]),
//! `flow` (start and take a pending flow), `tokens` (exchange and storage),
//! `refresh` (a fresh access token, refreshed once however many ask),
//! `kinds` (the credential kinds beside user tokens: owned OAuth clients, API
//! keys, webhook secrets), `revoke` (RFC 7009), `rewrap` (key rotation).

mod callback;
mod endpoints;
mod error;
mod flow;
mod kinds;
mod refresh;
mod revoke;
mod rewrap;
mod tokens;
mod transport;

use std::sync::Arc;

use dashmap::DashMap;
use sea_orm::DatabaseConnection;

use crate::{crypto::Keyring, providers::http::OutboundHttp};

pub use self::{
    callback::{CallbackParams, CallbackQueryError, MAX_CALLBACK_QUERY_BYTES},
    endpoints::{ClientAuth, OAuthEndpoints, CALENDAR_CALLBACK_PATH, LINKEDIN_CALLBACK_PATH},
    error::OAuthError,
    flow::{
        browser_hash, new_browser_secret, FlowLimits, FlowRequest, PendingFlow, StartedFlow,
        STATE_TTL,
    },
    kinds::{Material, NewCredential, OwnedClient},
    refresh::{RefreshWhen, REFRESH_MARGIN},
    revoke::Revocation,
    tokens::{ConnectionOwner, TokenSet},
};

/// The OAuth machinery of one process; cheap to clone.
#[derive(Clone)]
pub struct OAuthCore {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    outbound: OutboundHttp,
    /// How many flows one user may start and keep pending.
    limits: FlowLimits,
    /// One lock per connection being refreshed in this process.
    refresh_locks: Arc<DashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl OAuthCore {
    /// The core over the process's database, keyring and outbound client.
    pub fn new(db: DatabaseConnection, keyring: Arc<Keyring>, outbound: OutboundHttp) -> Self {
        Self {
            db,
            keyring,
            outbound,
            limits: FlowLimits::default(),
            refresh_locks: Arc::default(),
        }
    }

    /// The same core with other limits on starting flows.
    pub fn with_flow_limits(mut self, limits: FlowLimits) -> Self {
        self.limits = limits;
        self
    }
}
