//! Graph v1.0 handlers: `me`, `calendars`, events create/get/update/delete,
//! `calendar/getSchedule`.
//!
//! Event fields stored are the writable ones of `interface Event` this
//! sandbox knows (`subject`, `body`, `start`, `end`, `location`,
//! `attendees`, `isReminderOn`, `reminderMinutesBeforeStart`,
//! `transactionId`, `showAs`, `importance`, `sensitivity`, `isAllDay`,
//! `categories`, `isOnlineMeeting`, `onlineMeetingProvider`,
//! `allowNewTimeProposals`, `responseRequested`). `onlineMeetingUrl` is
//! read-only: Graph accepts a create that sets it and leaves it `null`
//! (reported in microsoftgraph/microsoft-graph-docs#2286 and answered by the
//! docs team in #4033), so the sandbox does the same and lists the field in
//! [`StoredGraphEvent::ignored_fields`](super::StoredGraphEvent) for tests.
//!
//! `start`/`end.dateTime` is a local time without offset
//! (`2030-05-01T10:00:00`, fractional seconds allowed); an offset or `Z` is
//! refused with 400 (Graph's handling of offsets is not documented).
//! Answers give times in the zone of `Prefer: outlook.timezone="..."`; without
//! it, GET answers UTC (documented) and create/update answer the request's
//! zones (as the reference examples show).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use super::errors::GraphError;
use super::{has_permission, time_zones, MicrosoftAccount, MicrosoftSandbox, StoredGraphEvent};
use crate::after_store::AfterStoreFault;
use crate::random_token;

const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata";
const USER_READ: &[&str] = &[
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
];
const CAL_READ: &[&str] = &[
    "Calendars.ReadBasic",
    "Calendars.Read",
    "Calendars.ReadWrite",
];
const CAL_WRITE: &[&str] = &["Calendars.ReadWrite"];

/// Writable `Event` fields the sandbox stores.
const WRITABLE: &[&str] = &[
    "subject",
    "body",
    "start",
    "end",
    "location",
    "attendees",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "transactionId",
    "showAs",
    "importance",
    "sensitivity",
    "isAllDay",
    "categories",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "allowNewTimeProposals",
    "responseRequested",
];

/// Graph's local `dateTime` form: seven fractional digits, no offset.
fn graph_local(t: NaiveDateTime) -> String {
    use chrono::Timelike;
    format!(
        "{}.{:07}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond().min(999_999_999) / 100
    )
}

fn parse_local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// Parse a `dateTimeTimeZone`; answers the instant and the stored value.
pub(crate) fn parse_dtz(v: &Value, which: &str) -> Result<(DateTime<Utc>, Value), GraphError> {
    let text = v
        .get("dateTime")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request(format!("{which}.dateTime is required.")))?;
    let zone_name = v
        .get("timeZone")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request(format!("{which}.timeZone is required.")))?;
    let tz = time_zones::resolve(zone_name).ok_or_else(|| GraphError::time_zone(zone_name))?;
    let local = parse_local(text).ok_or_else(|| {
        GraphError::bad_request(format!(
            "{which}.dateTime must be a local date and time without offset (yyyy-MM-ddTHH:mm:ss)."
        ))
    })?;
    let instant = tz
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| {
            GraphError::bad_request(format!("{which}.dateTime does not exist in {zone_name}."))
        })?
        .with_timezone(&Utc);
    Ok((
        instant,
        json!({"dateTime": graph_local(local), "timeZone": zone_name}),
    ))
}

/// `instant` as a `dateTimeTimeZone` in `zone` (a Graph zone name).
fn render_dtz(instant: DateTime<Utc>, zone: &str) -> Value {
    let tz = time_zones::resolve(zone).unwrap_or(Tz::UTC);
    json!({
        "dateTime": graph_local(instant.with_timezone(&tz).naive_local()),
        "timeZone": zone,
    })
}

/// The zone of `Prefer: outlook.timezone="..."`, if any.
fn preferred_zone(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            let p = p.trim();
            let rest = p.strip_prefix("outlook.timezone=")?;
            Some(rest.trim_matches('"').to_owned())
        })
        .filter(|z| time_zones::resolve(z).is_some())
}

/// The event as answered: times in `zone` when given.
fn render(e: &StoredGraphEvent, zone: Option<&str>) -> Value {
    let mut v = e.resource.clone();
    if let Some(zone) = zone {
        v["start"] = render_dtz(e.start, zone);
        v["end"] = render_dtz(e.end, zone);
    }
    v["@odata.context"] = json!(format!("{CONTEXT}#users('me')/events/$entity"));
    v
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn check_enum(obj: &Map<String, Value>, key: &str, allowed: &[&str]) -> Result<(), GraphError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(_) => Err(GraphError::bad_request(format!("Invalid value for {key}."))),
    }
}

fn check_type(
    obj: &Map<String, Value>,
    key: &str,
    ok: fn(&Value) -> bool,
) -> Result<(), GraphError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) if ok(v) => Ok(()),
        Some(_) => Err(GraphError::bad_request(format!("Invalid value for {key}."))),
    }
}

/// Validate the writable fields of `input` (already merged for PATCH).
fn validate(input: &Map<String, Value>) -> Result<(), GraphError> {
    check_type(input, "subject", Value::is_string)?;
    check_type(input, "transactionId", Value::is_string)?;
    for key in [
        "isReminderOn",
        "isAllDay",
        "isOnlineMeeting",
        "allowNewTimeProposals",
        "responseRequested",
    ] {
        check_type(input, key, Value::is_boolean)?;
    }
    check_type(input, "reminderMinutesBeforeStart", |v| {
        v.as_i64().is_some_and(|m| m >= 0)
    })?;
    check_type(input, "categories", |v| {
        v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    })?;
    check_enum(
        input,
        "showAs",
        &[
            "free",
            "tentative",
            "busy",
            "oof",
            "workingElsewhere",
            "unknown",
        ],
    )?;
    check_enum(input, "importance", &["low", "normal", "high"])?;
    check_enum(
        input,
        "sensitivity",
        &["normal", "personal", "private", "confidential"],
    )?;
    check_enum(
        input,
        "onlineMeetingProvider",
        &[
            "unknown",
            "teamsForBusiness",
            "skypeForBusiness",
            "skypeForConsumer",
        ],
    )?;
    if let Some(body) = input.get("body").filter(|v| !v.is_null()) {
        let obj = body
            .as_object()
            .ok_or_else(|| GraphError::bad_request("Invalid value for body."))?;
        check_enum(obj, "contentType", &["text", "html"])?;
        check_type(obj, "content", Value::is_string)?;
    }
    if let Some(loc) = input.get("location").filter(|v| !v.is_null()) {
        let obj = loc
            .as_object()
            .ok_or_else(|| GraphError::bad_request("Invalid value for location."))?;
        check_type(obj, "displayName", Value::is_string)?;
    }
    if let Some(att) = input.get("attendees").filter(|v| !v.is_null()) {
        let list = att
            .as_array()
            .ok_or_else(|| GraphError::bad_request("Invalid value for attendees."))?;
        for a in list {
            let obj = a
                .as_object()
                .ok_or_else(|| GraphError::bad_request("Invalid attendee."))?;
            check_enum(obj, "type", &["required", "optional", "resource"])?;
            let address = a["emailAddress"]["address"].as_str().unwrap_or_default();
            if !address.contains('@') {
                return Err(GraphError::bad_request(
                    "An attendee needs emailAddress.address.",
                ));
            }
        }
    }
    Ok(())
}

/// Build the stored event from validated input.
fn build(
    input: &Map<String, Value>,
    account: &MicrosoftAccount,
    calendar_id: &str,
    existing: Option<&StoredGraphEvent>,
) -> Result<StoredGraphEvent, GraphError> {
    validate(input)?;
    let start_in = input
        .get("start")
        .filter(|v| !v.is_null())
        .ok_or_else(|| GraphError::bad_request("start is required."))?;
    let end_in = input
        .get("end")
        .filter(|v| !v.is_null())
        .ok_or_else(|| GraphError::bad_request("end is required."))?;
    let (start, start_v) = parse_dtz(start_in, "start")?;
    let (end, end_v) = parse_dtz(end_in, "end")?;
    if end < start {
        return Err(GraphError::bad_request(
            "The end of the event is before its start.",
        ));
    }
    let now = Utc::now();
    let id = existing
        .map(|e| e.id().to_owned())
        .unwrap_or_else(|| format!("AAMkAG{}", random_token()));
    let change_key = random_token();
    let get_bool = |k: &str, d: bool| input.get(k).and_then(Value::as_bool).unwrap_or(d);
    let get_str = |k: &str, d: &str| input.get(k).and_then(Value::as_str).unwrap_or(d).to_owned();
    let body = input.get("body").filter(|v| !v.is_null());
    let content = body
        .and_then(|b| b.get("content"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let preview: String = content.chars().take(255).collect();
    let attendees: Vec<Value> = input
        .get("attendees")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|a| {
                    json!({
                        "type": a.get("type").and_then(Value::as_str).unwrap_or("required"),
                        "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                        "emailAddress": {
                            "name": a["emailAddress"]["name"].as_str()
                                .or(a["emailAddress"]["address"].as_str()),
                            "address": a["emailAddress"]["address"],
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let location_name = input
        .get("location")
        .and_then(|l| l.get("displayName"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let online = get_bool("isOnlineMeeting", false);
    let provider = if online {
        get_str("onlineMeetingProvider", "teamsForBusiness")
    } else {
        "unknown".to_owned()
    };
    let online_meeting = existing
        .and_then(|e| e.resource.get("onlineMeeting").filter(|v| !v.is_null()).cloned())
        .or_else(|| {
            online.then(|| {
                json!({"joinUrl": format!("https://teams.microsoft.com/l/meetup-join/19%3ameeting_{}%40thread.v2/0", random_token())})
            })
        });
    let kept = |k: &str, d: Value| existing.map(|e| e.resource[k].clone()).unwrap_or(d);
    let transaction_id = match existing {
        // transactionId cannot change after create (documented); a new value is ignored.
        Some(e) => e.resource["transactionId"].clone(),
        None => input.get("transactionId").cloned().unwrap_or(Value::Null),
    };
    let web_id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let locations = if location_name.is_empty() {
        json!([])
    } else {
        json!([{"displayName": location_name, "locationType": "default", "uniqueIdType": "unknown"}])
    };
    let resource = json!({
        "@odata.etag": format!("W/\"{change_key}\""),
        "id": id,
        "createdDateTime": kept("createdDateTime", json!(rfc3339(now))),
        "lastModifiedDateTime": rfc3339(now),
        "changeKey": change_key,
        "categories": input.get("categories").cloned().unwrap_or(json!([])),
        "transactionId": transaction_id,
        "originalStartTimeZone": start_v["timeZone"],
        "originalEndTimeZone": end_v["timeZone"],
        "iCalUId": kept("iCalUId", json!(format!("040000008200E00074C5B7101A82E008{}", hex32()))),
        "uid": kept("uid", json!(format!("040000008200E00074C5B7101A82E008{}", hex32()))),
        "reminderMinutesBeforeStart": input.get("reminderMinutesBeforeStart").and_then(Value::as_i64).unwrap_or(15),
        "isReminderOn": get_bool("isReminderOn", true),
        "hasAttachments": false,
        "subject": get_str("subject", ""),
        "bodyPreview": preview,
        "importance": get_str("importance", "normal"),
        "sensitivity": get_str("sensitivity", "normal"),
        "isAllDay": get_bool("isAllDay", false),
    });
    let rest = json!({
        "isCancelled": false,
        "isOrganizer": true,
        "responseRequested": get_bool("responseRequested", true),
        "allowNewTimeProposals": get_bool("allowNewTimeProposals", true),
        "seriesMasterId": null,
        "showAs": get_str("showAs", "busy"),
        "type": "singleInstance",
        "webLink": format!("https://outlook.office365.com/owa/?itemid={web_id}&exvsurl=1&path=/calendar/item"),
        "onlineMeetingUrl": null,
        "isOnlineMeeting": online,
        "onlineMeetingProvider": provider,
        "onlineMeeting": online_meeting,
        "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
        "body": {
            "contentType": body.and_then(|b| b.get("contentType")).and_then(Value::as_str).unwrap_or("text"),
            "content": content,
        },
        "start": start_v,
        "end": end_v,
        "location": {
            "displayName": location_name,
            "locationType": "default",
            "uniqueIdType": "unknown",
        },
        "locations": locations,
        "attendees": attendees,
        "organizer": {"emailAddress": {"name": account.display_name, "address": account.mail}},
    });
    let mut resource = resource;
    if let (Some(a), Value::Object(b)) = (resource.as_object_mut(), rest) {
        a.extend(b);
    }
    let ignored: Vec<String> = input
        .keys()
        .filter(|k| !WRITABLE.contains(&k.as_str()))
        .cloned()
        .collect();
    let mut ignored_fields = existing
        .map(|e| e.ignored_fields.clone())
        .unwrap_or_default();
    for k in ignored {
        if !ignored_fields.contains(&k) {
            ignored_fields.push(k);
        }
    }
    Ok(StoredGraphEvent {
        calendar_id: calendar_id.to_owned(),
        resource,
        start,
        end,
        ignored_fields,
    })
}

fn hex32() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| char::from(b"0123456789ABCDEF"[rng.gen_range(0..16)]))
        .collect()
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(GraphError::unreadable_json()),
    }
}

fn authorize(
    sandbox: &MicrosoftSandbox,
    headers: &HeaderMap,
    permissions: &[&str],
) -> Result<MicrosoftAccount, GraphError> {
    let (info, account) = sandbox.authenticate(headers)?;
    if !has_permission(&info, permissions) {
        return Err(GraphError::access_denied());
    }
    Ok(account)
}

fn answer(result: Result<Response, GraphError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /v1.0/me`.
pub(super) async fn me(State(sandbox): State<MicrosoftSandbox>, headers: HeaderMap) -> Response {
    answer(authorize(&sandbox, &headers, USER_READ).map(|a| {
        Json(json!({
            "@odata.context": format!("{CONTEXT}#users/$entity"),
            "id": a.id,
            "displayName": a.display_name,
            "mail": a.mail,
            "userPrincipalName": a.user_principal_name,
            "businessPhones": [],
            "givenName": a.display_name.split(' ').next(),
            "surname": a.display_name.split(' ').nth(1),
            "jobTitle": null,
            "mobilePhone": null,
            "officeLocation": null,
            "preferredLanguage": "en-US",
        }))
        .into_response()
    }))
}

/// `GET /v1.0/me/calendars`.
pub(super) async fn calendars(
    State(sandbox): State<MicrosoftSandbox>,
    headers: HeaderMap,
) -> Response {
    answer(authorize(&sandbox, &headers, CAL_READ).map(|a| {
        Json(json!({
            "@odata.context": format!("{CONTEXT}#users('{}')/calendars", a.id),
            "value": [{
                "id": a.default_calendar_id(),
                "name": "Calendar",
                "color": "auto",
                "hexColor": "",
                "isDefaultCalendar": true,
                "changeKey": "fJKVL07sbkmIfHqjbDnRgQAAAAAAEA==",
                "canShare": true,
                "canViewPrivateItems": true,
                "canEdit": true,
                "allowedOnlineMeetingProviders": ["teamsForBusiness"],
                "defaultOnlineMeetingProvider": "teamsForBusiness",
                "isTallyingResponses": true,
                "isRemovable": false,
                "owner": {"name": a.display_name, "address": a.mail},
            }]
        }))
        .into_response()
    }))
}

async fn create(
    sandbox: MicrosoftSandbox,
    calendar_id: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| -> Result<StoredGraphEvent, GraphError> {
        let account = authorize(&sandbox, &headers, CAL_WRITE)?;
        let calendar = account.default_calendar_id();
        if calendar_id.as_ref().is_some_and(|c| *c != calendar) {
            return Err(GraphError::not_found());
        }
        let input = parse_object(&body)?;
        let mut st = sandbox.state.lock();
        // A retried create with the same transactionId answers the first event.
        if let Some(tx) = input.get("transactionId").and_then(Value::as_str) {
            let first = st
                .transactions
                .get(&account.id)
                .and_then(|m| m.get(tx))
                .cloned();
            if let Some(first) = first {
                if let Some(e) = st.events.get(&account.id).and_then(|m| m.get(&first)) {
                    return Ok(e.clone());
                }
            }
        }
        let event = build(&input, &account, &calendar, None)?;
        let id = event.id().to_owned();
        if let Some(tx) = input.get("transactionId").and_then(Value::as_str) {
            st.transactions
                .entry(account.id.clone())
                .or_default()
                .insert(tx.to_owned(), id.clone());
        }
        st.events
            .entry(account.id.clone())
            .or_default()
            .insert(id, event.clone());
        Ok(event)
    })();
    match result {
        Ok(event) => {
            let zone = preferred_zone(&headers);
            let resp = (StatusCode::CREATED, Json(render(&event, zone.as_deref()))).into_response();
            AfterStoreFault::apply(sandbox.take_after_store(), resp).await
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v1.0/me/events` (201; into the default calendar). A create with a
/// `transactionId` already used answers the first event (201 as well; Graph
/// documents the dedup, not the status) while that event exists.
pub(super) async fn create_default(
    State(sandbox): State<MicrosoftSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(sandbox, None, headers, body).await
}

/// `POST /v1.0/me/calendars/{id}/events`.
pub(super) async fn create_in(
    State(sandbox): State<MicrosoftSandbox>,
    Path(calendar_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(sandbox, Some(calendar_id), headers, body).await
}

/// `GET /v1.0/me/events/{id}`: times in UTC unless `Prefer: outlook.timezone`.
pub(super) async fn get_event(
    State(sandbox): State<MicrosoftSandbox>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(authorize(&sandbox, &headers, CAL_READ).and_then(|account| {
        let st = sandbox.state.lock();
        let e = st
            .events
            .get(&account.id)
            .and_then(|m| m.get(&event_id))
            .ok_or_else(GraphError::not_found)?;
        let zone = preferred_zone(&headers).unwrap_or_else(|| "UTC".to_owned());
        Ok(Json(render(e, Some(&zone))).into_response())
    }))
}

/// `PATCH /v1.0/me/events/{id}`: the given fields replace the stored ones.
pub(super) async fn patch_event(
    State(sandbox): State<MicrosoftSandbox>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(
        authorize(&sandbox, &headers, CAL_WRITE).and_then(|account| {
            let patch = parse_object(&body)?;
            let mut st = sandbox.state.lock();
            let stored = st
                .events
                .get_mut(&account.id)
                .and_then(|m| m.get_mut(&event_id))
                .ok_or_else(GraphError::not_found)?;
            let mut merged = stored.resource.as_object().cloned().unwrap_or_default();
            merged.retain(|k, _| WRITABLE.contains(&k.as_str()));
            for (k, v) in &patch {
                merged.insert(k.clone(), v.clone());
            }
            let updated = build(&merged, &account, &stored.calendar_id.clone(), Some(stored))?;
            *stored = updated;
            let zone = preferred_zone(&headers);
            Ok(Json(render(stored, zone.as_deref())).into_response())
        }),
    )
}

/// `DELETE /v1.0/me/events/{id}` → 204; the event is gone (GET is 404).
pub(super) async fn delete_event(
    State(sandbox): State<MicrosoftSandbox>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(
        authorize(&sandbox, &headers, CAL_WRITE).and_then(|account| {
            let mut st = sandbox.state.lock();
            st.events
                .get_mut(&account.id)
                .and_then(|m| m.remove(&event_id))
                .ok_or_else(GraphError::not_found)?;
            st.deleted += 1;
            Ok(StatusCode::NO_CONTENT.into_response())
        }),
    )
}

/// (start, end, status, subject, location) of one schedule item.
type ScheduleEntry = (
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    Option<String>,
    Option<String>,
);

/// Status → availabilityView digit (documented: 0 free or working elsewhere,
/// 1 tentative, 2 busy, 3 out of office).
fn view_digit(status: &str) -> u8 {
    match status {
        "tentative" => 1,
        "busy" => 2,
        "oof" => 3,
        _ => 0,
    }
}

/// `POST /v1.0/me/calendar/getSchedule`: `{schedules, startTime, endTime,
/// availabilityViewInterval}` (minutes, default 30, 5 to 1440) →
/// `value[] {scheduleId, availabilityView, scheduleItems[{isPrivate, status,
/// subject, location, start, end}]}`, times in `startTime.timeZone`. Items
/// come from the user's events (not `showAs: free`) and busy blocks.
/// `workingHours` is not simulated. An unknown address gets an `error`
/// (`freeBusyError {message, responseCode}`; the `responseCode` value is not
/// verified).
pub(super) async fn get_schedule(
    State(sandbox): State<MicrosoftSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(authorize(&sandbox, &headers, CAL_READ).and_then(|_account| {
        let req = parse_object(&body)?;
        let schedules: Vec<String> = req
            .get("schedules")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .ok_or_else(|| GraphError::bad_request("schedules is required."))?;
        let (start, start_v) = parse_dtz(
            req.get("startTime").ok_or_else(|| GraphError::bad_request("startTime is required."))?,
            "startTime",
        )?;
        let (end, _) = parse_dtz(
            req.get("endTime").ok_or_else(|| GraphError::bad_request("endTime is required."))?,
            "endTime",
        )?;
        if end <= start {
            return Err(GraphError::bad_request("endTime must be after startTime."));
        }
        let interval = match req.get("availabilityViewInterval") {
            None | Some(Value::Null) => 30,
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|n| (5..=1440).contains(n))
                .ok_or_else(|| GraphError::bad_request("availabilityViewInterval must be 5 to 1440."))?,
        };
        let zone = start_v["timeZone"].as_str().unwrap_or("UTC").to_owned();
        let st = sandbox.state.lock();
        let mut value = Vec::with_capacity(schedules.len());
        for id in &schedules {
            let Some(target) = sandbox.account_by_mail(id) else {
                value.push(json!({
                    "scheduleId": id,
                    "availabilityView": "",
                    "scheduleItems": [],
                    "error": {"message": "The mailbox was not found.", "responseCode": "ErrorMailRecipientNotFound"},
                }));
                continue;
            };
            // (start, end, status, subject, location)
            let mut items: Vec<ScheduleEntry> = target
                .busy
                .iter()
                .chain(st.busy.get(&target.mail.to_ascii_lowercase()).into_iter().flatten())
                .map(|(s, e)| (*s, *e, "busy".to_owned(), None, None))
                .collect();
            if let Some(events) = st.events.get(&target.id) {
                for e in events.values() {
                    let status = e.resource["showAs"].as_str().unwrap_or("busy");
                    if status == "free" {
                        continue;
                    }
                    items.push((
                        e.start,
                        e.end,
                        status.to_owned(),
                        e.resource["subject"].as_str().map(str::to_owned),
                        e.resource["location"]["displayName"].as_str().map(str::to_owned),
                    ));
                }
            }
            items.retain(|(s, e, ..)| *e > start && *s < end);
            items.sort_by_key(|(s, ..)| *s);
            let slot = chrono::Duration::minutes(interval);
            let mut view = String::new();
            let mut t = start;
            while t < end {
                let next = t + slot;
                let digit = items
                    .iter()
                    .filter(|(s, e, ..)| *s < next && *e > t)
                    .map(|(_, _, status, ..)| view_digit(status))
                    .max()
                    .unwrap_or(0);
                view.push(char::from(b'0' + digit));
                t = next;
            }
            let schedule_items: Vec<Value> = items
                .iter()
                .map(|(s, e, status, subject, location)| {
                    let mut item = json!({
                        "isPrivate": false,
                        "status": status,
                        "start": render_dtz(*s, &zone),
                        "end": render_dtz(*e, &zone),
                    });
                    if let Some(subject) = subject {
                        item["subject"] = json!(subject);
                    }
                    if let Some(location) = location {
                        item["location"] = json!(location);
                    }
                    item
                })
                .collect();
            value.push(json!({
                "scheduleId": id,
                "availabilityView": view,
                "scheduleItems": schedule_items,
            }));
        }
        Ok(Json(json!({
            "@odata.context": format!("{CONTEXT}#Collection(microsoft.graph.scheduleInformation)"),
            "value": value,
        }))
        .into_response())
    }))
}
