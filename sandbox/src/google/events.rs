//! Calendar API v3 events and calendar list, as `calendar.v3.json` describes
//! them: `events.insert`, `events.get`, `events.patch`, `events.update`,
//! `events.delete`, `events.list`, `calendarList.list`.
//!
//! Only the documented writable fields this sandbox knows are stored
//! (`summary`, `description`, `location`, `start`, `end`, `attendees`,
//! `reminders`, `extendedProperties`, `status`, `transparency`, `visibility`,
//! `colorId`, `recurrence`); anything else in a request is ignored, so a
//! misspelt field is missing from the answer. Error wordings marked "not
//! verified" are the sandbox's own.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use rand::Rng;
use serde_json::{json, Map, Value};

use super::errors::GoogleError;
use super::{
    has_any, GoogleAccount, GoogleSandbox, StoredEvent, SCOPE_CALENDAR, SCOPE_CALENDAR_READONLY,
    SCOPE_EVENTS, SCOPE_EVENTS_READONLY,
};
use crate::after_store::AfterStoreFault;

/// Scopes that allow event writes.
const WRITE_SCOPES: &[&str] = &[
    SCOPE_CALENDAR,
    SCOPE_EVENTS,
    "https://www.googleapis.com/auth/calendar.events.owned",
];
/// Scopes that allow event reads.
const READ_SCOPES: &[&str] = &[
    SCOPE_CALENDAR,
    SCOPE_CALENDAR_READONLY,
    SCOPE_EVENTS,
    SCOPE_EVENTS_READONLY,
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.owned.readonly",
];
/// Scopes that allow `calendarList.list`.
const LIST_SCOPES: &[&str] = &[
    SCOPE_CALENDAR,
    SCOPE_CALENDAR_READONLY,
    "https://www.googleapis.com/auth/calendar.calendarlist",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
];

/// At most this many reminder overrides (documented).
pub const MAX_REMINDER_OVERRIDES: usize = 5;
/// Largest reminder in minutes: four weeks (documented).
pub const MAX_REMINDER_MINUTES: i64 = 40_320;
/// Default `maxResults` of `events.list` (documented).
const DEFAULT_MAX_RESULTS: usize = 250;
/// Largest `maxResults` of `events.list` (documented).
const MAX_MAX_RESULTS: usize = 2500;

/// Whether `id` is a valid client-chosen event id: base32hex (`a`-`v`,
/// `0`-`9`), 5 to 1024 characters (documented).
pub fn is_valid_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
}

/// RFC 3339 in UTC with milliseconds, as Google writes `created`/`updated`.
pub(crate) fn rfc3339_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parse an RFC 3339 timestamp with an offset (query parameters, free/busy).
pub(crate) fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn parse_tz(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// The instant an `EventDateTime` (`{date}` or `{dateTime, timeZone}`)
/// stands for; `date` is midnight in `default_tz`.
pub(crate) fn event_time_instant(v: &Value, default_tz: &str) -> Option<DateTime<Utc>> {
    if let Some(date) = v.get("date").and_then(Value::as_str) {
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        let tz = v
            .get("timeZone")
            .and_then(Value::as_str)
            .and_then(parse_tz)
            .or_else(|| parse_tz(default_tz))
            .unwrap_or(Tz::UTC);
        let midnight = day.and_hms_opt(0, 0, 0)?;
        return tz
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc));
    }
    let text = v.get("dateTime").and_then(Value::as_str)?;
    if let Some(t) = parse_rfc3339(text) {
        return Some(t);
    }
    let tz = parse_tz(v.get("timeZone").and_then(Value::as_str)?)?;
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// `[start, end)` of a stored event.
pub(crate) fn event_interval(
    resource: &Value,
    default_tz: &str,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((
        event_time_instant(&resource["start"], default_tz)?,
        event_time_instant(&resource["end"], default_tz)?,
    ))
}

/// Validate one `EventDateTime`; answers the value to store.
fn validate_time(v: &Value, which: &str, default_tz: &str) -> Result<Value, GoogleError> {
    let Some(obj) = v.as_object() else {
        return Err(GoogleError::required(&format!("{which} time")));
    };
    let date = obj.get("date").filter(|d| !d.is_null());
    let date_time = obj.get("dateTime").filter(|d| !d.is_null());
    let tz = obj.get("timeZone").filter(|d| !d.is_null());
    let mut out = Map::new();
    if let Some(tz) = tz {
        let name = tz.as_str().unwrap_or_default();
        if parse_tz(name).is_none() {
            // Wording as seen in client reports (not in the reference).
            return Err(GoogleError::invalid(format!(
                "Invalid time zone definition for {which} time."
            )));
        }
        out.insert("timeZone".to_owned(), json!(name));
    }
    match (date, date_time) {
        (Some(_), Some(_)) | (None, None) => Err(GoogleError::invalid(format!(
            "Invalid {which} time: exactly one of date and dateTime is required."
        ))),
        (Some(d), None) => {
            let text = d.as_str().unwrap_or_default();
            if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
                return Err(GoogleError::invalid(format!("Invalid {which} time.")));
            }
            out.insert("date".to_owned(), json!(text));
            Ok(Value::Object(out))
        }
        (None, Some(dt)) => {
            let text = dt.as_str().unwrap_or_default();
            if parse_rfc3339(text).is_none() {
                // Without an offset, a timeZone is required (documented).
                let local_ok = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok();
                if !local_ok {
                    return Err(GoogleError::invalid(format!("Invalid {which} time.")));
                }
                if tz.is_none() {
                    return Err(GoogleError::invalid(format!(
                        "Missing time zone definition for {which} time."
                    )));
                }
            }
            let mut probe = out.clone();
            probe.insert("dateTime".to_owned(), json!(text));
            let probe = Value::Object(probe);
            if event_time_instant(&probe, default_tz).is_none() {
                return Err(GoogleError::invalid(format!("Invalid {which} time.")));
            }
            Ok(probe)
        }
    }
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, GoogleError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(GoogleError::invalid(format!("Invalid value for {key}."))),
    }
}

fn one_of(
    obj: &Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<Option<String>, GoogleError> {
    let value = opt_string(obj, key)?;
    if let Some(v) = &value {
        if !allowed.contains(&v.as_str()) {
            return Err(GoogleError::invalid(format!("Invalid value for {key}.")));
        }
    }
    Ok(value)
}

fn validate_reminders(v: &Value) -> Result<Value, GoogleError> {
    let Some(obj) = v.as_object() else {
        return Err(GoogleError::invalid("Invalid value for reminders."));
    };
    let use_default = match obj.get("useDefault") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(GoogleError::invalid(
                "Invalid value for reminders.useDefault.",
            ))
        }
    };
    let overrides = match obj.get("overrides") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(GoogleError::invalid(
                "Invalid value for reminders.overrides.",
            ))
        }
    };
    if use_default && !overrides.is_empty() {
        // Reason as seen in client reports (not verified in the reference).
        return Err(GoogleError::new(
            StatusCode::BAD_REQUEST,
            "global",
            "cannotUseDefaultRemindersAndSpecifyOverride",
            "Cannot specify both default reminders and overrides at the same time.",
        ));
    }
    if overrides.len() > MAX_REMINDER_OVERRIDES {
        // Limit documented; reason and wording not verified.
        return Err(GoogleError::invalid(
            "The maximum number of override reminders is 5.",
        ));
    }
    let mut out = Vec::with_capacity(overrides.len());
    for r in &overrides {
        let method = r.get("method").and_then(Value::as_str);
        let minutes = r.get("minutes").and_then(Value::as_i64);
        match (method, minutes) {
            (Some(m @ ("email" | "popup")), Some(min))
                if (0..=MAX_REMINDER_MINUTES).contains(&min) =>
            {
                out.push(json!({"method": m, "minutes": min}));
            }
            (Some("email" | "popup"), _) => {
                return Err(GoogleError::invalid("Invalid reminder minutes value."))
            }
            _ => return Err(GoogleError::invalid("Invalid reminder method.")),
        }
    }
    let mut rem = Map::new();
    rem.insert("useDefault".to_owned(), json!(use_default));
    if !out.is_empty() {
        rem.insert("overrides".to_owned(), Value::Array(out));
    }
    Ok(Value::Object(rem))
}

fn validate_attendees(v: &Value, self_email: &str) -> Result<Value, GoogleError> {
    let Some(list) = v.as_array() else {
        return Err(GoogleError::invalid("Invalid value for attendees."));
    };
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let Some(obj) = a.as_object() else {
            return Err(GoogleError::invalid("Invalid attendee."));
        };
        let email = opt_string(obj, "email")?
            .filter(|e| e.contains('@'))
            .ok_or_else(|| GoogleError::required("attendee email"))?;
        let mut att = Map::new();
        att.insert("email".to_owned(), json!(email));
        if let Some(name) = opt_string(obj, "displayName")? {
            att.insert("displayName".to_owned(), json!(name));
        }
        match obj.get("optional") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => {
                att.insert("optional".to_owned(), json!(b));
            }
            Some(_) => {
                return Err(GoogleError::invalid(
                    "Invalid value for attendees.optional.",
                ))
            }
        }
        if email.eq_ignore_ascii_case(self_email) {
            att.insert("self".to_owned(), json!(true));
            att.insert("organizer".to_owned(), json!(true));
        }
        let status = one_of(
            obj,
            "responseStatus",
            &["needsAction", "declined", "tentative", "accepted"],
        )?
        .unwrap_or_else(|| "needsAction".to_owned());
        att.insert("responseStatus".to_owned(), json!(status));
        if let Some(comment) = opt_string(obj, "comment")? {
            att.insert("comment".to_owned(), json!(comment));
        }
        out.push(Value::Object(att));
    }
    Ok(Value::Array(out))
}

fn validate_extended(v: &Value) -> Result<Value, GoogleError> {
    let Some(obj) = v.as_object() else {
        return Err(GoogleError::invalid(
            "Invalid value for extendedProperties.",
        ));
    };
    let mut out = Map::new();
    for key in ["private", "shared"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(props)) => {
                if props.values().any(|p| !p.is_string()) {
                    return Err(GoogleError::invalid(format!(
                        "Invalid value for extendedProperties.{key}."
                    )));
                }
                out.insert(key.to_owned(), Value::Object(props.clone()));
            }
            Some(_) => {
                return Err(GoogleError::invalid(format!(
                    "Invalid value for extendedProperties.{key}."
                )))
            }
        }
    }
    Ok(Value::Object(out))
}

/// Metadata kept from the existing event on update.
struct Existing<'a> {
    resource: &'a Value,
}

/// Validate `input` (a full event as PUT/insert send it, or a merged patch)
/// and build the resource to store.
fn build_event(
    input: &Map<String, Value>,
    id: &str,
    account: &GoogleAccount,
    calendar_id: &str,
    existing: Option<Existing<'_>>,
    counter: u64,
) -> Result<Value, GoogleError> {
    let tz = account.time_zone.as_str();
    let start_in = input.get("start").filter(|v| !v.is_null());
    let end_in = input.get("end").filter(|v| !v.is_null());
    let start = validate_time(
        start_in.ok_or_else(|| GoogleError::required("start time"))?,
        "start",
        tz,
    )?;
    let end = validate_time(
        end_in.ok_or_else(|| GoogleError::required("end time"))?,
        "end",
        tz,
    )?;
    if start.get("date").is_some() != end.get("date").is_some() {
        return Err(GoogleError::invalid(
            "Start and end times must either both be date or both be dateTime.",
        ));
    }
    let (s, e) = event_interval(&json!({"start": start, "end": end}), tz)
        .ok_or_else(|| GoogleError::invalid("Invalid start time."))?;
    if e < s {
        return Err(GoogleError::time_range_empty("end"));
    }

    let now = Utc::now();
    let mut ev = Map::new();
    ev.insert("kind".to_owned(), json!("calendar#event"));
    ev.insert(
        "etag".to_owned(),
        json!(format!(
            "\"{}{:03}\"",
            now.timestamp_micros(),
            counter % 1000
        )),
    );
    ev.insert("id".to_owned(), json!(id));
    let status = one_of(input, "status", &["confirmed", "tentative", "cancelled"])?
        .unwrap_or_else(|| "confirmed".to_owned());
    ev.insert("status".to_owned(), json!(status));
    let eid = URL_SAFE_NO_PAD.encode(format!("{id} {calendar_id}"));
    ev.insert(
        "htmlLink".to_owned(),
        json!(format!("https://www.google.com/calendar/event?eid={eid}")),
    );
    let created = existing
        .as_ref()
        .and_then(|x| x.resource.get("created").cloned())
        .unwrap_or_else(|| json!(rfc3339_millis(now)));
    ev.insert("created".to_owned(), created);
    ev.insert("updated".to_owned(), json!(rfc3339_millis(now)));
    for key in ["summary", "description", "location", "colorId"] {
        if let Some(v) = opt_string(input, key)? {
            ev.insert(key.to_owned(), json!(v));
        }
    }
    let me = json!({"email": account.email, "self": true});
    ev.insert("creator".to_owned(), me.clone());
    ev.insert("organizer".to_owned(), me);
    // Sequence grows when the time changes (iCalendar SEQUENCE; Google's exact rule is not documented).
    let sequence = match &existing {
        Some(x) => {
            let old = x.resource["sequence"].as_i64().unwrap_or(0);
            let moved =
                x.resource.get("start") != Some(&start) || x.resource.get("end") != Some(&end);
            old + i64::from(moved)
        }
        None => 0,
    };
    ev.insert("start".to_owned(), start);
    ev.insert("end".to_owned(), end);
    if let Some(t) = one_of(input, "transparency", &["opaque", "transparent"])? {
        ev.insert("transparency".to_owned(), json!(t));
    }
    if let Some(v) = one_of(
        input,
        "visibility",
        &["default", "public", "private", "confidential"],
    )? {
        ev.insert("visibility".to_owned(), json!(v));
    }
    if let Some(r) = input.get("recurrence").filter(|v| !v.is_null()) {
        if !r.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
            return Err(GoogleError::invalid("Invalid value for recurrence."));
        }
        ev.insert("recurrence".to_owned(), r.clone());
    }
    ev.insert("iCalUID".to_owned(), json!(format!("{id}@google.com")));
    ev.insert("sequence".to_owned(), json!(sequence));
    if let Some(a) = input.get("attendees").filter(|v| !v.is_null()) {
        ev.insert(
            "attendees".to_owned(),
            validate_attendees(a, &account.email)?,
        );
    }
    if let Some(x) = input.get("extendedProperties").filter(|v| !v.is_null()) {
        ev.insert("extendedProperties".to_owned(), validate_extended(x)?);
    }
    let reminders = match input.get("reminders").filter(|v| !v.is_null()) {
        Some(r) => validate_reminders(r)?,
        None => json!({"useDefault": true}),
    };
    ev.insert("reminders".to_owned(), reminders);
    ev.insert("eventType".to_owned(), json!("default"));
    Ok(Value::Object(ev))
}

/// The calendar a path's `calendarId` names: `primary` or one of the
/// account's own ids (its email); other calendars are 404.
fn resolve_calendar(account: &GoogleAccount, calendar_id: &str) -> Result<String, GoogleError> {
    if calendar_id == "primary" || calendar_id.eq_ignore_ascii_case(&account.email) {
        Ok(account.email.clone())
    } else {
        Err(GoogleError::not_found())
    }
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, GoogleError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(GoogleError::invalid(
            "The request body must be a JSON object.",
        )),
        Err(_) => Err(GoogleError::parse_error()),
    }
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn send_updates(pairs: &[(String, String)]) -> Result<Option<String>, GoogleError> {
    match pairs.iter().find(|(k, _)| k == "sendUpdates") {
        None => Ok(None),
        Some((_, v)) if matches!(v.as_str(), "all" | "externalOnly" | "none") => {
            Ok(Some(v.clone()))
        }
        Some(_) => Err(GoogleError::invalid_parameter("sendUpdates")),
    }
}

/// Authenticate, check scopes, resolve the calendar.
fn prologue(
    sandbox: &GoogleSandbox,
    headers: &HeaderMap,
    calendar_id: &str,
    scopes: &[&str],
) -> Result<(GoogleAccount, String), GoogleError> {
    let (info, account) = sandbox.authenticate(headers)?;
    if !has_any(&info, scopes) {
        return Err(GoogleError::insufficient_permissions());
    }
    let calendar = resolve_calendar(&account, calendar_id)?;
    Ok((account, calendar))
}

fn random_event_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
    let mut rng = rand::thread_rng();
    (0..26)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// `GET /calendar/v3/users/me/calendarList`.
pub(super) async fn calendar_list(
    State(sandbox): State<GoogleSandbox>,
    headers: HeaderMap,
) -> Response {
    let (info, account) = match sandbox.authenticate(&headers) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    if !has_any(&info, LIST_SCOPES) {
        return GoogleError::insufficient_permissions().into_response();
    }
    Json(json!({
        "kind": "calendar#calendarList",
        "etag": "\"p33cbtaqs1ng0g0o\"",
        "nextSyncToken": "CKCsq9-Lk4MDEhhhZGEubG92ZWxhY2VAZ21haWwuZXhhbXBsZQ==",
        "items": [{
            "kind": "calendar#calendarListEntry",
            "etag": "\"1700000000000000\"",
            "id": account.email,
            "summary": account.email,
            "timeZone": account.time_zone,
            "colorId": "14",
            "backgroundColor": "#9fe1e7",
            "foregroundColor": "#000000",
            "selected": true,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "notificationSettings": {"notifications": [{"type": "eventCreation", "method": "email"}]},
            "primary": true,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
        }]
    }))
    .into_response()
}

/// `POST /calendar/v3/calendars/{calendarId}/events` (`events.insert`).
pub(super) async fn insert(
    State(sandbox): State<GoogleSandbox>,
    Path(calendar_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let (account, calendar) = prologue(&sandbox, &headers, &calendar_id, WRITE_SCOPES)?;
        let send = send_updates(&query_pairs(query.as_deref()))?;
        let input = parse_body(&body)?;
        let id = match input.get("id") {
            None | Some(Value::Null) => random_event_id(),
            Some(Value::String(id)) if is_valid_event_id(id) => id.clone(),
            Some(_) => return Err(GoogleError::invalid_id()),
        };
        let mut st = sandbox.state.lock();
        if st
            .events
            .get(&account.sub)
            .is_some_and(|m| m.contains_key(&id))
        {
            return Err(GoogleError::duplicate());
        }
        st.change_counter += 1;
        let counter = st.change_counter;
        let resource = build_event(&input, &id, &account, &calendar, None, counter)?;
        st.events.entry(account.sub.clone()).or_default().insert(
            id,
            StoredEvent {
                calendar_id: calendar,
                resource: resource.clone(),
                send_updates: send,
                changed_at: counter,
            },
        );
        Ok(resource)
    })();
    match result {
        Ok(resource) => {
            let fault = sandbox.take_after_store();
            AfterStoreFault::apply(fault, Json(resource).into_response()).await
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /calendar/v3/calendars/{calendarId}/events/{eventId}`: cancelled
/// events come back with `status: "cancelled"`.
pub(super) async fn get_event(
    State(sandbox): State<GoogleSandbox>,
    Path((calendar_id, event_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = (|| {
        let (account, calendar) = prologue(&sandbox, &headers, &calendar_id, READ_SCOPES)?;
        let st = sandbox.state.lock();
        st.events
            .get(&account.sub)
            .and_then(|m| m.get(&event_id))
            .filter(|e| e.calendar_id == calendar)
            .map(|e| e.resource.clone())
            .ok_or_else(GoogleError::not_found)
    })();
    match result {
        Ok(resource) => Json(resource).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Merge a patch into an event: nested objects merge key by key (JSON merge
/// patch), arrays and `start`/`end`/`reminders` are replaced whole, `null`
/// clears. (Google documents patch semantics only loosely; this is the
/// sandbox's reading.)
fn merge_patch(base: &mut Map<String, Value>, patch: &Map<String, Value>, top: bool) {
    for (key, value) in patch {
        let replace_whole = top && matches!(key.as_str(), "start" | "end" | "reminders");
        match (base.get_mut(key), value) {
            (_, Value::Null) => {
                base.remove(key);
            }
            (Some(Value::Object(b)), Value::Object(p)) if !replace_whole => {
                merge_patch(b, p, false);
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

enum Write {
    Patch,
    Update,
}

async fn write(
    sandbox: GoogleSandbox,
    calendar_id: String,
    event_id: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    kind: Write,
) -> Response {
    let result = (|| -> Result<Value, GoogleError> {
        let (account, calendar) = prologue(&sandbox, &headers, &calendar_id, WRITE_SCOPES)?;
        let send = send_updates(&query_pairs(query.as_deref()))?;
        let input = parse_body(&body)?;
        let mut st = sandbox.state.lock();
        st.change_counter += 1;
        let counter = st.change_counter;
        let stored = st
            .events
            .get_mut(&account.sub)
            .and_then(|m| m.get_mut(&event_id))
            .filter(|e| e.calendar_id == calendar)
            .ok_or_else(GoogleError::not_found)?;
        let merged = match kind {
            Write::Patch => {
                let mut base = stored.resource.as_object().cloned().unwrap_or_default();
                merge_patch(&mut base, &input, true);
                base
            }
            Write::Update => input,
        };
        let resource = build_event(
            &merged,
            &event_id,
            &account,
            &calendar,
            Some(Existing {
                resource: &stored.resource,
            }),
            counter,
        )?;
        stored.resource = resource.clone();
        stored.send_updates = send;
        stored.changed_at = counter;
        Ok(resource)
    })();
    match result {
        Ok(resource) => Json(resource).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `PATCH .../events/{eventId}` (`events.patch`, partial; `status:
/// "confirmed"` undeletes a cancelled event).
pub(super) async fn patch(
    State(sandbox): State<GoogleSandbox>,
    Path((calendar_id, event_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(
        sandbox,
        calendar_id,
        event_id,
        query,
        headers,
        body,
        Write::Patch,
    )
    .await
}

/// `PUT .../events/{eventId}` (`events.update`, full replace; `start` and
/// `end` required).
pub(super) async fn update(
    State(sandbox): State<GoogleSandbox>,
    Path((calendar_id, event_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(
        sandbox,
        calendar_id,
        event_id,
        query,
        headers,
        body,
        Write::Update,
    )
    .await
}

/// `DELETE .../events/{eventId}`: 204, the event keeps its id with `status:
/// "cancelled"`; deleting it again is 410 `deleted`.
pub(super) async fn delete(
    State(sandbox): State<GoogleSandbox>,
    Path((calendar_id, event_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = (|| {
        let (account, calendar) = prologue(&sandbox, &headers, &calendar_id, WRITE_SCOPES)?;
        let send = send_updates(&query_pairs(query.as_deref()))?;
        let mut st = sandbox.state.lock();
        st.change_counter += 1;
        let counter = st.change_counter;
        let stored = st
            .events
            .get_mut(&account.sub)
            .and_then(|m| m.get_mut(&event_id))
            .filter(|e| e.calendar_id == calendar)
            .ok_or_else(GoogleError::not_found)?;
        if stored.status() == "cancelled" {
            return Err(GoogleError::deleted());
        }
        if let Some(obj) = stored.resource.as_object_mut() {
            let now = Utc::now();
            obj.insert("status".to_owned(), json!("cancelled"));
            obj.insert("updated".to_owned(), json!(rfc3339_millis(now)));
            obj.insert(
                "etag".to_owned(),
                json!(format!(
                    "\"{}{:03}\"",
                    now.timestamp_micros(),
                    counter % 1000
                )),
            );
        }
        stored.send_updates = send;
        stored.changed_at = counter;
        Ok(())
    })();
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

fn encode_token(prefix: &str, n: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{prefix}:{n}"))
}

fn decode_token(prefix: &str, token: &str) -> Option<u64> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix(prefix)?.strip_prefix(':')?.parse().ok()
}

/// `key=value` of a `privateExtendedProperty`/`sharedExtendedProperty` filter.
fn property_filters(
    pairs: &[(String, String)],
    name: &str,
) -> Result<Vec<(String, String)>, GoogleError> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| {
            v.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| GoogleError::invalid_parameter(name))
        })
        .collect()
}

fn matches_properties(resource: &Value, kind: &str, filters: &[(String, String)]) -> bool {
    filters
        .iter()
        .all(|(k, v)| resource["extendedProperties"][kind][k.as_str()].as_str() == Some(v.as_str()))
}

/// `GET /calendar/v3/calendars/{calendarId}/events` (`events.list`):
/// `privateExtendedProperty` / `sharedExtendedProperty` (repeatable, all
/// must match), `timeMin`/`timeMax` (overlap), `showDeleted`, `q`
/// (substring of summary, description, location), `maxResults`,
/// `pageToken`, `syncToken`, `singleEvents`/`orderBy=startTime`.
/// `nextSyncToken` is on the last page only, `nextPageToken` on the others;
/// an unknown `syncToken` is 410 `fullSyncRequired`.
pub(super) async fn list(
    State(sandbox): State<GoogleSandbox>,
    Path(calendar_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = (|| {
        let (account, calendar) = prologue(&sandbox, &headers, &calendar_id, READ_SCOPES)?;
        let pairs = query_pairs(query.as_deref());
        let one = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let private = property_filters(&pairs, "privateExtendedProperty")?;
        let shared = property_filters(&pairs, "sharedExtendedProperty")?;
        let time = |name: &str| {
            one(name)
                .map(|v| parse_rfc3339(v).ok_or_else(|| GoogleError::invalid_parameter(name)))
                .transpose()
        };
        let time_min = time("timeMin")?;
        let time_max = time("timeMax")?;
        if let (Some(a), Some(b)) = (time_min, time_max) {
            if b <= a {
                return Err(GoogleError::time_range_empty("timeMax"));
            }
        }
        let flag = |name: &str| one(name) == Some("true");
        let show_deleted = flag("showDeleted");
        let q = one("q").map(str::to_lowercase);
        let max_results = match one("maxResults") {
            None => DEFAULT_MAX_RESULTS,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => n.min(MAX_MAX_RESULTS),
                _ => return Err(GoogleError::invalid_parameter("maxResults")),
            },
        };
        let order_by = one("orderBy");
        match order_by {
            None | Some("updated") => {}
            Some("startTime") if flag("singleEvents") => {}
            Some("startTime") => {
                return Err(GoogleError::invalid(
                    "The requested ordering is not available for the particular query.",
                ))
            }
            Some(_) => return Err(GoogleError::invalid_parameter("orderBy")),
        }
        let sync_since = match one("syncToken") {
            None => None,
            Some(token) => {
                let conflicting = ["timeMin", "timeMax", "q", "orderBy", "updatedMin"]
                    .iter()
                    .any(|n| one(n).is_some())
                    || !private.is_empty()
                    || !shared.is_empty();
                if conflicting {
                    return Err(GoogleError::invalid(
                        "Sync token cannot be combined with the given query parameters.",
                    ));
                }
                Some(decode_token("sync", token).ok_or_else(|| {
                    // Reason and wording as in the sync guide's 410 (not verified byte for byte).
                    GoogleError::new(
                        StatusCode::GONE,
                        "calendar",
                        "fullSyncRequired",
                        "Sync token is no longer valid, a full sync is required.",
                    )
                })?)
            }
        };
        let offset = match one("pageToken") {
            None => 0,
            Some(t) => decode_token("page", t)
                .ok_or_else(|| GoogleError::invalid_parameter("pageToken"))?
                as usize,
        };

        let st = sandbox.state.lock();
        let tz = account.time_zone.as_str();
        let mut items: Vec<&StoredEvent> = st
            .events
            .get(&account.sub)
            .map(|m| m.values().collect())
            .unwrap_or_default();
        items.retain(|e| e.calendar_id == calendar);
        match sync_since {
            Some(since) => items.retain(|e| e.changed_at > since),
            None => items.retain(|e| {
                let r = &e.resource;
                if e.status() == "cancelled" && !show_deleted {
                    return false;
                }
                if !matches_properties(r, "private", &private)
                    || !matches_properties(r, "shared", &shared)
                {
                    return false;
                }
                if let Some(q) = &q {
                    let hit = ["summary", "description", "location"].iter().any(|k| {
                        r[*k]
                            .as_str()
                            .is_some_and(|s| s.to_lowercase().contains(q.as_str()))
                    });
                    if !hit {
                        return false;
                    }
                }
                let Some((s, end)) = event_interval(r, tz) else {
                    return false;
                };
                time_min.is_none_or(|m| end > m) && time_max.is_none_or(|m| s < m)
            }),
        }
        match order_by {
            Some("startTime") => {
                items.sort_by_key(|e| event_interval(&e.resource, tz).map(|(s, _)| s))
            }
            Some(_) => items.sort_by_key(|e| e.changed_at),
            None => {}
        }
        let total = items.len();
        let page: Vec<Value> = items
            .iter()
            .skip(offset)
            .take(max_results)
            .map(|e| e.resource.clone())
            .collect();
        let mut body = json!({
            "kind": "calendar#events",
            "etag": format!("\"{}\"", st.change_counter),
            "summary": account.email,
            "description": "",
            "updated": rfc3339_millis(Utc::now()),
            "timeZone": account.time_zone,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": page,
        });
        let next = offset + max_results;
        if next < total {
            body["nextPageToken"] = json!(encode_token("page", next as u64));
        } else {
            body["nextSyncToken"] = json!(encode_token("sync", st.change_counter));
        }
        Ok(body)
    })();
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}
