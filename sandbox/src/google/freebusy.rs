//! `POST /calendar/v3/freeBusy` (`freebusy.query`): `{timeMin, timeMax,
//! timeZone, items: [{id}]}` → `{kind: "calendar#freeBusy", timeMin,
//! timeMax, calendars: {"<id>": {busy: [{start, end}]}}}`.
//!
//! Busy time is computed from the stored events that are not cancelled and
//! not `transparency: "transparent"`, plus the account's pre-seeded and
//! added busy blocks, merged and clipped to the range. Any account of the
//! sandbox can be queried (as if free/busy were shared in a domain); an
//! unknown id gets `errors: [{domain: "global", reason: "notFound"}]`.
//! Needs `calendar`, `calendar.readonly` or `calendar.freebusy`: a token with
//! only `calendar.events` gets 403 `insufficientPermissions`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use super::errors::GoogleError;
use super::events::{event_interval, parse_rfc3339};
use super::{has_any, GoogleSandbox, SCOPE_CALENDAR, SCOPE_CALENDAR_READONLY, SCOPE_FREEBUSY};

const FREEBUSY_SCOPES: &[&str] = &[SCOPE_CALENDAR, SCOPE_CALENDAR_READONLY, SCOPE_FREEBUSY];

/// Merge overlapping or touching intervals (input in any order).
pub(crate) fn merge_intervals(
    mut v: Vec<(DateTime<Utc>, DateTime<Utc>)>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    v.sort();
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn format_in(t: DateTime<Utc>, tz: Option<Tz>) -> String {
    match tz {
        Some(tz) if tz != Tz::UTC => t
            .with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        _ => t.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// `POST /calendar/v3/freeBusy`.
pub(super) async fn query(
    State(sandbox): State<GoogleSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let (info, account) = sandbox.authenticate(&headers)?;
        if !has_any(&info, FREEBUSY_SCOPES) {
            return Err(GoogleError::insufficient_permissions());
        }
        let req: Value = serde_json::from_slice(&body).map_err(|_| GoogleError::parse_error())?;
        let time = |name: &str| {
            req.get(name)
                .and_then(Value::as_str)
                .and_then(parse_rfc3339)
                .ok_or_else(|| GoogleError::required(name))
        };
        let time_min = time("timeMin")?;
        let time_max = time("timeMax")?;
        if time_max <= time_min {
            return Err(GoogleError::time_range_empty("timeMax"));
        }
        let tz = match req.get("timeZone").and_then(Value::as_str) {
            None => None,
            Some(name) => Some(
                name.parse::<Tz>()
                    .map_err(|_| GoogleError::invalid("Invalid time zone."))?,
            ),
        };
        let items = req
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let st = sandbox.state.lock();
        let mut calendars = Map::new();
        for item in &items {
            let Some(id) = item.get("id").and_then(Value::as_str) else {
                continue;
            };
            let target = if id == "primary" {
                Some(&account)
            } else {
                sandbox.account_by_email(id)
            };
            let Some(target) = target else {
                calendars.insert(
                    id.to_owned(),
                    json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}),
                );
                continue;
            };
            let mut blocks: Vec<(DateTime<Utc>, DateTime<Utc>)> = target.busy.clone();
            if let Some(extra) = st.busy.get(&target.email.to_ascii_lowercase()) {
                blocks.extend(extra.iter().copied());
            }
            if let Some(events) = st.events.get(&target.sub) {
                blocks.extend(
                    events
                        .values()
                        .filter(|e| e.status() != "cancelled")
                        .filter(|e| e.resource["transparency"].as_str() != Some("transparent"))
                        .filter_map(|e| event_interval(&e.resource, &target.time_zone)),
                );
            }
            let busy: Vec<Value> = merge_intervals(
                blocks
                    .into_iter()
                    .filter(|(s, e)| *e > time_min && *s < time_max && e > s)
                    .map(|(s, e)| (s.max(time_min), e.min(time_max)))
                    .collect(),
            )
            .into_iter()
            .map(|(s, e)| json!({"start": format_in(s, tz), "end": format_in(e, tz)}))
            .collect();
            calendars.insert(id.to_owned(), json!({"busy": busy}));
        }
        Ok(json!({
            "kind": "calendar#freeBusy",
            "timeMin": format_in(time_min, tz),
            "timeMax": format_in(time_max, tz),
            "calendars": calendars,
        }))
    })();
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}
