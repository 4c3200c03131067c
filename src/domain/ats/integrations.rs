//! An organization's ATS integrations: create (credentials checked, then
//! sealed in the shared credential store with the webhook secret), list,
//! read, change, delete (job posts closed, never deleted) and rotate the
//! webhook secret.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::TransactionTrait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    access::admin_of,
    check::{self, Checked, CredentialSummary, CredentialsInput},
    ensure_enabled, sync_runs, webhook_url,
};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::activity::{record, ActivityEvent},
    error::{AppError, Result},
    oauth::{ConnectionOwner, Material, NewCredential},
    store::{
        ats_integrations::{self as store, AtsIntegrationRow},
        credentials,
    },
    vocab::{ActivityName, ActivityStatus, ConnectionState, Provider},
};

/// Shortest and longest scheduled-sync interval, in minutes (0: none).
pub const MIN_INTERVAL: u32 = 15;
pub const MAX_INTERVAL: u32 = 10_080;
/// Most webhook event names an integration may list.
const MAX_EVENTS: usize = 50;

/// What an integration syncs and acts on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub sync_jobs: bool,
    pub sync_applications: bool,
    /// Provider event names acted on; empty: every handled one.
    pub webhook_events: Vec<String>,
    /// 0: no scheduled sync.
    pub sync_interval_minutes: u32,
}

impl Settings {
    /// Checks the settings, naming the field at fault.
    pub fn validate(&self) -> Result<()> {
        let m = self.sync_interval_minutes;
        if m != 0 && !(MIN_INTERVAL..=MAX_INTERVAL).contains(&m) {
            return Err(AppError::InvalidArgument {
                field: "settings.sync_interval_minutes",
                reason: format!("0, or {MIN_INTERVAL} to {MAX_INTERVAL}"),
            });
        }
        if self.webhook_events.len() > MAX_EVENTS
            || self.webhook_events.iter().any(|e| {
                e.is_empty()
                    || e.len() > 64
                    || !e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        {
            return Err(AppError::InvalidArgument {
                field: "settings.webhook_events",
                reason: format!("at most {MAX_EVENTS} event names of letters, digits and _"),
            });
        }
        Ok(())
    }

    /// Whether the integration acts on `event`.
    pub fn acts_on(&self, event: &str) -> bool {
        self.webhook_events.is_empty() || self.webhook_events.iter().any(|e| e == event)
    }
}

/// An integration as its admins see it.
#[derive(Clone, Debug)]
pub struct AtsIntegration {
    pub id: String,
    pub organization_id: String,
    pub provider: Provider,
    pub state: ConnectionState,
    pub settings: Settings,
    pub credentials: CredentialSummary,
    pub webhook_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_sync: Option<sync_runs::SyncRun>,
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// A new integration and its webhook secret, shown this once (none for
/// Lever, whose signature token Lever chooses).
pub struct Created {
    pub integration: AtsIntegration,
    pub webhook_secret: Option<SecretString>,
}

/// A fresh webhook secret: 32 random bytes in hex.
fn new_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

pub(super) fn settings_of(row: &AtsIntegrationRow) -> Settings {
    Settings {
        sync_jobs: row.sync_jobs,
        sync_applications: row.sync_applications,
        webhook_events: serde_json::from_value(row.webhook_events.clone()).unwrap_or_default(),
        sync_interval_minutes: u32::try_from(row.sync_interval_minutes).unwrap_or(0),
    }
}

pub(super) fn summary_of(row: &AtsIntegrationRow) -> CredentialSummary {
    serde_json::from_value(row.credential_summary.clone()).unwrap_or_default()
}

/// The next scheduled sync after `now`: the interval with up to a tenth of
/// it added at random, so integrations created together spread out.
pub(super) fn next_sync(now: DateTime<Utc>, minutes: u32) -> Option<DateTime<Utc>> {
    if minutes == 0 {
        return None;
    }
    let secs = i64::from(minutes) * 60;
    let jitter = (rand::rngs::OsRng.next_u64() % (secs as u64 / 10 + 1)) as i64;
    Some(now + chrono::Duration::seconds(secs + jitter))
}

async fn view(ctx: &AppContext, row: AtsIntegrationRow) -> Result<AtsIntegration> {
    let credential = credentials::find(&ctx.db, &row.connection_id).await?;
    let last_sync = sync_runs::latest(ctx, &row.id).await?;
    Ok(AtsIntegration {
        webhook_url: webhook_url(&ctx.config, &row.id),
        settings: settings_of(&row),
        credentials: summary_of(&row),
        state: credential
            .as_ref()
            .map(|c| c.state)
            .unwrap_or(ConnectionState::Error),
        previous_secret_valid_until: credential
            .as_ref()
            .and_then(|c| c.previous_webhook_secret_until)
            .filter(|until| *until > Utc::now()),
        last_error: credential.and_then(|c| c.last_error),
        id: row.id,
        organization_id: row.organization_id,
        provider: row.provider,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_sync,
    })
}

/// The integration `id` if the caller administers its organization
/// (`NOT_FOUND` for a stranger, `PERMISSION_DENIED` for a member).
pub async fn owned(ctx: &AppContext, caller: &Identity, id: &str) -> Result<AtsIntegrationRow> {
    let row = store::find(&ctx.db, id)
        .await?
        .ok_or(AppError::NotFound("ats integration"))?;
    admin_of(caller, &row.organization_id, "ats integration")?;
    Ok(row)
}

/// Writes the activity row of an admin's action on `organization_id`.
async fn audit(
    db: &impl sea_orm::ConnectionTrait,
    (caller, organization_id): (&Identity, &str),
    provider: Provider,
    activity: ActivityName,
    status: ActivityStatus,
    message: String,
    started: std::time::Instant,
) -> Result<()> {
    record(
        db,
        ActivityEvent {
            provider,
            activity,
            status,
            duration: started.elapsed(),
            message,
            user_id: Some(&caller.user_id),
            organization_id: Some(organization_id),
            connection_id: None,
        },
    )
    .await?;
    Ok(())
}

/// Seals checked credentials as the organization's connection (inside `txn`).
async fn seal(
    ctx: &AppContext,
    txn: &impl sea_orm::ConnectionTrait,
    owner: &ConnectionOwner,
    provider: Provider,
    checked: &Checked,
    webhook_secret: Option<&SecretString>,
) -> Result<String> {
    let material = match checked {
        Checked::Greenhouse { client, tokens, .. } => Material::ClientCredentials {
            client,
            tokens: Some(tokens),
        },
        Checked::Lever { key, .. } => Material::ApiKey { key, extra: None },
    };
    let account = match checked {
        Checked::Greenhouse { summary, .. } | Checked::Lever { summary, .. } => {
            summary.user_id.clone()
        }
    };
    Ok(ctx
        .oauth
        .save_credential_in(
            txn,
            NewCredential {
                provider,
                owner,
                account_id: Some(&account),
                material,
                webhook_secret,
            },
        )
        .await?)
}

/// Connects an organization's ATS.
pub async fn create(
    ctx: &AppContext,
    caller: &Identity,
    organization_id: &str,
    provider: Option<Provider>,
    credentials: Option<CredentialsInput>,
    settings: Settings,
) -> Result<Created> {
    ensure_enabled(&ctx.config)?;
    if organization_id.is_empty() || organization_id.len() > 128 {
        return Err(AppError::InvalidArgument {
            field: "organization_id",
            reason: "required".to_owned(),
        });
    }
    admin_of(caller, organization_id, "organization")?;
    let provider = match provider {
        Some(p @ (Provider::Greenhouse | Provider::Lever)) => p,
        _ => {
            return Err(AppError::InvalidArgument {
                field: "provider",
                reason: "PROVIDER_GREENHOUSE or PROVIDER_LEVER".to_owned(),
            })
        }
    };
    let credentials =
        credentials
            .filter(|c| c.provider() == provider)
            .ok_or(AppError::InvalidArgument {
                field: "credentials",
                reason: "the provider's credentials are required".to_owned(),
            })?;
    settings.validate()?;
    check::validate(&credentials)?;
    if store::of_provider(&ctx.db, organization_id, provider)
        .await?
        .is_some()
    {
        return Err(AppError::AlreadyExists("ats integration for this provider"));
    }
    let started = std::time::Instant::now();
    let checked = match check::check(ctx, credentials).await {
        Ok(checked) => checked,
        Err(err) => {
            audit(
                &ctx.db,
                (caller, organization_id),
                provider,
                ActivityName::AtsConnect,
                ActivityStatus::Failure,
                err.to_string(),
                started,
            )
            .await?;
            return Err(err);
        }
    };
    let (summary, webhook_secret, shown) = match &checked {
        Checked::Greenhouse { summary, .. } => {
            let secret = new_secret();
            (summary.clone(), Some(secret.clone()), Some(secret))
        }
        Checked::Lever {
            summary,
            webhook_signature_token,
            ..
        } => (summary.clone(), webhook_signature_token.clone(), None),
    };
    let owner = ConnectionOwner::Organization {
        org_id: organization_id.to_owned(),
        user_id: caller.user_id.clone(),
    };
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let txn = ctx.db.begin().await?;
    let connection_id = seal(
        ctx,
        &txn,
        &owner,
        provider,
        &checked,
        webhook_secret.as_ref(),
    )
    .await?;
    let row = AtsIntegrationRow {
        id: id.clone(),
        organization_id: organization_id.to_owned(),
        provider,
        connection_id,
        sync_jobs: settings.sync_jobs,
        sync_applications: settings.sync_applications,
        webhook_events: serde_json::to_value(&settings.webhook_events).unwrap_or_default(),
        sync_interval_minutes: settings.sync_interval_minutes as i32,
        next_sync_at: next_sync(now, settings.sync_interval_minutes),
        credential_summary: serde_json::to_value(&summary).unwrap_or_default(),
        created_by: caller.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    store::insert(&txn, row.clone()).await?;
    audit(
        &txn,
        (caller, organization_id),
        provider,
        ActivityName::AtsConnect,
        ActivityStatus::Success,
        format!("{provider} connected"),
        started,
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        integration: view(ctx, row).await?,
        webhook_secret: shown,
    })
}

/// The organization's integrations.
pub async fn list(
    ctx: &AppContext,
    caller: &Identity,
    organization_id: &str,
) -> Result<Vec<AtsIntegration>> {
    ensure_enabled(&ctx.config)?;
    admin_of(caller, organization_id, "organization")?;
    let mut out = Vec::new();
    for row in store::list(&ctx.db, organization_id).await? {
        out.push(view(ctx, row).await?);
    }
    Ok(out)
}

/// One integration.
pub async fn get(ctx: &AppContext, caller: &Identity, id: &str) -> Result<AtsIntegration> {
    ensure_enabled(&ctx.config)?;
    let row = owned(ctx, caller, id).await?;
    view(ctx, row).await
}

/// What an update changes; `None` leaves a part as it is.
#[derive(Default)]
pub struct Update {
    pub sync_jobs: Option<bool>,
    pub sync_applications: Option<bool>,
    pub webhook_events: Option<Vec<String>>,
    pub sync_interval_minutes: Option<u32>,
    /// New credentials, checked before they replace the old.
    pub credentials: Option<CredentialsInput>,
}

/// Changes an integration's settings or credentials.
pub async fn update(
    ctx: &AppContext,
    caller: &Identity,
    id: &str,
    change: Update,
) -> Result<AtsIntegration> {
    ensure_enabled(&ctx.config)?;
    let mut row = owned(ctx, caller, id).await?;
    let mut settings = settings_of(&row);
    if let Some(v) = change.sync_jobs {
        settings.sync_jobs = v;
    }
    if let Some(v) = change.sync_applications {
        settings.sync_applications = v;
    }
    if let Some(v) = change.webhook_events {
        settings.webhook_events = v;
    }
    let interval_changed = change.sync_interval_minutes.is_some();
    if let Some(v) = change.sync_interval_minutes {
        settings.sync_interval_minutes = v;
    }
    settings.validate()?;
    let started = std::time::Instant::now();
    let checked = match change.credentials {
        Some(input) if input.provider() != row.provider => {
            return Err(AppError::InvalidArgument {
                field: "credentials",
                reason: "credentials of another provider".to_owned(),
            })
        }
        Some(input) => Some(check::check(ctx, input).await?),
        None => None,
    };
    let now = Utc::now();
    let txn = ctx.db.begin().await?;
    if let Some(checked) = &checked {
        // the webhook secret in force stays; a Lever update may bring a new token
        let current = credentials::find(&txn, &row.connection_id)
            .await?
            .map(|c| ctx.oauth.open_webhook_secrets(&c, now))
            .transpose()?
            .and_then(|mut secrets| (!secrets.is_empty()).then(|| secrets.remove(0)));
        let secret = match checked {
            Checked::Lever {
                webhook_signature_token: Some(token),
                ..
            } => Some(token.clone()),
            _ => current,
        };
        let owner = ConnectionOwner::Organization {
            org_id: row.organization_id.clone(),
            user_id: caller.user_id.clone(),
        };
        row.connection_id = seal(ctx, &txn, &owner, row.provider, checked, secret.as_ref()).await?;
        let summary = match checked {
            Checked::Greenhouse { summary, .. } | Checked::Lever { summary, .. } => summary,
        };
        row.credential_summary = serde_json::to_value(summary).unwrap_or_default();
    }
    row.sync_jobs = settings.sync_jobs;
    row.sync_applications = settings.sync_applications;
    row.webhook_events = serde_json::to_value(&settings.webhook_events).unwrap_or_default();
    row.sync_interval_minutes = settings.sync_interval_minutes as i32;
    if interval_changed {
        row.next_sync_at = next_sync(now, settings.sync_interval_minutes);
    }
    row.updated_at = now;
    store::update(&txn, row.clone()).await?;
    audit(
        &txn,
        (caller, &row.organization_id),
        row.provider,
        ActivityName::AtsUpdate,
        ActivityStatus::Success,
        if checked.is_some() {
            "settings and credentials updated".to_owned()
        } else {
            "settings updated".to_owned()
        },
        started,
    )
    .await?;
    txn.commit().await?;
    view(ctx, row).await
}

/// Deletes an integration and its credentials; its job posts are closed.
pub async fn delete(ctx: &AppContext, caller: &Identity, id: &str) -> Result<u64> {
    ensure_enabled(&ctx.config)?;
    let row = owned(ctx, caller, id).await?;
    let started = std::time::Instant::now();
    let txn = ctx.db.begin().await?;
    let closed = store::delete_closing_posts(&txn, &row.id, Utc::now()).await?;
    ctx.ats_intake.forget(&row.id);
    credentials::delete(&txn, &row.connection_id).await?;
    crate::store::jobs::delete_pending_many(&txn, super::job_keys(&row.id)).await?;
    audit(
        &txn,
        (caller, &row.organization_id),
        row.provider,
        ActivityName::AtsDisconnect,
        ActivityStatus::Success,
        format!("{} disconnected; {closed} job posts closed", row.provider),
        started,
    )
    .await?;
    txn.commit().await?;
    Ok(closed)
}

/// A rotation's outcome: the new secret when we generated it, and until
/// when the old one still verifies.
pub struct Rotated {
    pub webhook_secret: Option<SecretString>,
    pub previous_valid_until: DateTime<Utc>,
}

/// Replaces the webhook secret; the old one verifies for the grace period.
pub async fn rotate(
    ctx: &AppContext,
    caller: &Identity,
    id: &str,
    provided: Option<SecretString>,
) -> Result<Rotated> {
    ensure_enabled(&ctx.config)?;
    let row = owned(ctx, caller, id).await?;
    let (secret, shown) = match (row.provider, provided) {
        (Provider::Lever, Some(token)) if !token.expose_secret().trim().is_empty() => {
            if token.expose_secret().len() > 1024 {
                return Err(AppError::InvalidArgument {
                    field: "webhook_secret",
                    reason: "too long".to_owned(),
                });
            }
            (token, None)
        }
        (Provider::Lever, _) => {
            return Err(AppError::InvalidArgument {
                field: "webhook_secret",
                reason: "lever's new signature token is required".to_owned(),
            })
        }
        (_, Some(given)) if !given.expose_secret().is_empty() => {
            return Err(AppError::InvalidArgument {
                field: "webhook_secret",
                reason: "greenhouse secrets are generated; leave it empty".to_owned(),
            })
        }
        _ => {
            let secret = new_secret();
            (secret.clone(), Some(secret))
        }
    };
    let grace = chrono::Duration::hours(i64::from(ctx.config.ats.ats_webhook_secret_grace_hours));
    let started = std::time::Instant::now();
    ctx.oauth
        .rotate_webhook_secret(&ctx.db, &row.connection_id, &secret, grace)
        .await?;
    ctx.ats_intake.forget(&row.id);
    audit(
        &ctx.db,
        (caller, &row.organization_id),
        row.provider,
        ActivityName::WebhookRotate,
        ActivityStatus::Success,
        "webhook secret rotated".to_owned(),
        started,
    )
    .await?;
    Ok(Rotated {
        webhook_secret: shown,
        previous_valid_until: Utc::now() + grace,
    })
}
