//! Conversions between `AtsService` messages and [`crate::domain::ats`].

use secrecy::SecretString;

use super::convert::{provider_to, state_to, timestamp};
use crate::{
    domain::ats::{
        check::{CredentialSummary, CredentialsInput, GreenhouseInput, LeverInput},
        integrations::{AtsIntegration, Settings, Update},
        sync_runs::SyncRun,
    },
    error::AppError,
    proto,
    vocab::{SyncRunState, SyncTrigger},
};

fn secret(text: String) -> Option<SecretString> {
    (!text.is_empty()).then(|| SecretString::from(text))
}

/// The credentials of a request, of the kind its provider needs.
pub fn credentials_from(c: Option<proto::AtsCredentials>) -> Option<CredentialsInput> {
    match c?.credentials? {
        proto::ats_credentials::Credentials::Greenhouse(g) => {
            Some(CredentialsInput::Greenhouse(GreenhouseInput {
                client_id: g.client_id,
                client_secret: SecretString::from(g.client_secret),
                user_id: g.user_id,
                job_board_token: g.job_board_token,
                job_board_api_key: secret(g.job_board_api_key),
            }))
        }
        proto::ats_credentials::Credentials::Lever(l) => {
            Some(CredentialsInput::Lever(LeverInput {
                api_key: SecretString::from(l.api_key),
                perform_as: l.perform_as,
                eu_region: l.eu_region,
                webhook_signature_token: secret(l.webhook_signature_token),
            }))
        }
    }
}

/// Settings as sent (absent: everything off).
pub fn settings_from(s: Option<proto::AtsSettings>) -> Settings {
    let s = s.unwrap_or_default();
    Settings {
        sync_jobs: s.sync_jobs,
        sync_applications: s.sync_applications,
        webhook_events: s.webhook_events,
        sync_interval_minutes: s.sync_interval_minutes,
    }
}

/// The change an update mask names; an unknown path is refused.
pub fn update_from(request: proto::UpdateAtsIntegrationRequest) -> Result<Update, AppError> {
    let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(AppError::invalid("update_mask", "is required"));
    }
    let settings = request.settings.unwrap_or_default();
    let mut update = Update::default();
    let mut credentials = Some(request.credentials);
    for path in &paths {
        match path.as_str() {
            "settings.sync_jobs" => update.sync_jobs = Some(settings.sync_jobs),
            "settings.sync_applications" => {
                update.sync_applications = Some(settings.sync_applications)
            }
            "settings.webhook_events" => {
                update.webhook_events = Some(settings.webhook_events.clone())
            }
            "settings.sync_interval_minutes" => {
                update.sync_interval_minutes = Some(settings.sync_interval_minutes)
            }
            "credentials" => {
                let given = credentials.take().flatten();
                update.credentials = Some(credentials_from(given).ok_or_else(|| {
                    AppError::invalid("credentials", "the provider's credentials are required")
                })?);
            }
            other => {
                return Err(AppError::invalid(
                    "update_mask",
                    format!(
                        "unknown path {:?}",
                        other.chars().take(64).collect::<String>()
                    ),
                ))
            }
        }
    }
    Ok(update)
}

fn summary_to(s: CredentialSummary) -> proto::AtsCredentialSummary {
    proto::AtsCredentialSummary {
        client_id: s.client_id,
        user_id: s.user_id,
        job_board_token: s.job_board_token,
        has_job_board_api_key: s.has_job_board_api_key,
        eu_region: s.eu_region,
    }
}

fn trigger_to(t: SyncTrigger) -> proto::AtsSyncTrigger {
    match t {
        SyncTrigger::Manual => proto::AtsSyncTrigger::Manual,
        SyncTrigger::Scheduled => proto::AtsSyncTrigger::Scheduled,
        SyncTrigger::Connect => proto::AtsSyncTrigger::Connect,
    }
}

fn run_state_to(s: SyncRunState) -> proto::AtsSyncRunState {
    match s {
        SyncRunState::Running => proto::AtsSyncRunState::Running,
        SyncRunState::Succeeded => proto::AtsSyncRunState::Succeeded,
        SyncRunState::Failed => proto::AtsSyncRunState::Failed,
    }
}

/// A run as the API shows it.
pub fn run_to(r: SyncRun) -> proto::AtsSyncRun {
    proto::AtsSyncRun {
        id: r.id,
        integration_id: r.integration_id,
        trigger: trigger_to(r.trigger) as i32,
        state: run_state_to(r.state) as i32,
        pages_fetched: r.pages_fetched,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        closed: r.closed,
        failed: r.failed,
        errors: r
            .errors
            .into_iter()
            .map(|e| proto::AtsSyncError {
                ats_id: e.ats_id,
                message: e.message,
            })
            .collect(),
        error: r.error.unwrap_or_default(),
        started_at: Some(timestamp(r.started_at)),
        finished_at: r.finished_at.map(timestamp),
        resumed: r.resumed,
    }
}

/// An integration as the API shows it.
pub fn integration_to(i: AtsIntegration) -> proto::AtsIntegration {
    proto::AtsIntegration {
        id: i.id,
        organization_id: i.organization_id,
        provider: provider_to(Some(i.provider)) as i32,
        state: state_to(i.state) as i32,
        settings: Some(proto::AtsSettings {
            sync_jobs: i.settings.sync_jobs,
            sync_applications: i.settings.sync_applications,
            webhook_events: i.settings.webhook_events,
            sync_interval_minutes: i.settings.sync_interval_minutes,
        }),
        credentials: Some(summary_to(i.credentials)),
        webhook_url: i.webhook_url,
        created_at: Some(timestamp(i.created_at)),
        updated_at: Some(timestamp(i.updated_at)),
        last_sync: i.last_sync.map(run_to),
        previous_webhook_secret_valid_until: i.previous_secret_valid_until.map(timestamp),
        last_error: i.last_error.unwrap_or_default(),
    }
}
