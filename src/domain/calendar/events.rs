//! Events: create (idempotent by `request_id`), read, list, update with a
//! field mask, cancel. The row and its reminder jobs change in one
//! transaction; the provider's copy follows (`push`), at once and, when the
//! provider cannot take it now, from a background job.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, TransactionTrait};
use uuid::Uuid;

use super::{
    event::{
        self, Attendee, EventStatus, EventType, SyncState, DESCRIPTION_MAX, LOCATION_MAX,
        REQUEST_ID_MAX,
    },
    integrations, preferences, push, reminders,
};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{page_token, types::Provider},
    error::{is_unique_violation, AppError, Result},
    store::calendar_events::{self as store, EventChange, EventCursor, EventFilter, EventRow},
};

/// An event as the domain sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: String,
    pub user_id: String,
    pub event_type: EventType,
    pub title: String,
    pub description: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub time_zone: String,
    pub location: String,
    pub meeting_url: String,
    pub attendees: Vec<Attendee>,
    pub reminder_minutes: Vec<u32>,
    pub job_application_id: Option<String>,
    pub integration_id: Option<String>,
    pub provider: Option<Provider>,
    pub calendar_id: Option<String>,
    pub provider_event_id: Option<String>,
    pub html_link: Option<String>,
    pub sync_state: SyncState,
    pub sync_error: Option<String>,
    pub status: EventStatus,
    pub notify_attendees: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Event {
    /// The domain view of a stored row.
    pub fn from_row(row: EventRow) -> Self {
        Self {
            event_type: EventType::parse(&row.event_type).unwrap_or(EventType::CareerEvent),
            attendees: serde_json::from_value(row.attendees).unwrap_or_default(),
            reminder_minutes: serde_json::from_value(row.reminder_minutes).unwrap_or_default(),
            provider: row.provider,
            sync_state: SyncState::parse(&row.sync_state),
            status: EventStatus::parse(&row.status),
            id: row.id,
            user_id: row.user_id,
            title: row.title,
            description: row.description,
            start: row.start_at,
            end: row.end_at,
            time_zone: row.time_zone,
            location: row.location,
            meeting_url: row.meeting_url,
            job_application_id: row.job_application_id,
            integration_id: row.integration_id,
            calendar_id: row.calendar_id,
            provider_event_id: row.provider_event_id,
            html_link: row.html_link,
            sync_error: row.sync_error,
            notify_attendees: row.notify_attendees,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What `CreateEvent` asks for, before checking.
#[derive(Clone, Debug, Default)]
pub struct NewEvent {
    pub event_type: Option<EventType>,
    pub title: String,
    pub description: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub time_zone: String,
    pub location: String,
    pub meeting_url: String,
    pub attendees: Vec<Attendee>,
    pub reminder_minutes: Vec<i32>,
    pub no_reminders: bool,
    pub job_application_id: String,
    pub integration_id: String,
    pub calendar_id: String,
    pub notify_attendees: bool,
    pub request_id: String,
}

/// Creates an event: stores it with its reminders, then puts it in the
/// calendar. The same `request_id` answers the first event and creates nothing.
pub async fn create(ctx: &AppContext, caller: &Identity, new: NewEvent) -> Result<Event> {
    super::ensure_enabled(&ctx.config)?;
    let request_id = match new.request_id.as_str() {
        "" => None,
        id => Some(event::text(id, "request_id", REQUEST_ID_MAX, false)?),
    };
    if let Some(request_id) = &request_id {
        if let Some(row) = store::find_by_request(&ctx.db, &caller.user_id, request_id).await? {
            return Ok(Event::from_row(row));
        }
    }
    let event_type = new
        .event_type
        .ok_or_else(|| AppError::invalid("event_type", "is required"))?;
    let title = event::title(&new.title)?;
    let description = event::text(&new.description, "description", DESCRIPTION_MAX, true)?;
    let (start, end) = event::span(new.start, new.end)?;
    let zone = event::time_zone(&new.time_zone, "time_zone")?;
    let location = event::text(&new.location, "location", LOCATION_MAX, false)?;
    let meeting_url = match new.meeting_url.as_str() {
        "" => String::new(),
        url => event::url(url, "meeting_url")?,
    };
    let attendees = event::attendees(new.attendees)?;
    let job_application_id = match new.job_application_id.as_str() {
        "" => None,
        id => Some(event::text(id, "job_application_id", 128, false)?),
    };
    let reminder_minutes = if new.no_reminders {
        if !new.reminder_minutes.is_empty() {
            return Err(AppError::invalid(
                "reminder_minutes",
                "must be empty when no_reminders is set",
            ));
        }
        Vec::new()
    } else if new.reminder_minutes.is_empty() {
        preferences::of_user(&ctx.db, &caller.user_id)
            .await?
            .default_reminder_minutes
    } else {
        event::reminder_minutes(&new.reminder_minutes, "reminder_minutes")?
    };
    let target = integrations::target(
        ctx,
        &caller.user_id,
        (!new.integration_id.is_empty()).then_some(new.integration_id.as_str()),
        (!new.calendar_id.is_empty()).then_some(new.calendar_id.as_str()),
    )
    .await?;

    let now = Utc::now();
    let row = EventRow {
        id: Uuid::new_v4().to_string(),
        user_id: caller.user_id.clone(),
        request_id: request_id.clone(),
        event_type: event_type.as_str().to_owned(),
        title,
        description,
        start_at: start,
        end_at: end,
        time_zone: zone.name().to_owned(),
        location,
        meeting_url,
        attendees: serde_json::json!(attendees),
        reminder_minutes: serde_json::json!(reminder_minutes),
        job_application_id,
        integration_id: target.as_ref().map(|t| t.integration_id.clone()),
        provider: target.as_ref().map(|t| t.provider),
        calendar_id: target.as_ref().map(|t| t.calendar_id.clone()),
        provider_event_id: None,
        html_link: None,
        sync_state: if target.is_some() {
            SyncState::Pending
        } else {
            SyncState::NotConnected
        }
        .as_str()
        .to_owned(),
        sync_error: None,
        status: EventStatus::Scheduled.as_str().to_owned(),
        notify_attendees: new.notify_attendees,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let txn = ctx.db.begin().await?;
    match store::insert(&txn, row.clone()).await {
        Ok(()) => {}
        Err(err) if is_unique_violation(&err) && request_id.is_some() => {
            drop(txn);
            // a concurrent create with the same request_id won
            let id = request_id.as_deref().unwrap_or_default();
            let first = store::find_by_request(&ctx.db, &caller.user_id, id)
                .await?
                .ok_or_else(|| AppError::from_write(err, "event"))?;
            return Ok(Event::from_row(first));
        }
        Err(err) => return Err(AppError::from_write(err, "event")),
    }
    reminders::schedule(&txn, &row.id, &row.user_id, start, &reminder_minutes).await?;
    txn.commit().await?;
    let event = Event::from_row(row);
    if event.integration_id.is_some() {
        return push::push_now(ctx, event).await;
    }
    Ok(event)
}

/// One of the caller's events.
pub async fn get(ctx: &AppContext, caller: &Identity, event_id: &str) -> Result<Event> {
    super::ensure_enabled(&ctx.config)?;
    find(ctx, caller, event_id).await
}

async fn find(ctx: &AppContext, caller: &Identity, event_id: &str) -> Result<Event> {
    let id = event_id_of(event_id)?;
    store::find(&ctx.db, &caller.user_id, &id)
        .await?
        .map(Event::from_row)
        .ok_or(AppError::NotFound("event"))
}

/// An event id as we write them (a lowercase hyphenated UUID); another form
/// cannot name an event.
fn event_id_of(raw: &str) -> Result<String> {
    if raw.is_empty() {
        return Err(AppError::invalid("event_id", "is required"));
    }
    match Uuid::parse_str(raw) {
        Ok(id) if id.to_string() == raw => Ok(raw.to_owned()),
        _ => Err(AppError::NotFound("event")),
    }
}

/// What a listing asks for.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub event_type: Option<EventType>,
    pub include_cancelled: bool,
    pub page_size: u32,
    pub page_token: String,
}

/// One page of events.
#[derive(Clone, Debug)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next_page_token: Option<String>,
}

const PAGE_PREFIX: &str = "e1";

fn cursor_text(c: &EventCursor) -> String {
    format!("{}|{}", c.start_at.timestamp_micros(), c.id)
}

fn parse_cursor(raw: &str) -> Option<EventCursor> {
    let (micros, id) = raw.split_once('|')?;
    let start_at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
    let uuid = Uuid::parse_str(id).ok()?;
    Some(EventCursor {
        start_at,
        id: uuid.to_string(),
    })
}

/// The caller's events, soonest first.
pub async fn list(ctx: &AppContext, caller: &Identity, query: EventQuery) -> Result<EventPage> {
    super::ensure_enabled(&ctx.config)?;
    let page_size = crate::domain::page_token::page_size(query.page_size)?;
    if let (Some(from), Some(until)) = (query.from, query.until) {
        if from >= until {
            return Err(AppError::invalid("start_time", "must be before end_time"));
        }
    }
    let cursor = if query.page_token.is_empty() {
        None
    } else {
        Some(page_token::decode(
            PAGE_PREFIX,
            &query.page_token,
            parse_cursor,
            cursor_text,
        )?)
    };
    let filter = EventFilter {
        from: query.from,
        until: query.until,
        event_type: query.event_type.map(EventType::as_str),
        include_cancelled: query.include_cancelled,
    };
    let mut rows = store::list(
        &ctx.db,
        &caller.user_id,
        &filter,
        cursor.as_ref(),
        u64::from(page_size) + 1,
    )
    .await?;
    let next_page_token = if rows.len() > page_size as usize {
        rows.truncate(page_size as usize);
        rows.last().map(|r| {
            page_token::encode(
                PAGE_PREFIX,
                &cursor_text(&EventCursor {
                    start_at: r.start_at,
                    id: r.id.clone(),
                }),
            )
        })
    } else {
        None
    };
    Ok(EventPage {
        events: rows.into_iter().map(Event::from_row).collect(),
        next_page_token,
    })
}

/// The new values of the fields an update names.
#[derive(Clone, Debug, Default)]
pub struct EventPatch {
    pub event_type: Option<Option<EventType>>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub start: Option<Option<DateTime<Utc>>>,
    pub end: Option<Option<DateTime<Utc>>>,
    pub time_zone: Option<String>,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
    pub attendees: Option<Vec<Attendee>>,
    pub reminder_minutes: Option<Vec<i32>>,
    pub notify_attendees: bool,
}

impl EventPatch {
    fn is_empty(&self) -> bool {
        self.event_type.is_none()
            && self.title.is_none()
            && self.description.is_none()
            && self.start.is_none()
            && self.end.is_none()
            && self.time_zone.is_none()
            && self.location.is_none()
            && self.meeting_url.is_none()
            && self.attendees.is_none()
            && self.reminder_minutes.is_none()
    }
}

/// Changes the named fields of the caller's event; the reminders move with
/// its start, then the provider's copy is updated.
pub async fn update(
    ctx: &AppContext,
    caller: &Identity,
    event_id: &str,
    patch: EventPatch,
) -> Result<Event> {
    super::ensure_enabled(&ctx.config)?;
    let id = event_id_of(event_id)?;
    if patch.is_empty() {
        return Err(AppError::invalid("update_mask", "names no field to change"));
    }
    let txn = ctx.db.begin().await?;
    let row = store::lock(&txn, &caller.user_id, &id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let old = Event::from_row(row);
    if old.status == EventStatus::Cancelled {
        return Err(AppError::FailedPrecondition(
            "the event is cancelled".to_owned(),
        ));
    }
    let mut change = EventChange::default();
    if let Some(kind) = patch.event_type {
        let kind = kind.ok_or_else(|| AppError::invalid("event_type", "is required"))?;
        change.event_type = Set(kind.as_str().to_owned());
    }
    if let Some(title) = &patch.title {
        change.title = Set(event::title(title)?);
    }
    if let Some(description) = &patch.description {
        change.description = Set(event::text(
            description,
            "description",
            DESCRIPTION_MAX,
            true,
        )?);
    }
    let start = patch.start.unwrap_or(Some(old.start));
    let end = patch.end.unwrap_or(Some(old.end));
    let (start, end) = event::span(start, end)?;
    change.start_at = Set(start);
    change.end_at = Set(end);
    if let Some(zone) = &patch.time_zone {
        change.time_zone = Set(event::time_zone(zone, "time_zone")?.name().to_owned());
    }
    if let Some(location) = &patch.location {
        change.location = Set(event::text(location, "location", LOCATION_MAX, false)?);
    }
    if let Some(url) = &patch.meeting_url {
        change.meeting_url = Set(if url.is_empty() {
            String::new()
        } else {
            event::url(url, "meeting_url")?
        });
    }
    if let Some(attendees) = patch.attendees {
        change.attendees = Set(serde_json::json!(event::attendees(attendees)?));
    }
    let minutes = match &patch.reminder_minutes {
        Some(raw) => event::reminder_minutes(raw, "reminder_minutes")?,
        None => old.reminder_minutes.clone(),
    };
    change.reminder_minutes = Set(serde_json::json!(minutes));
    change.notify_attendees = Set(patch.notify_attendees);
    if old.integration_id.is_some() {
        change.sync_state = Set(SyncState::Pending.as_str().to_owned());
    }
    store::update(&txn, &caller.user_id, &id, change).await?;
    if start != old.start || minutes != old.reminder_minutes {
        reminders::unschedule(&txn, &id, &old.reminder_minutes).await?;
        reminders::schedule(&txn, &id, &caller.user_id, start, &minutes).await?;
    }
    txn.commit().await?;
    let event = find(ctx, caller, &id).await?;
    if event.integration_id.is_some() {
        return push::push_now(ctx, event).await;
    }
    Ok(event)
}

/// Cancels the caller's event: its pending reminders are deleted and the
/// provider's copy is deleted. Returns the event and the reminders cancelled.
pub async fn cancel(
    ctx: &AppContext,
    caller: &Identity,
    event_id: &str,
    notify_attendees: bool,
) -> Result<(Event, u64)> {
    super::ensure_enabled(&ctx.config)?;
    let id = event_id_of(event_id)?;
    let txn = ctx.db.begin().await?;
    let row = store::lock(&txn, &caller.user_id, &id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let old = Event::from_row(row);
    if old.status == EventStatus::Cancelled {
        drop(txn);
        return Ok((old, 0));
    }
    let change = EventChange {
        status: Set(EventStatus::Cancelled.as_str().to_owned()),
        notify_attendees: Set(notify_attendees),
        sync_state: Set(if old.integration_id.is_some() {
            SyncState::Pending
        } else {
            old.sync_state
        }
        .as_str()
        .to_owned()),
        ..Default::default()
    };
    store::update(&txn, &caller.user_id, &id, change).await?;
    let cancelled = reminders::unschedule(&txn, &id, &old.reminder_minutes).await?;
    txn.commit().await?;
    let event = find(ctx, caller, &id).await?;
    let event = if event.integration_id.is_some() {
        push::push_now(ctx, event).await?
    } else {
        event
    };
    Ok((event, cancelled))
}
