//! Google Calendar and Microsoft Outlook: what is truly the calendar's.
//! Connecting, tokens, health and disconnect are the shared lifecycle's
//! (`domain::connections`); this module adds the account's calendars, the
//! events we put in them, availability, and reminders.
//!
//! # Layout
//! - `event`: the vocabulary (types, states, channels) and the checks of
//!   what callers send, each refusal naming its field;
//! - `connect`: starting the flow, and [`CalendarConnector`], the calendar's
//!   part of the shared callback and disconnect;
//! - `integrations`: the caller's accounts, the default, where an event goes,
//!   disconnecting;
//! - `events`: create (idempotent), read, list, update, cancel;
//! - `push`: the provider's copy made to match ours, at once or from a job;
//! - `availability`: busy intervals across calendars and the free slots;
//! - `preferences`: channels, addresses, default reminder minutes;
//! - `reminders`: the reminder jobs, scheduled with the event's changes, and
//!   their handler; `channels`: sending one on email, WhatsApp or in-app;
//!   `email`: the reminder email (text, HTML, `.ics`).

pub mod availability;
pub mod channels;
pub mod connect;
pub mod email;
pub mod event;
pub mod events;
pub mod integrations;
pub mod preferences;
pub mod push;
pub mod reminders;

use std::sync::Arc;

pub use connect::CalendarConnector;

use crate::{
    config::Config,
    context::AppContext,
    domain::types::Provider,
    error::{AppError, Result},
    jobs::Registry,
    providers::{
        calendar::CalendarProvider, google_calendar::GoogleCalendarClient,
        microsoft_graph::MicrosoftGraphClient,
    },
};

/// `FAILED_PRECONDITION` naming the flag when the integration is off.
pub fn ensure_enabled(config: &Config) -> Result<()> {
    if config.calendar.enable_calendar_integration {
        Ok(())
    } else {
        Err(AppError::FailedPrecondition(
            "the calendar integration is disabled (ENABLE_CALENDAR_INTEGRATION=false)".to_owned(),
        ))
    }
}

/// The API client of a calendar provider, its calls spending the rate
/// budget of `connection` when given (both providers' quotas are per user);
/// `None` for another provider, or a base URL that does not parse.
pub fn client_of(
    ctx: &AppContext,
    provider: Provider,
    connection: Option<&str>,
) -> Option<Box<dyn CalendarProvider>> {
    let p = &ctx.config.providers;
    let url = |raw: &str| url::Url::parse(raw).ok();
    match provider {
        Provider::Google => {
            let client = GoogleCalendarClient::new(
                ctx.outbound.clone(),
                url(&p.google_api_base_url)?,
                url(&p.google_userinfo_base_url)?,
            );
            Some(Box::new(match connection {
                Some(key) => client.with_credential_key(key),
                None => client,
            }))
        }
        Provider::Microsoft => {
            let client =
                MicrosoftGraphClient::new(ctx.outbound.clone(), url(&p.microsoft_api_base_url)?);
            Some(Box::new(match connection {
                Some(key) => client.with_credential_key(key),
                None => client,
            }))
        }
        _ => None,
    }
}

/// Registers the calendar's job kinds.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    reminders::register(registry, ctx.clone());
    push::register(registry, ctx);
}
