//! Lever's Data API (`api.lever.co/v1`, `api.eu.lever.co/v1`): HTTP Basic
//! with the API key as user name and a blank password (verified, LV-DOCS;
//! the password is not checked here), then the rate limit, in front of:
//! - `GET /v1/postings[?state=...][&limit=&offset=]`, `GET /v1/postings/{id}`,
//!   `GET /v1/postings/{id}/apply` (the application form);
//! - `GET /v1/users`, `GET /v1/stages`, `GET /v1/archive_reasons`;
//! - `POST /v1/opportunities?perform_as=`, `GET /v1/opportunities/{id}` ([`super::create`]).
//!
//! Lists (third-party, NOT verified): `limit` 1..=100 (default 100),
//! `offset` = the previous page's opaque `next`, filters repeated with it;
//! answer `{"data": [...], "hasNext", "next"}` (`next` absent on the last
//! page). Errors `{"code", "message"}`: 401 `UNAUTHORIZED`, 400
//! `BadRequestError`, 404 `ResourceNotFound`, 429 `TooManyRequests` (the
//! body shape is NOT verified).

use std::time::Instant;

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::data::PostingState;
use super::opportunities::{ARCHIVE_REASONS, STAGES};
use super::LeverSandbox;
use crate::request::{basic_credentials, query_pairs};

/// Largest `limit`.
pub const MAX_LIMIT: usize = 100;

/// A Data API error answer.
#[derive(Debug, Clone)]
pub(crate) struct LeverError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl LeverError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequestError",
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "ResourceNotFound",
            message: format!("{what} not found"),
        }
    }

    fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "UNAUTHORIZED",
            message: "Invalid API key".to_owned(),
        }
    }
}

impl IntoResponse for LeverError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

/// In front of every `/v1/` route: the API key, then its token bucket.
pub(crate) async fn guard(State(lv): State<LeverSandbox>, req: Request, next: Next) -> Response {
    let key = basic_credentials(req.headers())
        .map(|(user, _)| user)
        .filter(|user| lv.config().api_keys.iter().any(|k| k == user));
    let Some(key) = key else {
        return LeverError::unauthorized().into_response();
    };
    if !lv.inner.rate.take(&key, Instant::now()) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"code": "TooManyRequests", "message": "Rate limit exceeded"})),
        )
            .into_response();
    }
    next.run(req).await
}

/// `limit` and the position after which to start (from `offset`).
pub(crate) fn page_params(pairs: &[(String, String)]) -> Result<(usize, Option<u64>), LeverError> {
    let mut limit = MAX_LIMIT;
    let mut after = None;
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| LeverError::bad_request("limit must be between 1 and 100"))?;
            }
            "offset" => {
                after = Some(
                    decode_offset(v).ok_or_else(|| LeverError::bad_request("invalid offset"))?,
                )
            }
            _ => {}
        }
    }
    Ok((limit, after))
}

fn encode_offset(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("nextke-sandbox:{position}"))
}

fn decode_offset(text: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("nextke-sandbox:")?
        .parse()
        .ok()
}

/// `{data, hasNext, next}`; `last` is the position of the last item served
/// when more remain.
pub(crate) fn list_body(data: Vec<Value>, last: Option<u64>) -> Response {
    let mut body = json!({"data": data, "hasNext": last.is_some()});
    if let Some(pos) = last {
        body["next"] = json!(encode_offset(pos));
    }
    Json(body).into_response()
}

/// `GET /v1/postings`.
pub(crate) async fn list_postings(State(lv): State<LeverSandbox>, uri: Uri) -> Response {
    let pairs = query_pairs(uri.query());
    let (limit, after) = match page_params(&pairs) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut states = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "state") {
        match PostingState::parse(v) {
            Some(s) => states.push(s),
            None => return LeverError::bad_request(format!("invalid state: {v}")).into_response(),
        }
    }
    if let Some(fault) = lv.inner.pages.on_request(after.is_none()) {
        return fault.response(json!({"code": "ServiceUnavailable", "message": "try again"}));
    }
    let site = &lv.config().site;
    let store = lv.inner.store.read();
    let start = after.map_or(0, |a| a + 1);
    let mut data = Vec::with_capacity(limit);
    let mut last = None;
    for (seq, p) in store.by_seq.range(start..) {
        if !states.is_empty() && !states.contains(&p.state) {
            continue;
        }
        if data.len() == limit {
            return list_body(data, last);
        }
        data.push(p.v1_json(site));
        last = Some(*seq);
    }
    list_body(data, None)
}

/// `GET /v1/postings/{id}`.
pub(crate) async fn get_posting(
    State(lv): State<LeverSandbox>,
    Path(id): Path<String>,
) -> Response {
    match lv.inner.store.read().get(&id) {
        Some(p) => Json(json!({"data": p.v1_json(&lv.config().site)})).into_response(),
        None => LeverError::not_found("Posting").into_response(),
    }
}

/// `GET /v1/postings/{id}/apply`: the application form (shape third-party,
/// NOT verified): `{data: {id, text, customQuestions [{id, text, fields
/// [{type, text, required, options [{text}]}]}], personalInformation
/// [{name, text, type, required}], urls [{name, required}], eeoQuestions}}`.
pub(crate) async fn apply_form(State(lv): State<LeverSandbox>, Path(id): Path<String>) -> Response {
    let store = lv.inner.store.read();
    let Some(p) = store.get(&id) else {
        return LeverError::not_found("Posting").into_response();
    };
    let personal = json!([
        {"name": "fullName", "text": "Full name", "type": "text", "required": true},
        {"name": "email", "text": "Email", "type": "email", "required": true},
        {"name": "phone", "text": "Phone", "type": "text", "required": false},
        {"name": "resume", "text": "Resume/CV", "type": "file-upload", "required": true},
        {"name": "currentLocation", "text": "Current location", "type": "text", "required": false},
    ]);
    Json(json!({"data": {
        "id": p.id,
        "text": p.text,
        "customQuestions": [{
            "id": super::generate::posting_id(u64::MAX),
            "text": "Application questions",
            "fields": [
                {"type": "multiple-choice", "text": "Are you authorized to work in the country of this job?",
                 "required": true, "options": [{"text": "Yes"}, {"text": "No"}]},
                {"type": "text", "text": "LinkedIn profile", "required": false, "options": []},
            ],
        }],
        "personalInformation": personal,
        "urls": [{"name": "LinkedIn", "required": false}, {"name": "GitHub", "required": false}],
        "eeoQuestions": {},
    }}))
    .into_response()
}

/// `GET /v1/users`.
pub(crate) async fn list_users(State(lv): State<LeverSandbox>, uri: Uri) -> Response {
    let (limit, after) = match page_params(&query_pairs(uri.query())) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let users = &lv.config().users;
    let start = after.map_or(0, |a| a as usize + 1);
    let end = (start + limit).min(users.len());
    let data = users
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|u| {
            json!({"id": u.id, "name": u.name, "username": u.email.split('@').next(),
                   "email": u.email, "accessRole": u.access_role, "photo": null,
                   "createdAt": 1_735_689_600_000i64, "deactivatedAt": null,
                   "externalDirectoryId": null, "linkedContactIds": []})
        })
        .collect();
    let last = (end < users.len()).then(|| end as u64 - 1);
    list_body(data, last)
}

/// `GET /v1/stages`.
pub(crate) async fn list_stages() -> Response {
    let data = STAGES
        .iter()
        .map(|(id, text)| json!({"id": id, "text": text}))
        .collect();
    list_body(data, None)
}

/// `GET /v1/archive_reasons`.
pub(crate) async fn list_archive_reasons() -> Response {
    let data = ARCHIVE_REASONS
        .iter()
        .map(|(id, text, kind)| json!({"id": id, "text": text, "status": "active", "type": kind}))
        .collect();
    list_body(data, None)
}
