//! Processing a stored webhook delivery (a job of the engine): what it says
//! is applied once, and the delivery is marked processed or ignored.
//!
//! - Greenhouse signs the whole body, so its payload is trusted: job events
//!   read the job again from Harvest and write it if it changed (a deleted
//!   job's post is closed); application events move our application with
//!   the ATS's id to the payload's status and stage.
//! - Lever's signature does not cover `data`: the opportunity it names is
//!   read from Lever's API, and only what the API says is applied.
//! - Events an integration does not act on (its `webhook_events`, or ones we
//!   do not handle) are stored and acknowledged, and change nothing.

use std::sync::Arc;

use chrono::Utc;

use super::{
    applications::move_to,
    integrations::{settings_of, summary_of},
    lever_base, lever_client, sync,
    webhooks::{ProcessPayload, PROCESS},
};
use crate::{
    context::AppContext,
    domain::connections::with_fresh_token,
    error::{AppError, Result},
    jobs::{Job, JobError, JobHandler, KindSettings, Registry},
    oauth::OAuthEndpoints,
    providers::ats::{
        greenhouse_webhook::{self, ApplicationChange, GreenhouseEvent},
        lever_webhook,
    },
    store::{
        applications as app_store, ats_integrations as integrations_store, credentials,
        webhook_deliveries::{self as store, DeliveryRow},
    },
    vocab::{ApplicationStatus, Provider, StatusSource, WebhookState},
};

/// Registers the job kind.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    registry.register(
        PROCESS,
        KindSettings {
            concurrency: 16,
            ..KindSettings::default()
        },
        Processor(ctx),
    );
}

struct Processor(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for Processor {
    async fn run(&self, job: &Job) -> std::result::Result<(), JobError> {
        let payload: ProcessPayload = job.payload()?;
        process(&self.0, &payload.delivery_id)
            .await
            .map_err(JobError::from)
    }
}

/// What processing came to.
enum Done {
    Applied,
    Ignored(&'static str),
}

/// Processes one stored delivery.
pub async fn process(ctx: &AppContext, delivery_id: &str) -> Result<()> {
    let Some(delivery) = store::find(&ctx.db, delivery_id).await? else {
        return Ok(());
    };
    if delivery.state != WebhookState::Pending {
        return Ok(());
    }
    let done = match integrations_store::find(&ctx.db, &delivery.integration_id).await? {
        None => Done::Ignored("integration deleted"),
        Some(integration) if !settings_of(&integration).acts_on(&delivery.event) => {
            Done::Ignored("event not acted on by this integration")
        }
        Some(integration) => match integration.provider {
            Provider::Greenhouse => greenhouse(ctx, &integration, &delivery).await?,
            Provider::Lever => lever(ctx, &integration, &delivery).await?,
            _ => Done::Ignored("provider without webhooks"),
        },
    };
    let (state, note) = match done {
        Done::Applied => (WebhookState::Processed, None),
        Done::Ignored(why) => (WebhookState::Ignored, Some(why.to_owned())),
    };
    store::settle(&ctx.db, delivery_id, state, note, Utc::now()).await?;
    Ok(())
}

async fn greenhouse(
    ctx: &AppContext,
    integration: &integrations_store::AtsIntegrationRow,
    delivery: &DeliveryRow,
) -> Result<Done> {
    let Ok((_, event)) = greenhouse_webhook::parse(&delivery.body) else {
        return Ok(Done::Ignored("unreadable body"));
    };
    let settings = settings_of(integration);
    match event {
        GreenhouseEvent::JobChanged { job_id }
        | GreenhouseEvent::JobPostChanged {
            job_id: Some(job_id),
            ..
        }
        | GreenhouseEvent::JobPostDeleted {
            job_id: Some(job_id),
            ..
        } if settings.sync_jobs => {
            sync::refresh_job(ctx, integration, &job_id).await?;
            Ok(Done::Applied)
        }
        GreenhouseEvent::JobDeleted { job_id } if settings.sync_jobs => {
            sync::close_job(ctx, integration, &job_id).await?;
            Ok(Done::Applied)
        }
        GreenhouseEvent::Application {
            change,
            application_id,
            status,
            stage,
        } if settings.sync_applications => {
            let Some(ours) =
                app_store::sync_by_ats_id(&ctx.db, &integration.id, &application_id).await?
            else {
                return Ok(Done::Ignored("not an application made on next_ke"));
            };
            let status = match (change, status.as_deref()) {
                (ApplicationChange::Hired, _) | (_, Some("hired")) => ApplicationStatus::Hired,
                (ApplicationChange::Rejected, _) | (_, Some("rejected")) => {
                    ApplicationStatus::Rejected
                }
                _ => ApplicationStatus::Active,
            };
            move_to(
                ctx,
                &ours.application_id,
                status,
                stage.as_deref(),
                StatusSource::Webhook,
            )
            .await?;
            Ok(Done::Applied)
        }
        _ => Ok(Done::Ignored("event not handled")),
    }
}

async fn lever(
    ctx: &AppContext,
    integration: &integrations_store::AtsIntegrationRow,
    delivery: &DeliveryRow,
) -> Result<Done> {
    let Some((event, hint)) = lever_webhook::read(&delivery.body) else {
        return Ok(Done::Ignored("unreadable body"));
    };
    let handled = matches!(
        event.as_str(),
        "applicationCreated" | "candidateStageChange" | "candidateArchiveChange" | "candidateHired"
    );
    if !handled || !settings_of(integration).sync_applications {
        return Ok(Done::Ignored("event not handled"));
    }
    let Some(opportunity_id) = hint.opportunity_id else {
        // Lever's connection test carries no opportunity
        return Ok(Done::Ignored("no opportunity named"));
    };
    let Some(ours) = app_store::sync_by_ats_id(&ctx.db, &integration.id, &opportunity_id).await?
    else {
        return Ok(Done::Ignored("not an application made on next_ke"));
    };
    // the body is a hint: what changes is what Lever's API says now
    let credential = credentials::find(&ctx.db, &integration.connection_id)
        .await?
        .ok_or(AppError::NotFound("ats integration"))?;
    let base = lever_base(ctx, summary_of(integration).eu_region)?;
    let client = lever_client(ctx);
    let endpoints = OAuthEndpoints::greenhouse(&ctx.config);
    let key = credential.id.clone();
    let read = with_fresh_token(ctx, &endpoints, &credential, |api_key| {
        let client = client.clone();
        let base = base.clone();
        let key = key.clone();
        let id = opportunity_id.clone();
        async move {
            let opportunity = client.opportunity(&base, &api_key, &key, &id).await?;
            let stages = client.stages(&base, &api_key, &key).await?;
            let reasons = client.archive_reasons(&base, &api_key, &key).await?;
            Ok((opportunity, stages, reasons))
        }
    })
    .await
    .map_err(|e| super::call_error(Provider::Lever, e))?;
    let (Some(opportunity), stages, reasons) = read else {
        return Ok(Done::Ignored("the opportunity is gone at lever"));
    };
    let stage = opportunity
        .stage
        .as_ref()
        .and_then(|id| stages.iter().find(|(s, _)| s == id))
        .map(|(_, name)| name.clone());
    let status = match &opportunity.archived_reason {
        None => ApplicationStatus::Active,
        Some(reason) => {
            let hired = reasons
                .iter()
                .any(|(id, _, kind)| id == reason && kind.eq_ignore_ascii_case("hired"));
            if hired {
                ApplicationStatus::Hired
            } else {
                ApplicationStatus::Rejected
            }
        }
    };
    move_to(
        ctx,
        &ours.application_id,
        status,
        stage.as_deref(),
        StatusSource::Webhook,
    )
    .await?;
    Ok(Done::Applied)
}
