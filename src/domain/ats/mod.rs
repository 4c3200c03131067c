//! Applicant tracking systems: organizations connect Greenhouse or Lever,
//! their jobs flow into job posts, candidates' applications go out, and
//! status changes come back by signed webhook.
//!
//! # Layout
//! - [`access`]: who may configure and read an organization's ATS.
//! - [`check`]: credentials checked against the provider before they are kept.
//! - [`integrations`]: create, list, read, change, delete, rotate the secret.
//! - [`job_posts`]: the platform's job posts as callers read them.
//! - [`sync`]: a sync of an integration's jobs into job posts.
//! - [`schedule`]: scheduled syncs, each integration at its interval, jittered.
//! - [`sync_runs`]: the runs of job syncs as admins see them.
//! - [`html`]: job descriptions sanitized, and their text.
//! - [`applications`], [`resume`]: candidates' applications and résumés;
//!   [`delivery`]: sending them to the ATS (a job of the engine).
//! - [`webhooks`]: deliveries verified, stored and queued;
//!   [`webhook_events`]: what they say, applied from the store;
//!   [`webhook_intake`]: the keys cache and the group-committing writer.

pub mod access;
pub mod applications;
pub mod check;
pub mod delivery;
pub mod html;
pub mod integrations;
pub mod job_posts;
pub mod resume;
pub mod schedule;
pub mod sync;
pub mod sync_runs;
pub mod webhook_events;
pub mod webhook_intake;
pub mod webhooks;

use crate::{
    config::Config,
    context::AppContext,
    error::{AppError, Result},
    providers::{greenhouse::GreenhouseClient, lever::LeverClient},
};

/// The flag's name, for errors.
pub const FLAG: &str = "ENABLE_ATS_INTEGRATION";

/// The path of an integration's webhook (the shim's route).
pub const WEBHOOK_PATH: &str = "/api/v1/integrations/ats/webhook";

/// `FAILED_PRECONDITION` naming the flag when the integration is off.
pub fn ensure_enabled(config: &Config) -> Result<()> {
    if config.ats.enable_ats_integration {
        Ok(())
    } else {
        Err(AppError::FailedPrecondition(format!(
            "the ATS integration is disabled ({FLAG}=false)"
        )))
    }
}

/// Where an integration's provider sends its webhooks.
pub fn webhook_url(config: &Config, integration_id: &str) -> String {
    format!("{}{WEBHOOK_PATH}/{integration_id}", config.public_base())
}

fn url_of(raw: &str, name: &'static str) -> Result<url::Url> {
    url::Url::parse(raw).map_err(|_| AppError::FailedPrecondition(format!("{name} is not a url")))
}

/// The Greenhouse client on the configured hosts.
pub fn greenhouse_client(ctx: &AppContext) -> Result<GreenhouseClient> {
    let ats = &ctx.config.ats;
    Ok(GreenhouseClient::new(
        ctx.outbound.clone(),
        url_of(
            &ats.greenhouse_harvest_base_url,
            "GREENHOUSE_HARVEST_BASE_URL",
        )?,
        url_of(
            &ats.greenhouse_boards_base_url,
            "GREENHOUSE_BOARDS_BASE_URL",
        )?,
    ))
}

/// The Lever client.
pub fn lever_client(ctx: &AppContext) -> LeverClient {
    LeverClient::new(ctx.outbound.clone())
}

/// Lever's Data API host of the account's environment.
pub fn lever_base(ctx: &AppContext, eu_region: bool) -> Result<url::Url> {
    let ats = &ctx.config.ats;
    if eu_region {
        url_of(&ats.lever_eu_api_base_url, "LEVER_EU_API_BASE_URL")
    } else {
        url_of(&ats.lever_api_base_url, "LEVER_API_BASE_URL")
    }
}

/// A provider call's failure as the ATS domain answers it: a connection the
/// provider no longer accepts is the admin's to fix.
pub(crate) fn call_error(
    provider: crate::vocab::Provider,
    err: crate::domain::connections::CallError,
) -> AppError {
    use crate::domain::connections::CallError;
    match err {
        CallError::Reauth => AppError::FailedPrecondition(format!(
            "{provider} no longer accepts the integration's credentials; update them"
        )),
        CallError::Provider(err) => err.into(),
        CallError::App(err) => err,
    }
}

/// Registers the ATS job kinds.
pub fn register(registry: &mut crate::jobs::Registry, ctx: std::sync::Arc<AppContext>) {
    delivery::register(registry, ctx.clone());
    schedule::register(registry, ctx.clone());
    webhook_events::register(registry, ctx);
}

/// The unique keys of an integration's background jobs (dropped with it).
pub fn job_keys(integration_id: &str) -> Vec<String> {
    vec![format!("ats.sync:{integration_id}")]
}
