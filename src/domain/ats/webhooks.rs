//! Webhook deliveries from an ATS: verified on the raw bytes before anything
//! is parsed, stored in `webhook_deliveries` with their processing job in one
//! transaction, and answered; processed from the store by the engine
//! ([`super::webhook_events`]).
//!
//! - An unknown integration (or a malformed id, or the flag off) is 404.
//! - A bad signature, a stale Lever `triggeredAt`, or a Lever `token` seen
//!   before with another body is 401, with an activity row holding the
//!   body's hash only.
//! - A duplicate (`Greenhouse-Event-ID`, Lever's `token`) is answered as
//!   accepted and processed once.

use chrono::Utc;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::webhook_intake::Keys;

use crate::{
    context::AppContext,
    domain::activity::{record, ActivityEvent},
    error::{AppError, Result},
    jobs::NewJob,
    providers::ats::{greenhouse_webhook, lever_webhook},
    store::{
        ats_integrations as integrations_store, credentials,
        webhook_deliveries::{self as store, DeliveryRow},
    },
    vocab::{ActivityName, ActivityStatus, Provider, WebhookState},
};

/// The job kind that processes a stored delivery.
pub const PROCESS: &str = "ats.webhook";

/// The headers a Greenhouse delivery carries its signature and id in.
pub use crate::providers::ats::greenhouse_webhook::{EVENT_ID_HEADER, SIGNATURE_HEADER};

/// Largest body accepted, in bytes (413 beyond, in the shim).
pub const MAX_BODY: usize = 1024 * 1024;

/// Longest `Greenhouse-Event-ID` kept as the dedupe key; a longer one is
/// replaced by the body's hash.
const MAX_EVENT_ID: usize = 256;

/// What a delivery carries beside its body.
#[derive(Debug, Default)]
pub struct Headers<'a> {
    /// Greenhouse's `Signature`.
    pub signature: Option<&'a [u8]>,
    /// Greenhouse's `Greenhouse-Event-ID`.
    pub event_id: Option<&'a str>,
}

/// How a delivery was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Stored; its processing is queued.
    Stored,
    /// Seen before: stored once, processed once.
    Duplicate,
}

/// Payload of [`PROCESS`].
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProcessPayload {
    pub delivery_id: String,
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `id` has the form of our integration ids (a hyphenated uuid).
fn looks_like_id(id: &str) -> bool {
    id.len() == 36 && uuid::Uuid::try_parse(id).is_ok()
}

async fn refuse(
    ctx: &AppContext,
    provider: Provider,
    organization_id: &str,
    integration_id: &str,
    reason: &str,
    body: &[u8],
) -> AppError {
    let _ = record(
        &ctx.db,
        ActivityEvent {
            provider,
            activity: ActivityName::WebhookReject,
            status: ActivityStatus::Failure,
            duration: std::time::Duration::ZERO,
            message: format!(
                "webhook refused for integration {integration_id}: {reason} (body sha256 {})",
                hex_sha256(body)
            ),
            user_id: None,
            organization_id: Some(organization_id),
            connection_id: None,
        },
    )
    .await;
    tracing::info!(provider = %provider, reason, "webhook refused");
    AppError::Unauthenticated
}

/// Verifies, stores and queues one delivery to `integration_id`.
pub async fn ingest(
    ctx: &AppContext,
    integration_id: &str,
    headers: Headers<'_>,
    body: &[u8],
) -> Result<Accepted> {
    if !ctx.config.ats.enable_ats_integration || !looks_like_id(integration_id) {
        return Err(AppError::NotFound("ats integration"));
    }
    let now = Utc::now();
    let keys = match ctx.ats_intake.cached(integration_id) {
        Some(keys) => keys,
        None => {
            let integration = integrations_store::find(&ctx.db, integration_id)
                .await?
                .ok_or(AppError::NotFound("ats integration"))?;
            let credential = credentials::find(&ctx.db, &integration.connection_id)
                .await?
                .ok_or(AppError::NotFound("ats integration"))?;
            let secrets = ctx.oauth.open_webhook_secrets(&credential, now)?;
            ctx.ats_intake.remember(
                Keys {
                    integration,
                    secrets,
                },
                credential.previous_webhook_secret_until,
            )
        }
    };
    let integration = &keys.integration;
    let secrets: Vec<&[u8]> = keys
        .secrets
        .iter()
        .map(|s| s.expose_secret().as_bytes())
        .collect();
    let org = integration.organization_id.as_str();
    let (dedupe_key, event) = match integration.provider {
        Provider::Greenhouse => {
            if let Err(refusal) = greenhouse_webhook::verify(body, headers.signature, &secrets) {
                return Err(refuse(
                    ctx,
                    integration.provider,
                    org,
                    integration_id,
                    refusal.reason(),
                    body,
                )
                .await);
            }
            let key = headers
                .event_id
                .filter(|id| !id.is_empty() && id.len() <= MAX_EVENT_ID)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("sha256:{}", hex_sha256(body)));
            let event = greenhouse_webhook::parse(body)
                .map(|(action, _)| action)
                .unwrap_or_else(|_| "unreadable".to_owned());
            (key, event)
        }
        Provider::Lever => match lever_webhook::verify(body, &secrets, now) {
            Ok(delivery) => (delivery.token, delivery.event),
            Err(refusal) => {
                return Err(refuse(
                    ctx,
                    integration.provider,
                    org,
                    integration_id,
                    refusal.reason(),
                    body,
                )
                .await)
            }
        },
        _ => return Err(AppError::NotFound("ats integration")),
    };
    let body_sha256 = hex_sha256(body);
    let id = uuid::Uuid::now_v7().to_string();
    let row = DeliveryRow {
        id: id.clone(),
        integration_id: integration.id.clone(),
        provider: integration.provider,
        dedupe_key: dedupe_key.clone(),
        event,
        body_sha256: body_sha256.clone(),
        body: body.to_vec(),
        state: WebhookState::Pending,
        error: None,
        received_at: now,
        processed_at: None,
    };
    let job = NewJob::new(PROCESS, ProcessPayload { delivery_id: id })
        .for_organization(integration.organization_id.clone())
        .max_attempts(8);
    if ctx.ats_intake.store(&ctx.db, row, job).await? {
        return Ok(Accepted::Stored);
    }
    let earlier = store::by_key(&ctx.db, &integration.id, &dedupe_key).await?;
    match earlier {
        // Lever's token signs only itself and the time: the same token with
        // another body is a replay with altered data
        Some(e) if integration.provider == Provider::Lever && e.body_sha256 != body_sha256 => {
            Err(refuse(
                ctx,
                integration.provider,
                org,
                integration_id,
                "token reused with another body",
                body,
            )
            .await)
        }
        _ => Ok(Accepted::Duplicate),
    }
}
