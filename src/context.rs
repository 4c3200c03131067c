//! What every handler, job and domain call shares within one process.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::store::connection_cache::ConnectionCache;
use crate::{
    auth::JwtVerifier,
    config::Config,
    crypto::Keyring,
    delivery::{email::Mailer, SendSlots},
    domain::{ats::webhook_intake::WebhookIntake, notifications::NotificationHub},
    jobs::JobMetrics,
    metrics::Metrics,
    oauth::OAuthCore,
    providers::{http::OutboundHttp, whatsapp::WhatsAppClient},
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
    /// Wakes the in-app notification streams.
    pub notifications: Arc<NotificationHub>,
    /// The reminder channels this deployment has configured.
    /// ATS webhook ingest: the integrations' keys cache and the delivery writer.
    pub ats_intake: Arc<WebhookIntake>,
    pub senders: Senders,
}

/// The outbound reminder channels; `None` when not configured (skipped, with
/// one log line at start-up).
#[derive(Clone, Default)]
pub struct Senders {
    /// SMTP, when `SMTP_HOST` is set.
    pub mailer: Option<Mailer>,
    /// The WhatsApp Cloud API, when its phone number id and token are set.
    pub whatsapp: Option<WhatsAppClient>,
    /// When each WhatsApp reminder goes out: the number's throughput
    /// (`WHATSAPP_RATE_LIMIT_RPS`) in slots, a burst centred on its instant,
    /// early by at most `REMINDER_MAX_EARLY_SECS`.
    pub whatsapp_slots: Option<Arc<SendSlots>>,
}
