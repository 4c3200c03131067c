//! What every handler, job and domain call shares within one process.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::store::connection_cache::ConnectionCache;
use crate::{
    auth::JwtVerifier, config::Config, crypto::Keyring, jobs::JobMetrics, metrics::Metrics,
    oauth::OAuthCore, providers::http::OutboundHttp,
};

/// The shared state of one application instance.
pub struct AppContext {
    /// Configuration it started with.
    pub config: Arc<Config>,
    /// The database pool.
    pub db: DatabaseConnection,
    /// Keys sealing secrets at rest.
    pub keyring: Arc<Keyring>,
    /// Caller-token verification.
    pub jwt: Arc<JwtVerifier>,
    /// This instance's metrics.
    pub metrics: Metrics,
    /// The job queue's metric families (registered in `metrics`).
    pub job_metrics: JobMetrics,
    /// The outbound HTTP client every provider call goes through.
    pub outbound: OutboundHttp,
    /// Connection summaries per owner, for the status overview.
    pub connections: ConnectionCache,
    /// OAuth flows, token storage and refresh.
    pub oauth: OAuthCore,
}
