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

fn status_to(s: crate::vocab::JobPostStatus) -> proto::JobPostStatus {
    use crate::vocab::JobPostStatus as S;
    match s {
        S::Open => proto::JobPostStatus::Open,
        S::Closed => proto::JobPostStatus::Closed,
        S::Draft => proto::JobPostStatus::Draft,
    }
}

/// A post status filter.
pub fn post_status_from(s: proto::JobPostStatus) -> Option<crate::vocab::JobPostStatus> {
    use crate::vocab::JobPostStatus as S;
    match s {
        proto::JobPostStatus::Unspecified => None,
        proto::JobPostStatus::Open => Some(S::Open),
        proto::JobPostStatus::Closed => Some(S::Closed),
        proto::JobPostStatus::Draft => Some(S::Draft),
    }
}

fn workplace_to(w: crate::vocab::WorkplaceType) -> proto::WorkplaceType {
    use crate::vocab::WorkplaceType as W;
    match w {
        W::Unspecified => proto::WorkplaceType::Unspecified,
        W::OnSite => proto::WorkplaceType::OnSite,
        W::Remote => proto::WorkplaceType::Remote,
        W::Hybrid => proto::WorkplaceType::Hybrid,
    }
}

fn question_kind_to(k: crate::domain::ats::job_posts::QuestionKind) -> proto::QuestionType {
    use crate::domain::ats::job_posts::QuestionKind as K;
    match k {
        K::ShortText => proto::QuestionType::ShortText,
        K::LongText => proto::QuestionType::LongText,
        K::SingleSelect => proto::QuestionType::SingleSelect,
        K::MultiSelect => proto::QuestionType::MultiSelect,
        K::Boolean => proto::QuestionType::Boolean,
        K::File => proto::QuestionType::File,
    }
}

/// A job post as the API shows it.
pub fn post_to(p: crate::domain::ats::job_posts::JobPost) -> proto::JobPost {
    let r = p.row;
    let salary = (r.salary_min.is_some() || r.salary_max.is_some()).then(|| proto::Salary {
        min: r.salary_min.unwrap_or_default(),
        max: r.salary_max.unwrap_or_default(),
        currency: r.salary_currency.clone(),
        interval: r.salary_interval.clone(),
    });
    proto::JobPost {
        id: r.id,
        organization_id: r.organization_id,
        integration_id: r.integration_id.unwrap_or_default(),
        provider: provider_to(r.provider) as i32,
        ats_job_id: r.ats_job_id.unwrap_or_default(),
        ats_url: r.ats_url,
        title: r.title,
        description_html: r.description_html,
        description_text: r.description_text,
        department: r.department,
        location: r.location,
        remote: r.remote,
        workplace_type: workplace_to(r.workplace_type) as i32,
        employment_type: r.employment_type,
        salary,
        status: status_to(r.status) as i32,
        closes_at: r.closes_at.map(timestamp),
        questions: p
            .questions
            .into_iter()
            .map(|q| proto::JobQuestion {
                id: q.id,
                label: q.label,
                required: q.required,
                r#type: question_kind_to(q.kind) as i32,
                options: q.options,
            })
            .collect(),
        created_at: Some(timestamp(r.created_at)),
        updated_at: Some(timestamp(r.updated_at)),
        remote_data: p.remote_data.map(|v| v.to_string()).unwrap_or_default(),
    }
}

/// An application as the candidate sends it.
pub fn application_from(
    r: proto::SubmitApplicationRequest,
) -> crate::domain::ats::applications::NewApplication {
    use crate::domain::ats::applications::{Answer, NewApplication, ResumeInput};
    NewApplication {
        job_post_id: r.job_post_id,
        idempotency_key: r.idempotency_key,
        first_name: r.first_name,
        last_name: r.last_name,
        email: r.email,
        phone: r.phone,
        linkedin_url: r.linkedin_url,
        cover_letter: r.cover_letter,
        answers: r
            .answers
            .into_iter()
            .map(|a| Answer {
                question_id: a.question_id,
                values: a.values,
            })
            .collect(),
        resume: r.resume.map(|f| ResumeInput {
            filename: f.filename,
            content: f.content,
        }),
    }
}

fn app_status_to(s: crate::vocab::ApplicationStatus) -> proto::ApplicationStatus {
    use crate::vocab::ApplicationStatus as S;
    match s {
        S::Submitted => proto::ApplicationStatus::Submitted,
        S::Active => proto::ApplicationStatus::Active,
        S::Rejected => proto::ApplicationStatus::Rejected,
        S::Hired => proto::ApplicationStatus::Hired,
    }
}

fn source_to(s: crate::vocab::StatusSource) -> proto::StatusSource {
    use crate::vocab::StatusSource as S;
    match s {
        S::Platform => proto::StatusSource::Platform,
        S::Api => proto::StatusSource::Api,
        S::Webhook => proto::StatusSource::Webhook,
        S::Poll => proto::StatusSource::Poll,
    }
}

/// An application as the API shows it.
pub fn app_to(a: crate::domain::ats::applications::Application) -> proto::Application {
    use crate::vocab::ApplicationSyncState as S;
    proto::Application {
        id: a.id,
        job_post_id: a.job_post_id,
        organization_id: a.organization_id,
        user_id: a.user_id,
        first_name: a.first_name,
        last_name: a.last_name,
        email: a.email,
        phone: a.phone,
        linkedin_url: a.linkedin_url,
        status: app_status_to(a.status) as i32,
        stage: a.stage,
        sync_state: match a.sync_state {
            None => proto::ApplicationSyncState::NotApplicable,
            Some(S::Pending) => proto::ApplicationSyncState::Pending,
            Some(S::Synced) => proto::ApplicationSyncState::Synced,
            Some(S::Failed) => proto::ApplicationSyncState::Failed,
        } as i32,
        sync_error: a.sync_error.unwrap_or_default(),
        ats_application_id: a.ats_application_id.unwrap_or_default(),
        history: a
            .history
            .into_iter()
            .map(|h| proto::ApplicationStatusChange {
                status: app_status_to(h.status) as i32,
                stage: h.stage,
                source: source_to(h.source) as i32,
                changed_at: Some(timestamp(h.changed_at)),
            })
            .collect(),
        created_at: Some(timestamp(a.created_at)),
        updated_at: Some(timestamp(a.updated_at)),
        resume_filename: a.resume_filename,
        resume_size: a.resume_size,
    }
}
