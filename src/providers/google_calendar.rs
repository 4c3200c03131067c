//! Google Calendar API v3 as Google documents it (discovery document
//! `calendar.v3.json`): `calendarList.list`, `events.insert` / `get` /
//! `list` / `patch` / `delete`, `freebusy.query`.
//!
//! Exactly-once create: the event id is derived from ours ([`event_id_for`])
//! and our id is tagged in `extendedProperties.private.nextke_event_id`. So
//! the insert is idempotent (the shared client may retry it after a timeout),
//! and a `409` (reason `duplicate`) means the id exists: the event is read
//! back, revived if it is ours and cancelled (deleted events keep their id),
//! or, when the id is held by an event that is not ours, our event is looked
//! up by its tag; none found is a permanent error.
//!
//! Over-quota answers (`403` with reason `rateLimitExceeded` or
//! `userRateLimitExceeded`, and `429`) are retryable through the shared
//! classification ([`super::http::classify_status`]), which already reads
//! Google's error body shape.

#[cfg(test)]
mod tests;
mod wire;

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use reqwest::StatusCode;
use secrecy::SecretString;
use url::Url;

use self::wire::{
    Attendee, CalendarList, ErrorBody, Event, EventDateTime, EventWrite, Events,
    ExtendedProperties, FreeBusyRequest, FreeBusyRequestItem, FreeBusyResponse, Reminder,
    Reminders, UserInfo, OUR_ID_PROPERTY,
};
use super::{
    calendar::{
        sorted_busy, Busy, BusyQuery, CalendarAccount, CalendarInfo, CalendarProvider, EventBody,
        ProviderEvent,
    },
    http::{
        classify_status, is_safe_code, OutboundHttp, ProviderCall, ProviderError, ProviderResponse,
    },
    rest::{bearer, endpoint},
};

/// Provider name for metrics, breaker and budget (as `vocab::Provider::Google`).
pub const PROVIDER: &str = "google";
/// Google's limit on reminder overrides per event.
const MAX_REMINDERS: usize = 5;
/// Google's upper bound of a reminder, in minutes (4 weeks).
const MAX_REMINDER_MINUTES: u32 = 40_320;
/// Calendar list pages read at most (250 entries a page).
const MAX_CALENDAR_PAGES: u32 = 10;

/// The Google Calendar client; cloning is cheap.
#[derive(Clone, Debug)]
pub struct GoogleCalendarClient {
    http: OutboundHttp,
    api_base: Url,
    userinfo_base: Url,
    /// The connection whose rate budget the calls spend (Google's quota is
    /// per user: 600 requests a minute).
    credential_key: Option<String>,
}

/// The Google event id for our id: base32hex (`0-9a-v`), 5 to 1024 long, as
/// Google requires of client-chosen ids.
///
/// - A UUID (any accepted spelling) becomes its 32 lowercase hex digits
///   without dashes: hex digits are base32hex digits, so the id reads as our
///   id in logs and in Google's UI.
/// - Anything else becomes `v` followed by the base32hex encoding (RFC 4648
///   §7, lowercase, unpadded) of its UTF-8 bytes. A UUID's hex never holds a
///   `v`, so the two forms cannot collide.
///
/// An id too short or too long for Google is an invalid request.
pub fn event_id_for(our_id: &str) -> Result<String, ProviderError> {
    if let Ok(uuid) = uuid::Uuid::parse_str(our_id) {
        return Ok(uuid.simple().to_string());
    }
    let id = format!("v{}", base32hex(our_id.as_bytes()));
    if (5..=1024).contains(&id.len()) {
        Ok(id)
    } else {
        Err(ProviderError::InvalidRequest {
            provider: PROVIDER.to_owned(),
            message: "our event id cannot become a google event id",
        })
    }
}

/// RFC 4648 §7 base32hex, lowercase, without padding.
fn base32hex(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer = 0u16;
    let mut bits = 0u8;
    for byte in bytes {
        buffer = (buffer << 8) | u16::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[usize::from((buffer >> bits) & 0x1f)]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET[usize::from((buffer << (5 - bits)) & 0x1f)],
        ));
    }
    out
}

/// The body of an insert (`id` set) or a patch (`id` unset) of `event`.
fn event_write<'a>(
    event: &'a EventBody,
    id: Option<&'a str>,
    status: Option<&'static str>,
) -> EventWrite<'a> {
    EventWrite {
        id,
        status,
        summary: &event.title,
        description: event.description_with_meeting_url(),
        location: event.location_or_meeting_url(),
        start: EventDateTime::new(event.start, event.time_zone),
        end: EventDateTime::new(event.end, event.time_zone),
        attendees: event
            .attendees
            .iter()
            .map(|a| Attendee {
                email: &a.email,
                display_name: a.name.as_deref().filter(|n| !n.is_empty()),
                optional: a.optional,
            })
            .collect(),
        reminders: Reminders {
            use_default: false,
            overrides: event
                .reminders_within(MAX_REMINDER_MINUTES, MAX_REMINDERS)
                .into_iter()
                .map(|minutes| Reminder {
                    method: "popup",
                    minutes,
                })
                .collect(),
        },
        extended_properties: ExtendedProperties {
            private: BTreeMap::from([(OUR_ID_PROPERTY, event.our_id.as_str())]),
        },
    }
}

fn send_updates(notify: bool) -> &'static str {
    if notify {
        "all"
    } else {
        "none"
    }
}

fn provider_event(event: Event) -> ProviderEvent {
    ProviderEvent {
        id: event.id,
        html_link: event.html_link.filter(|l| !l.is_empty()),
    }
}

/// A permanent error of ours about an answer Google gave with `status`.
fn permanent(status: u16, code: &str) -> ProviderError {
    ProviderError::Permanent {
        provider: PROVIDER.to_owned(),
        status,
        code: Some(code.to_owned()),
    }
}

/// The error of a free/busy calendar entry (the answer itself was a 200):
/// Google's internal and backend errors are worth retrying, the rest
/// (`notFound`, `groupTooBig`, `tooManyCalendarsRequested`) are not. The
/// reason is kept lowercased when it is a safe code.
fn free_busy_error(reason: Option<&str>) -> ProviderError {
    let code = reason
        .map(|r| format!("freebusy.{}", r.to_ascii_lowercase()))
        .filter(|c| is_safe_code(c));
    match reason {
        Some("internalError" | "backendError") => ProviderError::Retryable {
            provider: PROVIDER.to_owned(),
            status: 200,
            code,
            retry_after: None,
        },
        _ => ProviderError::Permanent {
            provider: PROVIDER.to_owned(),
            status: 200,
            code,
        },
    }
}

impl GoogleCalendarClient {
    /// A client of the Calendar API at `api_base` (`https://www.googleapis.com`)
    /// and of OpenID Connect userinfo at `userinfo_base`
    /// (`https://openidconnect.googleapis.com`).
    pub fn new(http: OutboundHttp, api_base: Url, userinfo_base: Url) -> Self {
        Self {
            http,
            api_base,
            userinfo_base,
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
        let mut all = vec!["calendar", "v3"];
        all.extend_from_slice(segments);
        endpoint(PROVIDER, &self.api_base, &all)
    }

    /// `events.get`; `Ok(None)` when Google has no event of that id.
    async fn get_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<Option<Event>, ProviderError> {
        let url = self.url(&["calendars", calendar_id, "events", event_id])?;
        let client = self.http.client();
        let result = self
            .http
            .send(self.call("get_event"), || {
                client
                    .get(url.clone())
                    .header("authorization", bearer(token))
            })
            .await;
        match result {
            Ok(response) => response.json().map(Some),
            Err(err) if matches!(err.status(), Some(404 | 410)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Our event in `calendar_id`, found by its private tag (deleted ones too).
    async fn find_ours(
        &self,
        token: &SecretString,
        calendar_id: &str,
        our_id: &str,
    ) -> Result<Option<Event>, ProviderError> {
        let url = self.url(&["calendars", calendar_id, "events"])?;
        let filter = format!("{OUR_ID_PROPERTY}={our_id}");
        let client = self.http.client();
        let response = self
            .http
            .send(self.call("find_event"), || {
                client
                    .get(url.clone())
                    .query(&[
                        ("privateExtendedProperty", filter.as_str()),
                        ("showDeleted", "true"),
                        ("maxResults", "10"),
                    ])
                    .header("authorization", bearer(token))
            })
            .await?;
        let page: Events = response.json()?;
        // a live copy wins over a deleted one
        let mut ours: Vec<Event> = page
            .items
            .into_iter()
            .filter(|e| e.our_id() == Some(our_id))
            .collect();
        ours.sort_by_key(Event::is_cancelled);
        Ok(ours.into_iter().next())
    }

    /// `events.patch` with every field we own (`status: confirmed` when reviving).
    async fn patch(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event_id: &str,
        event: &EventBody,
        revive: bool,
    ) -> Result<ProviderEvent, ProviderError> {
        let url = self.url(&["calendars", calendar_id, "events", event_id])?;
        let body = event_write(event, None, revive.then_some("confirmed"));
        let client = self.http.client();
        let operation = if revive {
            "revive_event"
        } else {
            "update_event"
        };
        // the same full patch twice leaves the same event: idempotent
        let response = self
            .http
            .send(self.call(operation), || {
                client
                    .patch(url.clone())
                    .query(&[("sendUpdates", send_updates(event.notify_attendees))])
                    .header("authorization", bearer(token))
                    .json(&body)
            })
            .await?;
        Ok(provider_event(response.json()?))
    }

    /// Our event after a `409`: the one holding our derived id if it is ours,
    /// else the one carrying our tag; revived when cancelled.
    async fn resolve_duplicate(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event_id: &str,
        event: &EventBody,
    ) -> Result<ProviderEvent, ProviderError> {
        let holder = self.get_event(token, calendar_id, event_id).await?;
        let ours = match holder {
            Some(found) if found.our_id() == Some(event.our_id.as_str()) => found,
            _ => {
                tracing::warn!(
                    provider = PROVIDER,
                    "google event id taken by an event not ours, looking ours up by tag"
                );
                self.find_ours(token, calendar_id, &event.our_id)
                    .await?
                    .ok_or_else(|| permanent(409, "event_id_taken"))?
            }
        };
        if ours.is_cancelled() {
            tracing::info!(provider = PROVIDER, "reviving our cancelled google event");
            return self.patch(token, calendar_id, &ours.id, event, true).await;
        }
        Ok(provider_event(ours))
    }

    /// The account's email from OpenID Connect userinfo (needs the `email` scope).
    async fn userinfo_email(&self, token: &SecretString) -> Result<String, ProviderError> {
        let url = endpoint(PROVIDER, &self.userinfo_base, &["v1", "userinfo"])?;
        let client = self.http.client();
        let response = self
            .http
            .send(self.call("userinfo"), || {
                client
                    .get(url.clone())
                    .header("authorization", bearer(token))
            })
            .await?;
        let info: UserInfo = response.json()?;
        info.email
            .filter(|e| !e.is_empty())
            .ok_or_else(|| permanent(200, "no_email"))
    }
}

/// The error a passed-through client error answer stands for.
fn error_of(response: &ProviderResponse) -> ProviderError {
    classify_status(PROVIDER, response.status, &response.body, None)
}

#[async_trait::async_trait]
impl CalendarProvider for GoogleCalendarClient {
    /// The calendar list (`calendarList.list`, paged); the email is the
    /// primary calendar's id, which Google sets to the account's address.
    /// Without a primary entry in the list (or when the list is refused,
    /// 403: the token lacks the `calendar.readonly` scope), the email comes
    /// from userinfo and the calendars are `primary` alone.
    async fn account(&self, token: &SecretString) -> Result<CalendarAccount, ProviderError> {
        let url = self.url(&["users", "me", "calendarList"])?;
        let client = self.http.client();
        let mut calendars = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_CALENDAR_PAGES {
            let result = self
                .http
                .send(self.call("calendar_list"), || {
                    let mut request = client
                        .get(url.clone())
                        .query(&[("maxResults", "250")])
                        .header("authorization", bearer(token));
                    if let Some(page) = &page_token {
                        request = request.query(&[("pageToken", page)]);
                    }
                    request
                })
                .await;
            let page: CalendarList = match result {
                Ok(response) => response.json()?,
                Err(ProviderError::Permanent { status: 403, .. }) if calendars.is_empty() => {
                    break;
                }
                Err(err) => return Err(err),
            };
            calendars.extend(page.items.into_iter().map(|entry| {
                CalendarInfo {
                    name: entry
                        .summary_override
                        .filter(|s| !s.is_empty())
                        .or(entry.summary)
                        .unwrap_or_else(|| entry.id.clone()),
                    id: entry.id,
                    primary: entry.primary,
                }
            }));
            page_token = page.next_page_token.filter(|t| !t.is_empty());
            if page_token.is_none() {
                break;
            }
        }
        // the primary one first, the others in Google's order
        calendars.sort_by_key(|c| !c.primary);
        if let Some(primary) = calendars.first().filter(|c| c.primary) {
            return Ok(CalendarAccount {
                email: primary.id.clone(),
                calendars,
            });
        }
        let email = self.userinfo_email(token).await?;
        if calendars.is_empty() {
            calendars.push(CalendarInfo {
                id: super::calendar::PRIMARY_CALENDAR.to_owned(),
                name: email.clone(),
                primary: true,
            });
        }
        Ok(CalendarAccount { email, calendars })
    }

    async fn create_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event: &EventBody,
    ) -> Result<ProviderEvent, ProviderError> {
        let event_id = event_id_for(&event.our_id)?;
        let url = self.url(&["calendars", calendar_id, "events"])?;
        let body = event_write(event, Some(&event_id), None);
        let client = self.http.client();
        // idempotent: the id is fixed, so a retry after a timeout cannot make
        // a second event (it answers 409 and is resolved below); client
        // errors come back as responses so the 409 can be read
        let call = self.call("create_event").passing_client_errors();
        let response = self
            .http
            .send(call, || {
                client
                    .post(url.clone())
                    .query(&[("sendUpdates", send_updates(event.notify_attendees))])
                    .header("authorization", bearer(token))
                    .json(&body)
            })
            .await?;
        if response.status == StatusCode::CONFLICT {
            if !ErrorBody::has_reason(&response.body, "duplicate") {
                tracing::debug!(provider = PROVIDER, "409 without reason duplicate");
            }
            return self
                .resolve_duplicate(token, calendar_id, &event_id, event)
                .await;
        }
        if response.status.as_u16() >= 400 {
            return Err(error_of(&response));
        }
        Ok(provider_event(response.json()?))
    }

    async fn update_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event_id: &str,
        event: &EventBody,
    ) -> Result<ProviderEvent, ProviderError> {
        self.patch(token, calendar_id, event_id, event, false).await
    }

    async fn delete_event(
        &self,
        token: &SecretString,
        calendar_id: &str,
        event_id: &str,
        notify_attendees: bool,
    ) -> Result<(), ProviderError> {
        let url = self.url(&["calendars", calendar_id, "events", event_id])?;
        let client = self.http.client();
        let result = self
            .http
            .send(self.call("delete_event"), || {
                client
                    .delete(url.clone())
                    .query(&[("sendUpdates", send_updates(notify_attendees))])
                    .header("authorization", bearer(token))
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            // gone already (410: deleted before)
            Err(err) if matches!(err.status(), Some(404 | 410)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// `freebusy.query` over the query's calendars (`primary` when none).
    async fn busy(
        &self,
        token: &SecretString,
        query: BusyQuery<'_>,
    ) -> Result<Vec<Busy>, ProviderError> {
        let url = self.url(&["freeBusy"])?;
        let primary = [super::calendar::PRIMARY_CALENDAR.to_owned()];
        let ids = if query.calendar_ids.is_empty() {
            &primary[..]
        } else {
            query.calendar_ids
        };
        let body = free_busy_request(&query, ids);
        let client = self.http.client();
        // a read, though a POST
        let response = self
            .http
            .send(self.call("free_busy"), || {
                client
                    .post(url.clone())
                    .header("authorization", bearer(token))
                    .json(&body)
            })
            .await?;
        busy_of(response.json()?)
    }
}

fn free_busy_request<'a>(query: &BusyQuery<'a>, ids: &'a [String]) -> FreeBusyRequest<'a> {
    FreeBusyRequest {
        time_min: query.start.to_rfc3339_opts(SecondsFormat::Secs, true),
        time_max: query.end.to_rfc3339_opts(SecondsFormat::Secs, true),
        time_zone: query.time_zone.name(),
        items: ids
            .iter()
            .map(|id| FreeBusyRequestItem { id: id.as_str() })
            .collect(),
    }
}

/// The busy intervals of a free/busy answer; a calendar entry with errors
/// fails the whole answer.
fn busy_of(response: FreeBusyResponse) -> Result<Vec<Busy>, ProviderError> {
    let mut busy = Vec::new();
    for calendar in response.calendars.into_values() {
        if let Some(error) = calendar.errors.first() {
            return Err(free_busy_error(error.reason.as_deref()));
        }
        busy.extend(calendar.busy.into_iter().map(|period| Busy {
            start: period.start.to_utc(),
            end: period.end.to_utc(),
        }));
    }
    Ok(sorted_busy(busy))
}
