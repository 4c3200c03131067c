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
    /// Its name as the user sees it.
    pub name: String,
    /// Whether it is the account's default calendar (Google's primary,
    /// Graph's `isDefaultCalendar`).
    pub primary: bool,
}

/// Someone invited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventAttendee {
    /// Where the invitation goes.
    pub email: String,
    /// A display name, when known.
    pub name: Option<String>,
    /// Invited as optional rather than required.
    pub optional: bool,
}

/// An event as we want it to be in the user's calendar.
#[derive(Clone, Debug, PartialEq)]
pub struct EventBody {
    /// Our own id of the event (a UUID): the Google event id is derived from
    /// it, it is tagged in Google's `extendedProperties.private`, and it is
    /// Graph's `transactionId` on create.
    pub our_id: String,
    /// The event's title.
    pub title: String,
    /// Plain text shown with the event (the meeting link is appended).
    pub description: String,
    /// Where it takes place, as free text.
    pub location: Option<String>,
    /// A meeting link of ours: written into the location or the body (Graph's
    /// `onlineMeetingUrl` is read-only).
    pub meeting_url: Option<String>,
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends (exclusive).
    pub end: DateTime<Utc>,
    /// The zone the times are sent in (Google: `dateTime` with its offset plus
    /// `timeZone`; Graph: local `dateTime` plus `timeZone`).
    pub time_zone: Tz,
    pub attendees: Vec<EventAttendee>,
    /// Native reminders, ascending (Google: up to 5 popup overrides; Graph:
    /// the smallest as `reminderMinutesBeforeStart`). Empty: none.
    pub reminder_minutes: Vec<u32>,
    /// Ask the provider to email the attendees (Google `sendUpdates=all`;
    /// Graph has no such switch and invites attendees itself).
    pub notify_attendees: bool,
}

impl EventBody {
    /// The location to write: ours, else the meeting link, else none.
    pub fn location_or_meeting_url(&self) -> Option<&str> {
        self.location
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .or(self.meeting_url.as_deref())
            .filter(|l| !l.trim().is_empty())
    }

    /// The meeting link, when there is one.
    pub fn meeting_link(&self) -> Option<&str> {
        self.meeting_url.as_deref().filter(|u| !u.trim().is_empty())
    }

    /// The description with the meeting link appended on a line of its own.
    pub fn description_with_meeting_url(&self) -> String {
        match self.meeting_link() {
            Some(url) if self.description.is_empty() => url.to_owned(),
            Some(url) => format!("{}\n\n{url}", self.description),
            None => self.description.clone(),
        }
    }

    /// The reminders a provider can take: ascending, without duplicates, at
    /// most `max_minutes` before the start, the first `max_count` of them.
    pub fn reminders_within(&self, max_minutes: u32, max_count: usize) -> Vec<u32> {
        let mut minutes: Vec<u32> = self
            .reminder_minutes
            .iter()
            .copied()
            .filter(|m| *m <= max_minutes)
            .collect();
        minutes.sort_unstable();
        minutes.dedup();
        minutes.truncate(max_count);
        minutes
    }
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
    /// Start of the interval.
    pub start: DateTime<Utc>,
    /// End of the interval (exclusive).
    pub end: DateTime<Utc>,
}

/// Sorts busy intervals and drops exact duplicates (several calendars may
/// report the same event).
pub(crate) fn sorted_busy(mut busy: Vec<Busy>) -> Vec<Busy> {
    busy.retain(|b| b.end > b.start);
    busy.sort();
    busy.dedup();
    busy
}

/// The range an availability question covers.
#[derive(Clone, Copy, Debug)]
pub struct BusyQuery<'a> {
    /// Start of the range.
    pub start: DateTime<Utc>,
    /// End of the range (exclusive).
    pub end: DateTime<Utc>,
    /// The zone the provider is asked in.
    pub time_zone: Tz,
    /// The account's email (Graph `getSchedule` schedules).
    pub account_email: &'a str,
    /// The calendars to ask about (Google `freeBusy` items).
    pub calendar_ids: &'a [String],
}

/// The calendar id that names the account's default calendar with every
/// provider (Google's own keyword; Graph: `/me/events`).
pub const PRIMARY_CALENDAR: &str = "primary";

/// A calendar provider, called with the user's access token.
#[async_trait::async_trait]
pub trait CalendarProvider: Send + Sync {
    /// The account behind the token and its calendars.
    async fn account(&self, token: &SecretString) -> Result<CalendarAccount, ProviderError>;

    /// Creates `event` in `calendar_id` ([`PRIMARY_CALENDAR`] for the
    /// default one), exactly once however often it is
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
