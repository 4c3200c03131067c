//! Google Calendar API v3 request and response shapes, with field names as in
//! Google's discovery document `calendar.v3.json` (schemas `Event`,
//! `EventDateTime`, `EventAttendee`, `EventReminder`, `CalendarList`,
//! `CalendarListEntry`, `FreeBusyRequest`, `FreeBusyResponse`,
//! `FreeBusyCalendar`, `TimePeriod`, `Error`).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The private extended property that tags an event as ours.
pub const OUR_ID_PROPERTY: &str = "nextke_event_id";

/// `EventDateTime`: an instant with its offset, plus the zone it is shown in.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EventDateTime {
    /// RFC 3339 with the offset the zone has at that instant.
    pub date_time: String,
    /// IANA name.
    pub time_zone: String,
}

impl EventDateTime {
    pub fn new(at: DateTime<Utc>, zone: Tz) -> Self {
        Self {
            date_time: at
                .with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            time_zone: zone.name().to_owned(),
        }
    }
}

/// `EventAttendee` as we write it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee<'a> {
    pub email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<&'a str>,
    pub optional: bool,
}

/// `EventReminder`.
#[derive(Debug, Serialize)]
pub struct Reminder {
    pub method: &'static str,
    pub minutes: u32,
}

/// `Event.reminders`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminders {
    pub use_default: bool,
    pub overrides: Vec<Reminder>,
}

/// `Event.extendedProperties` as we write it (private only).
#[derive(Debug, Serialize)]
pub struct ExtendedProperties<'a> {
    pub private: BTreeMap<&'static str, &'a str>,
}

/// The event fields we own, written on insert (with `id`) and on every
/// patch, so a patch sets each of them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventWrite<'a> {
    /// Only on insert: the id derived from ours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// Only when reviving a cancelled event: `confirmed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    pub summary: &'a str,
    pub description: String,
    /// `None` is written as `null`, which clears a location on patch.
    pub location: Option<&'a str>,
    pub start: EventDateTime,
    pub end: EventDateTime,
    pub attendees: Vec<Attendee<'a>>,
    pub reminders: Reminders,
    pub extended_properties: ExtendedProperties<'a>,
}

/// `Event` as we read it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub html_link: Option<String>,
    #[serde(default)]
    pub extended_properties: Option<ExtendedPropertiesRead>,
}

impl Event {
    /// Our id, when the event carries our private tag.
    pub fn our_id(&self) -> Option<&str> {
        self.extended_properties
            .as_ref()?
            .private
            .as_ref()?
            .get(OUR_ID_PROPERTY)
            .map(String::as_str)
    }

    /// Whether Google reports it deleted.
    pub fn is_cancelled(&self) -> bool {
        self.status.as_deref() == Some("cancelled")
    }
}

/// `Event.extendedProperties` as we read it.
#[derive(Debug, Default, Deserialize)]
pub struct ExtendedPropertiesRead {
    #[serde(default)]
    pub private: Option<BTreeMap<String, String>>,
}

/// `Events` (one page of `events.list`).
#[derive(Debug, Deserialize)]
pub struct Events {
    #[serde(default)]
    pub items: Vec<Event>,
}

/// `CalendarList`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarList {
    #[serde(default)]
    pub items: Vec<CalendarListEntry>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// `CalendarListEntry`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarListEntry {
    pub id: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub summary_override: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

/// The OpenID Connect userinfo answer (standard claims).
#[derive(Debug, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub email: Option<String>,
}

/// `FreeBusyRequest`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyRequest<'a> {
    pub time_min: String,
    pub time_max: String,
    pub time_zone: &'a str,
    pub items: Vec<FreeBusyRequestItem<'a>>,
}

/// `FreeBusyRequestItem`.
#[derive(Debug, Serialize)]
pub struct FreeBusyRequestItem<'a> {
    pub id: &'a str,
}

/// `FreeBusyResponse`.
#[derive(Debug, Deserialize)]
pub struct FreeBusyResponse {
    #[serde(default)]
    pub calendars: BTreeMap<String, FreeBusyCalendar>,
}

/// `FreeBusyCalendar`.
#[derive(Debug, Deserialize)]
pub struct FreeBusyCalendar {
    #[serde(default)]
    pub busy: Vec<TimePeriod>,
    #[serde(default)]
    pub errors: Vec<FreeBusyError>,
}

/// `TimePeriod`.
#[derive(Debug, Deserialize)]
pub struct TimePeriod {
    pub start: DateTime<chrono::FixedOffset>,
    pub end: DateTime<chrono::FixedOffset>,
}

/// `Error` of a free/busy calendar entry.
#[derive(Debug, Deserialize)]
pub struct FreeBusyError {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The error body of a failed call: `{"error": {"errors": [{"reason"}], "code", "message"}}`
/// (Calendar API "Handle API errors" guide).
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `error` of [`ErrorBody`].
#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub errors: Vec<FreeBusyError>,
}

impl ErrorBody {
    /// Whether any of the error's reasons is `reason`.
    pub fn has_reason(body: &[u8], reason: &str) -> bool {
        serde_json::from_slice::<ErrorBody>(body).is_ok_and(|b| {
            b.error
                .errors
                .iter()
                .any(|e| e.reason.as_deref() == Some(reason))
        })
    }
}
