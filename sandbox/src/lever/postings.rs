//! Lever's public Postings API (`api.lever.co/v0/postings`,
//! `api.eu.lever.co/v0/postings`), from Lever's `postings-api` README
//! (verified):
//! - `GET /v0/postings/{site}?mode=json&skip=&limit=` with the filters
//!   `location`, `commitment`, `team`, `department`, `level` (repeat to OR)
//!   and `group` (`location`, `commitment`, `team`: `[{title, postings}]`);
//!   only published postings; a JSON array (or, without `mode=json` and
//!   without `Accept: application/json`, an HTML list);
//! - `GET /v0/postings/{site}/{id}`: one published posting;
//! - `POST /v0/postings/{site}/{id}?key=`: apply, JSON, form or multipart
//!   (resume only as the multipart `resume` file); `name` and `email`
//!   (with an `@`) required; `200 {"ok": true, "applicationId"}`, errors
//!   `{"ok": false, "error"}`; more than 2 applications a second per site
//!   answer 429. Candidates merge on email.
//!
//! NOT verified: the statuses of an unknown site (404), a bad key (401)
//! and a bad field (400).

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::data::{Posting, PostingState};
use super::opportunities::{LeverApi, NewOpportunity, ReceivedFile};
use super::LeverSandbox;
use crate::multipart;
use crate::request::{content_type, query_pairs};

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"ok": false, "error": message}))).into_response()
}

fn category<'a>(p: &'a Posting, key: &str) -> Option<&'a str> {
    let c = &p.categories;
    match key {
        "location" => c.location.as_deref(),
        "commitment" => c.commitment.as_deref(),
        "team" => c.team.as_deref(),
        "department" => c.department.as_deref(),
        "level" => c.level.as_deref(),
        _ => None,
    }
}

/// `GET /v0/postings/{site}`.
pub(crate) async fn list(
    State(lv): State<LeverSandbox>,
    Path(site): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if site != lv.config().site {
        return error(StatusCode::NOT_FOUND, "Document not found");
    }
    let pairs = query_pairs(uri.query());
    let mut filters: HashMap<&str, Vec<&str>> = HashMap::new();
    let (mut skip, mut limit, mut group, mut mode) = (0usize, usize::MAX, None, None);
    for (k, v) in &pairs {
        match k.as_str() {
            "skip" | "limit" => {
                let Ok(n) = v.parse::<usize>() else {
                    return error(StatusCode::BAD_REQUEST, &format!("invalid {k}"));
                };
                if k == "skip" {
                    skip = n
                } else {
                    limit = n
                }
            }
            "group" => group = Some(v.as_str()),
            "mode" => mode = Some(v.as_str()),
            key @ ("location" | "commitment" | "team" | "department" | "level") => {
                filters.entry(key).or_default().push(v.as_str());
            }
            _ => {}
        }
    }
    let wants_json = match mode {
        Some(m) => m == "json",
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json")),
    };
    let store = lv.inner.store.read();
    let selected: Vec<&Posting> = store
        .by_seq
        .values()
        .filter(|p| p.state == PostingState::Published)
        .filter(|p| {
            filters
                .iter()
                .all(|(key, wanted)| category(p, key).is_some_and(|v| wanted.contains(&v)))
        })
        .skip(skip)
        .take(limit)
        .collect();
    let site = &lv.config().site;
    if !wants_json {
        let items: String = selected
            .iter()
            .map(|p| {
                format!(
                    "<li><a href=\"https://jobs.lever.co/{site}/{}\">{}</a></li>",
                    p.id,
                    crate::greenhouse::job_board::entity_escape(&p.text)
                )
            })
            .collect();
        return Html(format!("<div class='lever'><ul>{items}</ul></div>")).into_response();
    }
    if let Some(by) = group.filter(|g| ["location", "commitment", "team"].contains(g)) {
        let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
        for p in &selected {
            let title = category(p, by).unwrap_or("").to_owned();
            match groups.iter_mut().find(|(t, _)| *t == title) {
                Some((_, list)) => list.push(p.v0_json(site)),
                None => groups.push((title, vec![p.v0_json(site)])),
            }
        }
        let body: Vec<Value> = groups
            .into_iter()
            .map(|(title, postings)| json!({"title": title, "postings": postings}))
            .collect();
        return Json(body).into_response();
    }
    let body: Vec<Value> = selected.iter().map(|p| p.v0_json(site)).collect();
    Json(body).into_response()
}

/// `GET /v0/postings/{site}/{id}`.
pub(crate) async fn one(
    State(lv): State<LeverSandbox>,
    Path((site, id)): Path<(String, String)>,
) -> Response {
    let store = lv.inner.store.read();
    match store.get(&id) {
        Some(p) if site == lv.config().site && p.state == PostingState::Published => {
            Json(p.v0_json(&site)).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, "Document not found"),
    }
}

/// Put `key[sub]=value` under `fields[key][sub]`, other keys as they are.
fn insert_field(fields: &mut Map<String, Value>, key: &str, value: String) {
    if let Some((outer, rest)) = key.split_once('[') {
        if let Some(inner) = rest.strip_suffix(']') {
            let entry = fields.entry(outer.to_owned()).or_insert_with(|| json!({}));
            if let Value::Object(map) = entry {
                map.insert(inner.to_owned(), Value::String(value));
                return;
            }
        }
    }
    fields.insert(key.to_owned(), Value::String(value));
}

/// The apply body's fields and the resume file.
fn read_body(ct: &str, body: &[u8]) -> Option<(Map<String, Value>, Option<ReceivedFile>, bool)> {
    let mut fields = Map::new();
    if multipart::is_multipart(ct) {
        let mut resume = None;
        for part in multipart::parse(ct, body)? {
            match part.filename.clone() {
                Some(filename) if part.name == "resume" => {
                    resume = Some(ReceivedFile {
                        field: part.name.clone(),
                        filename,
                        content_type: part.content_type.clone(),
                        data: part.data,
                    })
                }
                Some(_) => {}
                None => insert_field(&mut fields, &part.name, part.text()),
            }
        }
        return Some((fields, resume, true));
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            insert_field(&mut fields, &k, v.into_owned());
        }
        return Some((fields, None, false));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Some((m, None, false)),
        _ => None,
    }
}

/// `POST /v0/postings/{site}/{id}?key=`.
pub(crate) async fn apply(
    State(lv): State<LeverSandbox>,
    Path((site, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = query_pairs(uri.query());
    let key_ok = pairs
        .iter()
        .any(|(k, v)| k == "key" && *v == lv.config().postings_api_key);
    if !key_ok {
        return error(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    let published = lv
        .inner
        .store
        .read()
        .get(&id)
        .is_some_and(|p| p.state == PostingState::Published);
    if site != lv.config().site || !published {
        return error(StatusCode::NOT_FOUND, "Document not found");
    }
    if !lv.inner.apply_rate.take(&site, Instant::now()) {
        return error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    }
    let Some((fields, resume, is_multipart)) = read_body(content_type(&headers), &body) else {
        return error(StatusCode::BAD_REQUEST, "Could not parse the request body");
    };
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let Some(name) = text("name") else {
        return error(StatusCode::BAD_REQUEST, "Missing required field: name");
    };
    let Some(email) = text("email").filter(|e| e.contains('@')) else {
        return error(StatusCode::BAD_REQUEST, "Missing or invalid field: email");
    };
    let links = fields
        .get("urls")
        .and_then(Value::as_object)
        .map(|m| {
            m.values()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let new = NewOpportunity {
        name,
        headline: text("org"),
        emails: vec![email],
        phones: text("phone")
            .map(|p| json!({"value": p}))
            .into_iter()
            .collect(),
        links,
        tags: Vec::new(),
        sources: text("source").into_iter().collect(),
        origin: Some("applied".to_owned()),
        postings: vec![id],
        performed_by: None,
        via: LeverApi::PostingsApi,
        resume,
        files: Vec::new(),
        fields: Value::Object(fields),
        multipart: is_multipart,
    };
    let mut records = lv.inner.records.lock();
    let (i, _) = records.create(new);
    let application_id = records.opportunities[i].applications.first().cloned();
    Json(json!({"ok": true, "applicationId": application_id})).into_response()
}
