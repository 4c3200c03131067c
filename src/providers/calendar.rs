//! What a calendar provider (Google Calendar, Microsoft Graph) is asked and
//! answers, and the trait the calendar domain calls. No provider's field
//! names leak past this file: each client maps these to its own API.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use secrecy::SecretString;

use super::http::ProviderError;

/// The connected account and its calendars.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalendarAccount {
    /// The account's email address (Google: the primary calendar's id;
    /// Graph: `mail`, else `userPrincipalName`).
    pub email: String,
    /// Its calendars, the primary one first.
    pub calendars: Vec<CalendarInfo>,
}

/// One calendar of an account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalendarInfo {
    /// The provider's id (Google: `primary`-resolved id; Graph: the calendar's id).
    pub id: String,
    pub name: String,
    pub primary: bool,
}

/// Someone invited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventAttendee {
    pub email: String,
    pub name: Option<String>,
    pub optional: bool,
}

/// An event as we want it to be in the user's calendar.
#[derive(Clone, Debug, PartialEq)]
pub struct EventBody {
    /// Our own id of the event (a UUID): the Google event id is derived from
    /// it, it is tagged in Google's `extendedProperties.private`, and it is
    /// Graph's `transactionId` on create.
    pub our_id: String,
    pub title: String,
    pub description: String,
    pub location: Option<String>,
    /// A meeting link of ours: written into the location or the body (Graph's
    /// `onlineMeetingUrl` is read-only).
    pub meeting_url: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone the times are sent in (Google: `dateTime` with its offset plus
    /// `timeZone`; Graph: local `dateTime` plus `timeZone`).
    pub time_zone: Tz,
    pub attendees: Vec<EventAttendee>,
    /// Native reminders, ascending (Google: up to 5 popup overrides; Graph:
    /// the smallest as `reminderMinutesBeforeStart`). Empty: none.
    pub reminder_minutes: Vec<u32>,
    /// Ask the provider to email the attendees (Google `sendUpdates=all`).
    pub notify_attendees: bool,
}

/// What the provider answered for an event it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id.
    pub id: String,
    /// A link that opens it (Google `htmlLink`, Graph `webLink`).
    pub html_link: Option<String>,
}

/// A busy interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The range an availability question covers.
#[derive(Clone, Copy, Debug)]
pub struct BusyQuery<'a> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone the provider is asked in.
    pub time_zone: Tz,
    /// The account's email (Graph `getSchedule` schedules).
    pub account_email: &'a str,
    /// The calendars to ask about (Google `freeBusy` items).
    pub calendar_ids: &'a [String],
}

/// A calendar provider, called with the user's access token.
#[async_trait::async_trait]
pub trait CalendarProvider: Send + Sync {
    /// The account behind the token and its calendars.
    async fn account(&self, token: &SecretString) -> Result<CalendarAccount, ProviderError>;

    /// Creates `event` in `calendar_id`, exactly once however often it is
    /// retried: a retry after a timeout finds the first attempt's event
    /// (and revives it if it was ours and deleted) instead of making another.
    async fn create_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event: &EventBody,
    ) -> Result<ProviderEvent, ProviderError>;

    /// Replaces the provider's event `event_id` with `event`.
    async fn update_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event_id: &str,
        event: &EventBody,
    ) -> Result<ProviderEvent, ProviderError>;

    /// Deletes the provider's event; one already gone is not an error.
    async fn delete_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event_id: &str,
        notify_attendees: bool,
    ) -> Result<(), ProviderError>;

    /// The busy intervals in the query's range, sorted.
    async fn busy(
        &self,
        token: &SecretString,
        query: BusyQuery<'_>,
    ) -> Result<Vec<Busy>, ProviderError>;
}
