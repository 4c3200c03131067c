//! Making the provider's copy of an event match ours: create it, update it,
//! or delete it (cancelled). A push is tried at once by the RPC that changed
//! the event; when the provider cannot take it now, a `calendar.push` job
//! tries again in the background. Both are safe to repeat: Google's event id
//! is derived from ours and Graph dedupes creates by `transactionId`, so a
//! create retried after a timeout finds the first one.

use std::sync::Arc;

use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};

use super::{
    client_of,
    event::{EventStatus, SyncState},
    events::Event,
};
use crate::{
    context::AppContext,
    domain::connections::{with_fresh_token, CallError},
    error::{AppError, Result},
    jobs::{Job, JobError, JobHandler, KindSettings, NewJob, Registry},
    oauth::OAuthEndpoints,
    providers::calendar::{EventAttendee, EventBody, ProviderEvent},
    store::{
        calendar_events::{self as store, EventChange},
        credentials,
    },
};

/// The job kind that pushes one event.
pub const PUSH: &str = "calendar.push";

/// Payload of [`PUSH`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PushPayload {
    pub event_id: String,
}

/// The unique key of an event's pending push.
pub fn push_key(event_id: &str) -> String {
    format!("{PUSH}:{event_id}")
}

/// Registers the push kind.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    registry.register(
        PUSH,
        KindSettings {
            concurrency: 8,
            lease: ctx.config.jobs.lease(),
            max_attempts: Some(8),
            ..KindSettings::default()
        },
        PushJob(ctx),
    );
}

struct PushJob(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for PushJob {
    async fn run(&self, job: &Job) -> std::result::Result<(), JobError> {
        let payload: PushPayload = job.payload()?;
        let Some(row) = store::find_by_id(&self.0.db, &payload.event_id).await? else {
            return Ok(());
        };
        match push(&self.0, &Event::from_row(row)).await {
            Pushed::Done | Pushed::Stale => Ok(()),
            Pushed::Refused(message) => Err(JobError::Settled(message)),
            Pushed::Later(err) => Err(JobError::from(err)),
        }
    }
}

/// What a push came to.
enum Pushed {
    /// The provider matches the row.
    Done,
    /// The row changed meanwhile; its own push follows.
    Stale,
    /// The provider refused for good (recorded on the row).
    Refused(String),
    /// Worth trying again (recorded on the row).
    Later(AppError),
}

/// Pushes `event` now; when the provider cannot take it, leaves a job to try
/// again. Answers the event as stored afterwards.
pub async fn push_now(ctx: &AppContext, event: Event) -> Result<Event> {
    let id = event.id.clone();
    let user_id = event.user_id.clone();
    if let Pushed::Later(_) = push(ctx, &event).await {
        crate::jobs::enqueue(
            &ctx.db,
            NewJob::new(
                PUSH,
                PushPayload {
                    event_id: id.clone(),
                },
            )
            .unique(push_key(&id))
            .delay(std::time::Duration::from_secs(5))
            .for_user(user_id.clone()),
        )
        .await?;
    }
    store::find(&ctx.db, &user_id, &id)
        .await?
        .map(Event::from_row)
        .ok_or(AppError::NotFound("event"))
}

/// The body the provider is sent.
pub fn body_of(event: &Event) -> Option<EventBody> {
    let zone = event.time_zone.parse().ok()?;
    Some(EventBody {
        our_id: event.id.clone(),
        title: event.title.clone(),
        description: event.description.clone(),
        location: (!event.location.is_empty()).then(|| event.location.clone()),
        meeting_url: (!event.meeting_url.is_empty()).then(|| event.meeting_url.clone()),
        start: event.start,
        end: event.end,
        time_zone: zone,
        attendees: event
            .attendees
            .iter()
            .map(|a| EventAttendee {
                email: a.email.clone(),
                name: a.name.clone(),
                optional: a.optional,
            })
            .collect(),
        reminder_minutes: event.reminder_minutes.clone(),
        notify_attendees: event.notify_attendees,
    })
}

async fn push(ctx: &AppContext, event: &Event) -> Pushed {
    let outcome = call(ctx, event).await;
    let (change, pushed) = match outcome {
        Ok(Some(answer)) => (
            EventChange {
                sync_state: Set(SyncState::Synced.as_str().to_owned()),
                sync_error: Set(None),
                provider_event_id: Set(Some(answer.id)),
                html_link: Set(answer.html_link),
                ..Default::default()
            },
            Pushed::Done,
        ),
        Ok(None) => (
            EventChange {
                sync_state: Set(SyncState::Synced.as_str().to_owned()),
                sync_error: Set(None),
                ..Default::default()
            },
            Pushed::Done,
        ),
        Err(CallError::Reauth) => {
            let message = "the calendar must be reconnected".to_owned();
            (
                EventChange {
                    sync_state: Set(SyncState::Failed.as_str().to_owned()),
                    sync_error: Set(Some(message.clone())),
                    ..Default::default()
                },
                Pushed::Refused(message),
            )
        }
        Err(CallError::Provider(err)) if !err.is_retryable() => {
            let message = err.to_string();
            (
                EventChange {
                    sync_state: Set(SyncState::Failed.as_str().to_owned()),
                    sync_error: Set(Some(message.clone())),
                    ..Default::default()
                },
                Pushed::Refused(message),
            )
        }
        Err(CallError::Provider(err)) => (
            EventChange {
                sync_state: Set(SyncState::Pending.as_str().to_owned()),
                sync_error: Set(Some(err.to_string())),
                ..Default::default()
            },
            Pushed::Later(err.into()),
        ),
        Err(CallError::App(AppError::NotFound(what))) => (
            EventChange {
                sync_state: Set(SyncState::NotConnected.as_str().to_owned()),
                sync_error: Set(None),
                integration_id: Set(None),
                ..Default::default()
            },
            Pushed::Refused(format!("{what} gone")),
        ),
        Err(CallError::App(err)) => (
            EventChange {
                sync_state: Set(SyncState::Pending.as_str().to_owned()),
                sync_error: Set(Some("internal error".to_owned())),
                ..Default::default()
            },
            Pushed::Later(err),
        ),
    };
    match store::record_push(&ctx.db, &event.id, event.version, change).await {
        Ok(true) => pushed,
        Ok(false) => Pushed::Stale,
        Err(err) => Pushed::Later(err.into()),
    }
}

/// The provider call the event's state needs; `Some` with the provider's
/// answer after a create or update, `None` after a delete.
async fn call(
    ctx: &AppContext,
    event: &Event,
) -> std::result::Result<Option<ProviderEvent>, CallError> {
    let (Some(integration_id), Some(provider)) = (&event.integration_id, event.provider) else {
        return Ok(None);
    };
    let connection = credentials::find(&ctx.db, integration_id)
        .await
        .map_err(|e| CallError::App(e.into()))?
        .filter(|c| c.user_id == event.user_id)
        .ok_or(CallError::App(AppError::NotFound("calendar integration")))?;
    let endpoints = OAuthEndpoints::for_provider(&ctx.config, provider)
        .ok_or(CallError::App(AppError::NotFound("calendar provider")))?;
    let client = client_of(ctx, provider, Some(&connection.id))
        .ok_or(CallError::App(AppError::NotFound("calendar provider")))?;
    let client = &*client;
    let calendar_id = event
        .calendar_id
        .clone()
        .unwrap_or_else(|| "primary".to_owned());
    let calendar_id = calendar_id.as_str();
    let body = body_of(event).ok_or_else(|| {
        CallError::App(AppError::Internal(anyhow::anyhow!("stored zone unknown")))
    })?;
    let body = &body;
    match (event.status, event.provider_event_id.as_deref()) {
        (EventStatus::Cancelled, None) if provider != crate::domain::types::Provider::Google => {
            Ok(None)
        }
        (EventStatus::Cancelled, provider_id) => {
            // Google's id is ours, derived: a create that may have reached it is deleted too
            let id = provider_id.map(str::to_owned);
            with_fresh_token(ctx, &endpoints, &connection, |token| {
                let id = id.clone();
                async move {
                    let id = match id {
                        Some(id) => id,
                        None => crate::providers::google_calendar::event_id_for(&body.our_id)
                            .unwrap_or_default(),
                    };
                    if id.is_empty() {
                        return Ok(());
                    }
                    client
                        .delete_event(&token, calendar_id, &id, body.notify_attendees)
                        .await
                }
            })
            .await
            .map(|()| None)
        }
        (EventStatus::Scheduled, None) => {
            with_fresh_token(ctx, &endpoints, &connection, |token| async move {
                client.create_event(&token, calendar_id, body).await
            })
            .await
            .map(Some)
        }
        (EventStatus::Scheduled, Some(id)) => {
            with_fresh_token(ctx, &endpoints, &connection, |token| async move {
                client.update_event(&token, calendar_id, id, body).await
            })
            .await
            .map(Some)
        }
    }
}
