//! Microsoft Graph v1.0 calendars as Microsoft documents them: `GET /me`,
//! `GET /me/calendars`, `POST /me/events` (or `/me/calendars/{id}/events`),
//! `PATCH` / `DELETE /me/events/{id}`, `POST /me/calendar/getSchedule`.
//!
//! Exactly-once create: `transactionId` is our id, and Graph answers a
//! repeated create of the same `transactionId` with the first one's event, so
//! the POST is sent as idempotent and the shared client may retry it.
//! Graph keeps one reminder per event (`reminderMinutesBeforeStart`: our
//! smallest); the others are ours to send. Graph has no switch for attendee
//! notifications: it invites on create and updates on change, and sends
//! cancellations when the organizer deletes a meeting.
//! Throttling is `429` with `Retry-After`, which the shared client honors.

#[cfg(test)]
mod tests;
mod wire;

use secrecy::SecretString;
use url::Url;

use self::wire::{
    Attendee, Calendar, DateTimeTimeZone, EmailAddress, Event, EventWrite, ItemBody, Location,
    Page, ScheduleInformation, ScheduleRequest, Skip, User,
};
use super::{
    calendar::{
        sorted_busy, Busy, BusyQuery, CalendarAccount, CalendarInfo, CalendarProvider, EventBody,
        ProviderEvent, PRIMARY_CALENDAR,
    },
    http::{is_safe_code, OutboundHttp, ProviderCall, ProviderError},
    rest::{bearer, endpoint, same_origin},
};

/// Provider name for metrics, breaker and budget (as `vocab::Provider::Microsoft`).
pub const PROVIDER: &str = "microsoft";
/// Calendar pages followed at most.
const MAX_CALENDAR_PAGES: u32 = 10;
/// Slot length asked of `getSchedule`'s `availabilityView` (we read the items).
const AVAILABILITY_VIEW_MINUTES: u32 = 15;
/// Asks Graph to answer times in UTC.
const PREFER_UTC: &str = "outlook.timezone=\"UTC\"";

/// The Microsoft Graph calendar client; cloning is cheap.
#[derive(Clone, Debug)]
pub struct MicrosoftGraphClient {
    http: OutboundHttp,
    api_base: Url,
    /// The connection whose rate budget the calls spend (Outlook's limits
    /// are per mailbox).
    credential_key: Option<String>,
}

/// Text put into an HTML body: `& < > " '` escaped, line breaks as `<br>`.
fn escape_html(text: &str) -> String {
    html_escape::encode_quoted_attribute(text)
        .replace('\r', "")
        .replace('\n', "<br>")
}

/// The event's body: HTML with the description and a link when there is a
/// meeting link (`onlineMeetingUrl` is read-only, so ours goes here), else
/// the plain description.
fn item_body(event: &EventBody) -> ItemBody {
    match event.meeting_link() {
        Some(url) => {
            let url = escape_html(url);
            let mut content = String::new();
            if !event.description.is_empty() {
                content.push_str(&format!("<p>{}</p>", escape_html(&event.description)));
            }
            content.push_str(&format!("<p><a href=\"{url}\">{url}</a></p>"));
            ItemBody {
                content_type: "html",
                content,
            }
        }
        None => ItemBody {
            content_type: "text",
            content: event.description.clone(),
        },
    }
}

/// The body of a create (`create`: with `transactionId`) or an update.
fn event_write(event: &EventBody, create: bool) -> EventWrite<'_> {
    let location = event
        .location_or_meeting_url()
        .map(|display_name| Location { display_name });
    let reminder = event.reminders_within(u32::MAX, 1).first().copied();
    EventWrite {
        transaction_id: create.then_some(event.our_id.as_str()),
        subject: &event.title,
        body: item_body(event),
        start: DateTimeTimeZone::local(event.start, event.time_zone),
        end: DateTimeTimeZone::local(event.end, event.time_zone),
        location: match (location, create) {
            (None, true) => Skip::Omit,
            (location, _) => Skip::Write(location),
        },
        attendees: event
            .attendees
            .iter()
            .map(|a| Attendee {
                email_address: EmailAddress {
                    address: &a.email,
                    name: a.name.as_deref().filter(|n| !n.is_empty()),
                },
                kind: if a.optional { "optional" } else { "required" },
            })
            .collect(),
        is_reminder_on: reminder.is_some(),
        reminder_minutes_before_start: reminder,
    }
}

fn provider_event(event: Event) -> ProviderEvent {
    ProviderEvent {
        id: event.id,
        html_link: event.web_link.filter(|l| !l.is_empty()),
    }
}

/// A permanent error about an answer that was a 200 but says no.
fn refused(code: Option<String>) -> ProviderError {
    ProviderError::Permanent {
        provider: PROVIDER.to_owned(),
        status: 200,
        code: code.filter(|c| is_safe_code(c)),
    }
}

fn decode(message: &str) -> ProviderError {
    ProviderError::Decode {
        message: message.to_owned(),
    }
}

impl MicrosoftGraphClient {
    /// A client of Graph at `api_base` (`https://graph.microsoft.com`).
    pub fn new(http: OutboundHttp, api_base: Url) -> Self {
        Self {
            http,
            api_base,
            credential_key: None,
        }
    }

    /// The same client, its calls spending the budget of `key` (a connection id).
    pub fn with_credential_key(mut self, key: impl Into<String>) -> Self {
        self.credential_key = Some(key.into());
        self
    }

    fn call<'a>(&'a self, operation: &'a str) -> ProviderCall<'a> {
        ProviderCall::idempotent(PROVIDER, operation)
            .with_optional_credential(self.credential_key.as_deref())
    }

    fn url(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        let mut all = vec!["v1.0"];
        all.extend_from_slice(segments);
        endpoint(PROVIDER, &self.api_base, &all)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        token: &SecretString,
        operation: &str,
        url: &Url,
    ) -> Result<T, ProviderError> {
        let client = self.http.client();
        let response = self
            .http
            .send(self.call(operation), || {
                client
                    .get(url.clone())
                    .header("authorization", bearer(token))
            })
            .await?;
        response.json()
    }

    /// Every calendar of the account, following `@odata.nextLink` on Graph's
    /// own origin only.
    async fn calendars(&self, token: &SecretString) -> Result<Vec<CalendarInfo>, ProviderError> {
        let mut url = self.url(&["me", "calendars"])?;
        let mut calendars = Vec::new();
        for _ in 0..MAX_CALENDAR_PAGES {
            let page: Page<Calendar> = self.get(token, "calendars", &url).await?;
            calendars.extend(page.value.into_iter().map(|c| {
                CalendarInfo {
                    name: c
                        .name
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| c.id.clone()),
                    primary: c.is_default_calendar.unwrap_or(false),
                    id: c.id,
                }
            }));
            match page.next_link.as_deref().map(Url::parse) {
                Some(Ok(next)) if same_origin(&self.api_base, &next) => url = next,
                Some(_) => {
                    tracing::warn!(
                        provider = PROVIDER,
                        "ignoring a next link off graph's origin"
                    );
                    break;
                }
                None => break,
            }
        }
        calendars.sort_by_key(|c| !c.primary);
        Ok(calendars)
    }
}

#[async_trait::async_trait]
impl CalendarProvider for MicrosoftGraphClient {
    /// `GET /me` (`mail`, else `userPrincipalName`) and `GET /me/calendars`
    /// (`isDefaultCalendar` marks the primary one).
    async fn account(&self, token: &SecretString) -> Result<CalendarAccount, ProviderError> {
        let me: User = self.get(token, "me", &self.url(&["me"])?).await?;
        let email = me
            .mail
            .filter(|m| !m.is_empty())
            .or(me.user_principal_name.filter(|u| !u.is_empty()))
            .ok_or_else(|| refused(Some("no_email".to_owned())))?;
        let calendars = self.calendars(token).await?;
        Ok(CalendarAccount { email, calendars })
    }

    /// `POST /me/events` for [`PRIMARY_CALENDAR`] (or an empty id), else
    /// `POST /me/calendars/{id}/events`; `201` with the event.
    async fn create_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event: &EventBody,
    ) -> Result<ProviderEvent, ProviderError> {
        let url = if calendar_id.is_empty() || calendar_id == PRIMARY_CALENDAR {
            self.url(&["me", "events"])?
        } else {
            self.url(&["me", "calendars", calendar_id, "events"])?
        };
        let body = event_write(event, true);
        let client = self.http.client();
        // idempotent: Graph dedupes creates by transactionId
        let response = self
            .http
            .send(self.call("create_event"), || {
                client
                    .post(url.clone())
                    .header("authorization", bearer(token))
                    .json(&body)
            })
            .await?;
        Ok(provider_event(response.json()?))
    }

    /// `PATCH /me/events/{id}` with every field we own (event ids are unique
    /// per mailbox, so the calendar is not part of the path).
    async fn update_event(
        &self,
        token: &SecretString,
        _calendar_id: &str,
        event_id: &str,
        event: &EventBody,
    ) -> Result<ProviderEvent, ProviderError> {
        let url = self.url(&["me", "events", event_id])?;
        let body = event_write(event, false);
        let client = self.http.client();
        let response = self
            .http
            .send(self.call("update_event"), || {
                client
                    .patch(url.clone())
                    .header("authorization", bearer(token))
                    .json(&body)
            })
            .await?;
        Ok(provider_event(response.json()?))
    }

    /// `DELETE /me/events/{id}` (`204`); already gone (`404`) is fine.
    /// `notify_attendees` has no Graph counterpart (see the module docs).
    async fn delete_event(
        &self,
        token: &SecretString,
        _calendar_id: &str,
        event_id: &str,
        _notify_attendees: bool,
    ) -> Result<(), ProviderError> {
        let url = self.url(&["me", "events", event_id])?;
        let client = self.http.client();
        let result = self
            .http
            .send(self.call("delete_event"), || {
                client
                    .delete(url.clone())
                    .header("authorization", bearer(token))
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if matches!(err.status(), Some(404 | 410)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// `POST /me/calendar/getSchedule` for the account's email; every
    /// schedule item whose status is not `free` is busy. Not available for
    /// personal Microsoft accounts (Graph refuses the call).
    async fn busy(
        &self,
        token: &SecretString,
        query: BusyQuery<'_>,
    ) -> Result<Vec<Busy>, ProviderError> {
        let url = self.url(&["me", "calendar", "getSchedule"])?;
        let body = schedule_request(&query);
        let client = self.http.client();
        // a read, though a POST
        let response = self
            .http
            .send(self.call("get_schedule"), || {
                client
                    .post(url.clone())
                    .header("authorization", bearer(token))
                    .header("prefer", PREFER_UTC)
                    .json(&body)
            })
            .await?;
        busy_of(response.json()?)
    }
}

fn schedule_request<'a>(query: &BusyQuery<'a>) -> ScheduleRequest<'a> {
    ScheduleRequest {
        schedules: vec![query.account_email],
        start_time: DateTimeTimeZone::local(query.start, query.time_zone),
        end_time: DateTimeTimeZone::local(query.end, query.time_zone),
        availability_view_interval: AVAILABILITY_VIEW_MINUTES,
    }
}

fn busy_of(page: Page<ScheduleInformation>) -> Result<Vec<Busy>, ProviderError> {
    let mut busy = Vec::new();
    for schedule in page.value {
        if let Some(error) = schedule.error {
            return Err(refused(
                error
                    .response_code
                    .map(|c| format!("schedule.{}", c.to_ascii_lowercase())),
            ));
        }
        for item in schedule.schedule_items.unwrap_or_default() {
            let free = item
                .status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("free"));
            if free {
                continue;
            }
            let start = item
                .start
                .instant()
                .ok_or_else(|| decode("unreadable schedule item start"))?;
            let end = item
                .end
                .instant()
                .ok_or_else(|| decode("unreadable schedule item end"))?;
            busy.push(Busy { start, end });
        }
    }
    Ok(sorted_busy(busy))
}
