//! Microsoft Graph v1.0 shapes, with field names as in Microsoft's TypeScript
//! definitions (`@microsoft/microsoft-graph-types`, `microsoft-graph.d.ts`:
//! `Event`, `ItemBody`, `DateTimeTimeZone`, `Location`, `Attendee`,
//! `AttendeeBase`, `Recipient`, `EmailAddress`, `User`, `Calendar`,
//! `ScheduleInformation`, `ScheduleItem`, `FreeBusyError`). The `getSchedule`
//! request body (`schedules`, `startTime`, `endTime`,
//! `availabilityViewInterval`) is an action's parameters, which the typings do
//! not carry: its names are from the "calendar: getSchedule" reference page.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// `DateTimeTimeZone`: a wall-clock time (no offset) and the zone it is in.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeTimeZone {
    /// `{date}T{time}` without offset, e.g. `2027-03-29T09:00:00`.
    pub date_time: String,
    /// Graph accepts Windows zone names and a fixed list of IANA names; we
    /// send IANA names (`Europe/Berlin`). A zone outside Graph's list is
    /// refused by Graph with a 400 (which names are on it: not verified here).
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl DateTimeTimeZone {
    /// `at` as the wall-clock time of `zone`.
    pub fn local(at: DateTime<Utc>, zone: Tz) -> Self {
        Self {
            date_time: at
                .with_timezone(&zone)
                .naive_local()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string(),
            time_zone: Some(zone.name().to_owned()),
        }
    }

    /// The instant this names: `UTC` (what we ask for with
    /// `Prefer: outlook.timezone="UTC"`, and Graph's default) or an IANA
    /// zone; `None` for a zone we cannot read (a Windows name) or a bad time.
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        let naive = NaiveDateTime::parse_from_str(&self.date_time, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(&self.date_time, "%Y-%m-%dT%H:%M"))
            .ok()?;
        match self.time_zone.as_deref().map(str::trim) {
            None | Some("") | Some("UTC") | Some("utc") | Some("Etc/UTC") => Some(naive.and_utc()),
            Some(name) => {
                let zone: Tz = name.parse().ok()?;
                // a time in a spring-forward gap does not exist: take the later side
                zone.from_local_datetime(&naive)
                    .earliest()
                    .or_else(|| {
                        zone.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                            .earliest()
                    })
                    .map(|t| t.to_utc())
            }
        }
    }
}

/// `ItemBody`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    /// `text` or `html` (`BodyType`).
    pub content_type: &'static str,
    pub content: String,
}

/// `Location` as we write it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location<'a> {
    pub display_name: &'a str,
}

/// `EmailAddress`.
#[derive(Debug, Serialize)]
pub struct EmailAddress<'a> {
    pub address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
}

/// `Attendee` as we write it (`Recipient.emailAddress` + `AttendeeBase.type`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee<'a> {
    pub email_address: EmailAddress<'a>,
    /// `required` or `optional` (`AttendeeType`).
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The event fields we own, written on create and on every update.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventWrite<'a> {
    /// Only on create: Graph's dedupe key of client retries (cannot change later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<&'a str>,
    pub subject: &'a str,
    pub body: ItemBody,
    pub start: DateTimeTimeZone,
    pub end: DateTimeTimeZone,
    /// On update `None` is written as `null` to clear it (`Event.location` is
    /// nullable in the typings; that `null` clears it: not verified); on
    /// create it is left out.
    #[serde(skip_serializing_if = "Skip::skip")]
    pub location: Skip<Location<'a>>,
    pub attendees: Vec<Attendee<'a>>,
    pub is_reminder_on: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder_minutes_before_start: Option<u32>,
}

/// A field that is either written (a value or `null`) or left out.
#[derive(Debug)]
pub enum Skip<T> {
    /// Left out of the body.
    Omit,
    /// Written: `Some` as the value, `None` as `null`.
    Write(Option<T>),
}

impl<T> Skip<T> {
    fn skip(&self) -> bool {
        matches!(self, Self::Omit)
    }
}

impl<T: Serialize> Serialize for Skip<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Omit | Self::Write(None) => serializer.serialize_none(),
            Self::Write(Some(value)) => value.serialize(serializer),
        }
    }
}

/// `Event` as we read it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    #[serde(default)]
    pub web_link: Option<String>,
}

/// `User` as we read it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
}

/// `Calendar` as we read it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Calendar {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_default_calendar: Option<bool>,
}

/// An OData collection page: `value` and `@odata.nextLink`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(default, rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

/// The `getSchedule` request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRequest<'a> {
    pub schedules: Vec<&'a str>,
    pub start_time: DateTimeTimeZone,
    pub end_time: DateTimeTimeZone,
    /// Minutes per slot of `availabilityView` (Int32; we read `scheduleItems`).
    pub availability_view_interval: u32,
}

/// `ScheduleInformation`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleInformation {
    #[serde(default)]
    pub schedule_items: Option<Vec<ScheduleItem>>,
    #[serde(default)]
    pub error: Option<FreeBusyError>,
}

/// `ScheduleItem`.
#[derive(Debug, Deserialize)]
pub struct ScheduleItem {
    /// `FreeBusyStatus`: `free`, `tentative`, `busy`, `oof`,
    /// `workingElsewhere`, `unknown` (examples show them capitalized too).
    #[serde(default)]
    pub status: Option<String>,
    pub start: DateTimeTimeZone,
    pub end: DateTimeTimeZone,
}

/// `FreeBusyError`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyError {
    #[serde(default)]
    pub response_code: Option<String>,
}
