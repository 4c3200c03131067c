//! `CalendarService`: conversions around [`crate::domain::calendar`] and
//! [`crate::domain::notifications`].

use std::{pin::Pin, sync::Arc};

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::{
    auth::caller,
    calendar_convert::{
        attendees_from, availability_to, event_to, event_type_from, integration_to,
        notification_to, patch_from, preferences_to, preferences_update_from,
    },
    convert::{self, provider_from},
};
use crate::{
    context::AppContext,
    domain::{
        calendar::{
            availability, connect,
            events::{self, EventQuery, NewEvent},
            integrations, preferences,
        },
        notifications,
    },
    error::AppError,
    proto::{self, calendar_service_server::CalendarService},
};

/// The `CalendarService` implementation.
pub struct CalendarApi {
    ctx: Arc<AppContext>,
}

impl CalendarApi {
    /// Serves with the application's shared context.
    pub fn new(ctx: Arc<AppContext>) -> Self {
        Self { ctx }
    }
}

type NotificationStream =
    Pin<Box<dyn Stream<Item = Result<proto::WatchNotificationsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl CalendarService for CalendarApi {
    async fn start_calendar_auth(
        &self,
        request: Request<proto::StartCalendarAuthRequest>,
    ) -> Result<Response<proto::StartCalendarAuthResponse>, Status> {
        let identity = caller(&request)?;
        let raw = request.into_inner().provider;
        let provider = proto::Provider::try_from(raw).ok().and_then(provider_from);
        let started = connect::start_auth(&self.ctx, &identity, provider).await?;
        Ok(Response::new(proto::StartCalendarAuthResponse {
            authorization_url: started.authorization_url,
            expires_at: Some(convert::timestamp(started.expires_at)),
            scopes: started.scopes,
        }))
    }

    async fn list_calendar_integrations(
        &self,
        request: Request<proto::ListCalendarIntegrationsRequest>,
    ) -> Result<Response<proto::ListCalendarIntegrationsResponse>, Status> {
        let identity = caller(&request)?;
        let list = integrations::list(&self.ctx, &identity).await?;
        Ok(Response::new(proto::ListCalendarIntegrationsResponse {
            integrations: list.into_iter().map(integration_to).collect(),
        }))
    }

    async fn disconnect_calendar(
        &self,
        request: Request<proto::DisconnectCalendarRequest>,
    ) -> Result<Response<proto::DisconnectCalendarResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let done = integrations::disconnect(
            &self.ctx,
            &identity,
            &req.integration_id,
            req.cancel_pending_reminders,
        )
        .await?;
        Ok(Response::new(proto::DisconnectCalendarResponse {
            revoked_at_provider: done.revoked_at_provider,
            reminders_cancelled: i32::try_from(done.reminders_cancelled).unwrap_or(i32::MAX),
        }))
    }

    async fn set_default_calendar(
        &self,
        request: Request<proto::SetDefaultCalendarRequest>,
    ) -> Result<Response<proto::SetDefaultCalendarResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let integration =
            integrations::set_default(&self.ctx, &identity, &req.integration_id, &req.calendar_id)
                .await?;
        Ok(Response::new(proto::SetDefaultCalendarResponse {
            integration: Some(integration_to(integration)),
        }))
    }

    async fn create_event(
        &self,
        request: Request<proto::CreateEventRequest>,
    ) -> Result<Response<proto::CreateEventResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let new = NewEvent {
            event_type: event_type_from(req.event_type)?,
            title: req.title,
            description: req.description,
            start: convert::time(req.start_time, "start_time")?,
            end: convert::time(req.end_time, "end_time")?,
            time_zone: req.time_zone,
            location: req.location,
            meeting_url: req.meeting_url,
            attendees: attendees_from(req.attendees),
            reminder_minutes: req.reminder_minutes,
            no_reminders: req.no_reminders,
            job_application_id: req.job_application_id,
            integration_id: req.integration_id,
            calendar_id: req.calendar_id,
            notify_attendees: req.notify_attendees,
            request_id: req.request_id,
        };
        let event = events::create(&self.ctx, &identity, new).await?;
        Ok(Response::new(proto::CreateEventResponse {
            event: Some(event_to(event)),
        }))
    }

    async fn get_event(
        &self,
        request: Request<proto::GetEventRequest>,
    ) -> Result<Response<proto::GetEventResponse>, Status> {
        let identity = caller(&request)?;
        let event = events::get(&self.ctx, &identity, &request.into_inner().event_id).await?;
        Ok(Response::new(proto::GetEventResponse {
            event: Some(event_to(event)),
        }))
    }

    async fn list_events(
        &self,
        request: Request<proto::ListEventsRequest>,
    ) -> Result<Response<proto::ListEventsResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let query = EventQuery {
            from: convert::time(req.start_time, "start_time")?,
            until: convert::time(req.end_time, "end_time")?,
            event_type: event_type_from(req.event_type)?,
            include_cancelled: req.include_cancelled,
            page_size: convert::page_size(req.page_size)?,
            page_token: req.page_token,
        };
        let page = events::list(&self.ctx, &identity, query).await?;
        Ok(Response::new(proto::ListEventsResponse {
            events: page.events.into_iter().map(event_to).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn update_event(
        &self,
        request: Request<proto::UpdateEventRequest>,
    ) -> Result<Response<proto::UpdateEventResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let patch = patch_from(req.event.unwrap_or_default(), &paths, req.notify_attendees)?;
        let event = events::update(&self.ctx, &identity, &req.event_id, patch).await?;
        Ok(Response::new(proto::UpdateEventResponse {
            event: Some(event_to(event)),
        }))
    }

    async fn cancel_event(
        &self,
        request: Request<proto::CancelEventRequest>,
    ) -> Result<Response<proto::CancelEventResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let (event, cancelled) =
            events::cancel(&self.ctx, &identity, &req.event_id, req.notify_attendees).await?;
        Ok(Response::new(proto::CancelEventResponse {
            event: Some(event_to(event)),
            reminders_cancelled: i32::try_from(cancelled).unwrap_or(i32::MAX),
        }))
    }

    async fn get_availability(
        &self,
        request: Request<proto::GetAvailabilityRequest>,
    ) -> Result<Response<proto::GetAvailabilityResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let answer = availability::availability(
            &self.ctx,
            &identity,
            convert::time(req.start_time, "start_time")?,
            convert::time(req.end_time, "end_time")?,
            req.slot_minutes,
            &req.time_zone,
        )
        .await?;
        Ok(Response::new(availability_to(answer)))
    }

    async fn get_reminder_preferences(
        &self,
        request: Request<proto::GetReminderPreferencesRequest>,
    ) -> Result<Response<proto::GetReminderPreferencesResponse>, Status> {
        let identity = caller(&request)?;
        let prefs = preferences::get(&self.ctx, &identity).await?;
        Ok(Response::new(proto::GetReminderPreferencesResponse {
            preferences: Some(preferences_to(prefs)),
        }))
    }

    async fn update_reminder_preferences(
        &self,
        request: Request<proto::UpdateReminderPreferencesRequest>,
    ) -> Result<Response<proto::UpdateReminderPreferencesResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let update = preferences_update_from(
            req.preferences
                .ok_or_else(|| AppError::invalid("preferences", "is required"))?,
            &paths,
        )?;
        let prefs = preferences::update(&self.ctx, &identity, update).await?;
        Ok(Response::new(proto::UpdateReminderPreferencesResponse {
            preferences: Some(preferences_to(prefs)),
        }))
    }

    async fn list_notifications(
        &self,
        request: Request<proto::ListNotificationsRequest>,
    ) -> Result<Response<proto::ListNotificationsResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let page = notifications::list(
            &self.ctx,
            &identity,
            req.unread_only,
            convert::page_size(req.page_size)?,
            &req.page_token,
        )
        .await?;
        Ok(Response::new(proto::ListNotificationsResponse {
            notifications: page
                .notifications
                .into_iter()
                .map(notification_to)
                .collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
            unread_count: i64::try_from(page.unread_count).unwrap_or(i64::MAX),
        }))
    }

    async fn mark_notifications_read(
        &self,
        request: Request<proto::MarkNotificationsReadRequest>,
    ) -> Result<Response<proto::MarkNotificationsReadResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let marked = notifications::mark_read(&self.ctx, &identity, &req.ids, req.all).await?;
        Ok(Response::new(proto::MarkNotificationsReadResponse {
            marked: i64::try_from(marked).unwrap_or(i64::MAX),
        }))
    }

    type WatchNotificationsStream = NotificationStream;

    async fn watch_notifications(
        &self,
        request: Request<proto::WatchNotificationsRequest>,
    ) -> Result<Response<Self::WatchNotificationsStream>, Status> {
        let identity = caller(&request)?;
        crate::domain::calendar::ensure_enabled(&self.ctx.config)?;
        let after = request.into_inner().after_id;
        let stream = notifications::watch(self.ctx.clone(), &identity, after).await?;
        let stream = stream.map(|item| {
            item.map(|n| proto::WatchNotificationsResponse {
                notification: Some(notification_to(n)),
            })
            .map_err(Status::from)
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
