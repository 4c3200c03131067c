//! Sending an application to its ATS, as a job of the engine with retries.
//!
//! Greenhouse: the candidate (`POST /v3/candidates`), their application to
//! the job (`POST /v3/applications`) and the résumé (`POST /v3/attachments`),
//! each id kept as soon as it is known so a retry never repeats a step that
//! succeeded; when the Harvest client may not write candidates (403) and a
//! Job Board key is configured, the Job Board apply endpoint instead.
//! Lever: one `POST /opportunities?perform_as=`.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::TransactionTrait;
use secrecy::SecretString;

use super::{
    applications::{kind_of, move_in, SEND},
    call_error,
    check::JOB_BOARD_KEY,
    greenhouse_client,
    integrations::summary_of,
    lever_base, lever_client,
};
use crate::{
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        connections::{with_fresh_token, CallError},
    },
    error::{AppError, Result},
    jobs::{Job, JobError, JobHandler, KindSettings, Registry},
    oauth::OAuthEndpoints,
    providers::{greenhouse::NewApplication, http::ProviderError, lever::NewOpportunity},
    store::{
        applications::{self as store, ApplicationRow, SyncRow},
        ats_integrations::{self as integrations_store, AtsIntegrationRow},
        credentials,
    },
    vocab::{
        ActivityName, ActivityStatus, ApplicationStatus, ApplicationSyncState, Provider,
        StatusSource,
    },
};

#[derive(serde::Deserialize)]
struct SendPayload {
    application_id: String,
}

/// Registers the job kind.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    registry.register(
        SEND,
        KindSettings {
            concurrency: 8,
            ..KindSettings::default()
        },
        Sender(ctx),
    );
}

struct Sender(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for Sender {
    async fn run(&self, job: &Job) -> std::result::Result<(), JobError> {
        let payload: SendPayload = job.payload()?;
        let last = job.attempt >= job.max_attempts;
        send(&self.0, &payload.application_id, last)
            .await
            .map_err(JobError::from)
    }
}

/// Sends one application; a refusal the ATS will not change its mind about
/// is recorded on the application and ends the job.
pub async fn send(ctx: &AppContext, application_id: &str, last_attempt: bool) -> Result<()> {
    let Some(mut sync) = store::sync_of(&ctx.db, application_id).await? else {
        return Ok(());
    };
    if sync.state == ApplicationSyncState::Synced {
        return Ok(());
    }
    let (Some(app), Some(integration)) = (
        store::find(&ctx.db, application_id).await?,
        integrations_store::find(&ctx.db, &sync.integration_id).await?,
    ) else {
        return Ok(());
    };
    let post = store::post(&ctx.db, &app.job_post_id)
        .await?
        .ok_or(AppError::NotFound("job post"))?;
    let ats_job_id = post.ats_job_id.clone().unwrap_or_default();
    sync.attempts += 1;
    let outcome = match integration.provider {
        Provider::Greenhouse => {
            greenhouse(
                ctx,
                &integration,
                &app,
                &mut sync,
                &ats_job_id,
                &post.remote_data,
            )
            .await
        }
        Provider::Lever => lever(ctx, &integration, &app, &mut sync, &ats_job_id).await,
        other => Err(AppError::FailedPrecondition(format!(
            "{other} applications are not sent yet"
        ))),
    };
    let now = Utc::now();
    sync.updated_at = now;
    let retryable = match &outcome {
        Ok(()) => {
            sync.state = ApplicationSyncState::Synced;
            sync.synced_at = Some(now);
            sync.last_error = None;
            false
        }
        Err(err) => {
            let retry = !last_attempt && err.answer().job.is_retry();
            sync.last_error = Some(err.to_string());
            if !retry {
                sync.state = ApplicationSyncState::Failed;
            }
            retry
        }
    };
    // the delivery's state and the application's status change together
    let txn = ctx.db.begin().await?;
    store::save_sync(&txn, sync.clone()).await?;
    if outcome.is_ok() {
        move_in(
            &txn,
            application_id,
            ApplicationStatus::Active,
            None,
            StatusSource::Api,
        )
        .await?;
    }
    txn.commit().await?;
    if !retryable {
        record(
            &ctx.db,
            ActivityEvent {
                provider: integration.provider,
                activity: ActivityName::ApplicationSubmit,
                status: if outcome.is_ok() {
                    ActivityStatus::Success
                } else {
                    ActivityStatus::Failure
                },
                duration: std::time::Duration::ZERO,
                message: match &outcome {
                    Ok(()) => format!("application {application_id} sent"),
                    Err(err) => format!("application {application_id} refused: {err}"),
                },
                user_id: Some(&app.user_id),
                organization_id: Some(&integration.organization_id),
                connection_id: Some(&integration.connection_id),
            },
        )
        .await?;
    }
    match outcome {
        Err(err) if retryable => Err(err),
        _ => Ok(()),
    }
}

fn resume_of(app: &ApplicationRow) -> Option<(&str, &str, &[u8])> {
    let bytes = app.resume.as_deref()?;
    kind_of(&app.resume_content_type)?;
    Some((&app.resume_filename, &app.resume_content_type, bytes))
}

async fn greenhouse(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    app: &ApplicationRow,
    sync: &mut SyncRow,
    job_id: &str,
    remote: &Option<serde_json::Value>,
) -> Result<()> {
    let credential = credentials::find(&ctx.db, &integration.connection_id)
        .await?
        .ok_or(AppError::NotFound("ats integration"))?;
    let client = greenhouse_client(ctx)?;
    let endpoints = OAuthEndpoints::greenhouse(&ctx.config);
    let new = NewApplication {
        first_name: &app.first_name,
        last_name: &app.last_name,
        email: &app.email,
        phone: &app.phone,
        linkedin_url: &app.linkedin_url,
        job_id,
        resume: resume_of(app),
        cover_letter: &app.cover_letter,
    };
    let key = credential.id.clone();
    // the candidate first, kept at once
    if sync.ats_candidate_id.is_none() {
        let made = with_fresh_token(ctx, &endpoints, &credential, |token| {
            let client = client.clone();
            let key = key.clone();
            let new = new.clone();
            async move { client.create_candidate(&token, &key, &new).await }
        })
        .await;
        match made {
            Ok(id) => {
                sync.ats_candidate_id = Some(id);
                store::save_sync(&ctx.db, sync.clone()).await?;
            }
            Err(CallError::Provider(ProviderError::Permanent { status: 403, .. })) => {
                return board_apply(ctx, &credential, integration, app, &new, remote).await;
            }
            Err(err) => return Err(call_error(Provider::Greenhouse, err)),
        }
    }
    let candidate = sync.ats_candidate_id.clone().unwrap_or_default();
    if sync.ats_application_id.is_none() {
        let made = with_fresh_token(ctx, &endpoints, &credential, |token| {
            let client = client.clone();
            let key = key.clone();
            let candidate = candidate.clone();
            async move {
                client
                    .create_application(&token, &key, &candidate, job_id)
                    .await
            }
        })
        .await
        .map_err(|e| call_error(Provider::Greenhouse, e))?;
        sync.ats_application_id = Some(made.id);
        store::save_sync(&ctx.db, sync.clone()).await?;
    }
    if let (Some(resume), Some(application)) = (new.resume, sync.ats_application_id.clone()) {
        with_fresh_token(ctx, &endpoints, &credential, |token| {
            let client = client.clone();
            let key = key.clone();
            let application = application.clone();
            async move {
                client
                    .attach(&token, &key, &application, "resume", resume)
                    .await
            }
        })
        .await
        .map_err(|e| call_error(Provider::Greenhouse, e))?;
    }
    Ok(())
}

/// The Job Board's apply endpoint, for a client that may not write candidates.
async fn board_apply(
    ctx: &AppContext,
    credential: &credentials::Credential,
    integration: &AtsIntegrationRow,
    app: &ApplicationRow,
    new: &NewApplication<'_>,
    remote: &Option<serde_json::Value>,
) -> Result<()> {
    let summary = summary_of(integration);
    let key = ctx
        .oauth
        .open_client(credential)?
        .and_then(|c| c.extra.get(JOB_BOARD_KEY).cloned())
        .filter(|_| !summary.job_board_token.is_empty())
        .ok_or_else(|| {
            AppError::FailedPrecondition(
                "the harvest client may not create candidates and no job board key is set"
                    .to_owned(),
            )
        })?;
    let post_id = remote
        .as_ref()
        .and_then(|r| r.get("job_post"))
        .and_then(|p| crate::providers::ats::job::id_text(p.get("id")))
        .ok_or_else(|| AppError::FailedPrecondition("the job has no job board post".to_owned()))?;
    let answers: Vec<(String, String)> =
        serde_json::from_value::<Vec<super::applications::Answer>>(app.answers.clone())
            .unwrap_or_default()
            .into_iter()
            .flat_map(|a| {
                a.values
                    .into_iter()
                    .map(move |v| (a.question_id.clone(), v))
            })
            .collect();
    greenhouse_client(ctx)?
        .board_apply(
            &summary.job_board_token,
            &SecretString::from(key),
            &post_id,
            new,
            &answers,
        )
        .await
        .map_err(AppError::from)
}

async fn lever(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    app: &ApplicationRow,
    sync: &mut SyncRow,
    posting_id: &str,
) -> Result<()> {
    if sync.ats_application_id.is_some() {
        return Ok(());
    }
    let credential = credentials::find(&ctx.db, &integration.connection_id)
        .await?
        .ok_or(AppError::NotFound("ats integration"))?;
    let summary = summary_of(integration);
    let base = lever_base(ctx, summary.eu_region)?;
    let client = lever_client(ctx);
    let endpoints = OAuthEndpoints::greenhouse(&ctx.config);
    let links: Vec<String> = [app.linkedin_url.clone()]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect();
    let name = format!("{} {}", app.first_name, app.last_name);
    let key = credential.id.clone();
    let made = with_fresh_token(ctx, &endpoints, &credential, |api_key| {
        let client = client.clone();
        let base = base.clone();
        let key = key.clone();
        let new = NewOpportunity {
            name: name.clone(),
            email: &app.email,
            phone: &app.phone,
            links: links.clone(),
            posting_id,
            resume: resume_of(app),
            comments: &app.cover_letter,
        };
        let perform_as = summary.user_id.clone();
        async move {
            client
                .create_opportunity(&base, &api_key, &key, &perform_as, &new)
                .await
        }
    })
    .await
    .map_err(|e| call_error(Provider::Lever, e))?;
    sync.ats_application_id = Some(made.id);
    sync.ats_candidate_id = made.contact;
    Ok(())
}
