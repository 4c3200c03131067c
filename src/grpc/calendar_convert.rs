//! Conversions between the calendar's protobuf messages and its domain types.

use crate::{
    domain::{
        calendar::{
            availability::{Availability, Interval},
            event::{Attendee, Channel, EventStatus, EventType, SyncState},
            events::{Event, EventPatch},
            integrations::Integration,
            preferences::{Preferences, PreferencesUpdate},
        },
        notifications::Notification,
    },
    error::AppError,
    proto,
};

use super::convert::{self, provider_to, state_to, timestamp};

pub fn event_type_from(raw: i32) -> Result<Option<EventType>, AppError> {
    convert::enum_filter(raw, "event_type", |t: proto::EventType| match t {
        proto::EventType::Unspecified => None,
        proto::EventType::Interview => Some(EventType::Interview),
        proto::EventType::Deadline => Some(EventType::Deadline),
        proto::EventType::CareerEvent => Some(EventType::CareerEvent),
    })
}

fn event_type_to(t: EventType) -> proto::EventType {
    match t {
        EventType::Interview => proto::EventType::Interview,
        EventType::Deadline => proto::EventType::Deadline,
        EventType::CareerEvent => proto::EventType::CareerEvent,
    }
}

fn sync_state_to(s: SyncState) -> proto::EventSyncState {
    match s {
        SyncState::Synced => proto::EventSyncState::Synced,
        SyncState::Pending => proto::EventSyncState::Pending,
        SyncState::Failed => proto::EventSyncState::Failed,
        SyncState::NotConnected => proto::EventSyncState::NotConnected,
    }
}

fn status_to(s: EventStatus) -> proto::EventStatus {
    match s {
        EventStatus::Scheduled => proto::EventStatus::Scheduled,
        EventStatus::Cancelled => proto::EventStatus::Cancelled,
    }
}

pub fn channels_from(raw: &[i32]) -> Result<Vec<Channel>, AppError> {
    raw.iter()
        .map(|c| {
            convert::enum_filter(*c, "channels", |c: proto::ReminderChannel| match c {
                proto::ReminderChannel::Unspecified => None,
                proto::ReminderChannel::Email => Some(Channel::Email),
                proto::ReminderChannel::Whatsapp => Some(Channel::WhatsApp),
                proto::ReminderChannel::InApp => Some(Channel::InApp),
            })
            .and_then(|c| c.ok_or_else(|| AppError::invalid("channels", "unspecified channel")))
        })
        .collect()
}

fn channel_to(c: Channel) -> proto::ReminderChannel {
    match c {
        Channel::Email => proto::ReminderChannel::Email,
        Channel::WhatsApp => proto::ReminderChannel::Whatsapp,
        Channel::InApp => proto::ReminderChannel::InApp,
    }
}

pub fn attendees_from(raw: Vec<proto::Attendee>) -> Vec<Attendee> {
    raw.into_iter()
        .map(|a| Attendee {
            email: a.email,
            name: (!a.name.is_empty()).then_some(a.name),
            optional: a.optional,
        })
        .collect()
}

pub fn event_to(e: Event) -> proto::Event {
    proto::Event {
        id: e.id,
        event_type: event_type_to(e.event_type).into(),
        title: e.title,
        description: e.description,
        start_time: Some(timestamp(e.start)),
        end_time: Some(timestamp(e.end)),
        time_zone: e.time_zone,
        location: e.location,
        meeting_url: e.meeting_url,
        attendees: e
            .attendees
            .into_iter()
            .map(|a| proto::Attendee {
                email: a.email,
                name: a.name.unwrap_or_default(),
                optional: a.optional,
            })
            .collect(),
        reminder_minutes: e.reminder_minutes.iter().map(|m| *m as i32).collect(),
        job_application_id: e.job_application_id.unwrap_or_default(),
        integration_id: e.integration_id.unwrap_or_default(),
        provider: provider_to(e.provider).into(),
        calendar_id: e.calendar_id.unwrap_or_default(),
        provider_event_id: e.provider_event_id.unwrap_or_default(),
        html_link: e.html_link.unwrap_or_default(),
        sync_state: sync_state_to(e.sync_state).into(),
        sync_error: e.sync_error.unwrap_or_default(),
        status: status_to(e.status).into(),
        created_at: Some(timestamp(e.created_at)),
        updated_at: Some(timestamp(e.updated_at)),
    }
}

/// The fields of `event` that `paths` name; an unknown path is refused.
pub fn patch_from(
    event: proto::Event,
    paths: &[String],
    notify_attendees: bool,
) -> Result<EventPatch, AppError> {
    if paths.is_empty() {
        return Err(AppError::invalid("update_mask", "is required"));
    }
    let mut patch = EventPatch {
        notify_attendees,
        ..Default::default()
    };
    for path in paths {
        match path.as_str() {
            "event_type" => patch.event_type = Some(event_type_from(event.event_type)?),
            "title" => patch.title = Some(event.title.clone()),
            "description" => patch.description = Some(event.description.clone()),
            "start_time" => {
                patch.start = Some(convert::time(event.start_time, "event.start_time")?)
            }
            "end_time" => patch.end = Some(convert::time(event.end_time, "event.end_time")?),
            "time_zone" => patch.time_zone = Some(event.time_zone.clone()),
            "location" => patch.location = Some(event.location.clone()),
            "meeting_url" => patch.meeting_url = Some(event.meeting_url.clone()),
            "attendees" => patch.attendees = Some(attendees_from(event.attendees.clone())),
            "reminder_minutes" => patch.reminder_minutes = Some(event.reminder_minutes.clone()),
            _ => {
                return Err(AppError::invalid(
                    "update_mask",
                    "names a field that cannot be changed",
                ))
            }
        }
    }
    Ok(patch)
}

pub fn integration_to(i: Integration) -> proto::CalendarIntegration {
    let default_calendar = i.default_calendar_id.clone();
    proto::CalendarIntegration {
        id: i.id,
        provider: provider_to(Some(i.provider)).into(),
        account_email: i.account_email,
        state: state_to(i.state).into(),
        is_default: i.is_default,
        calendars: i
            .calendars
            .into_iter()
            .map(|c| proto::Calendar {
                is_default: c.id == default_calendar,
                id: c.id,
                name: c.name,
                primary: c.primary,
            })
            .collect(),
        connected_at: Some(timestamp(i.connected_at)),
        last_error: i.last_error.unwrap_or_default(),
    }
}

pub fn preferences_to(p: Preferences) -> proto::ReminderPreferences {
    proto::ReminderPreferences {
        channels: p
            .channels
            .into_iter()
            .map(|c| channel_to(c).into())
            .collect(),
        email: p.email,
        whatsapp_number: p.whatsapp_number,
        default_reminder_minutes: p
            .default_reminder_minutes
            .iter()
            .map(|m| *m as i32)
            .collect(),
        email_reconnect_notices: p.email_reconnect_notices,
    }
}

/// The update the mask names (an empty mask: every field).
pub fn preferences_update_from(
    p: proto::ReminderPreferences,
    paths: &[String],
) -> Result<PreferencesUpdate, AppError> {
    let all = paths.is_empty();
    let named = |name: &str| all || paths.iter().any(|p| p == name);
    for path in paths {
        if !matches!(
            path.as_str(),
            "channels"
                | "email"
                | "whatsapp_number"
                | "default_reminder_minutes"
                | "email_reconnect_notices"
        ) {
            return Err(AppError::invalid("update_mask", "names an unknown field"));
        }
    }
    Ok(PreferencesUpdate {
        channels: if named("channels") {
            Some(channels_from(&p.channels)?)
        } else {
            None
        },
        email: named("email").then(|| p.email.clone()),
        whatsapp_number: named("whatsapp_number").then(|| p.whatsapp_number.clone()),
        default_reminder_minutes: named("default_reminder_minutes")
            .then(|| p.default_reminder_minutes.clone()),
        email_reconnect_notices: named("email_reconnect_notices")
            .then_some(p.email_reconnect_notices),
    })
}

pub fn notification_to(n: Notification) -> proto::Notification {
    proto::Notification {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        event_id: n.event_id.unwrap_or_default(),
        created_at: Some(timestamp(n.created_at)),
        read_at: n.read_at.map(timestamp),
    }
}

pub fn availability_to(a: Availability) -> proto::GetAvailabilityResponse {
    let interval = |b: Interval| proto::TimeInterval {
        start_time: Some(timestamp(b.start)),
        end_time: Some(timestamp(b.end)),
    };
    proto::GetAvailabilityResponse {
        busy: a.busy.into_iter().map(interval).collect(),
        free_slots: a.free_slots.into_iter().map(interval).collect(),
        sources: a
            .sources
            .into_iter()
            .map(|s| proto::AvailabilitySource {
                integration_id: s.integration_id,
                provider: provider_to(s.provider).into(),
                ok: s.ok,
                error: s.error.unwrap_or_default(),
            })
            .collect(),
    }
}
