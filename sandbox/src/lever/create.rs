//! `POST /v1/opportunities?perform_as=<user id>` and
//! `GET /v1/opportunities/{id}` (third-party shapes, NOT verified).
//!
//! JSON `{name*, headline, location, emails [], phones [{value, type}],
//! links [], tags [], sources [], origin, postings ["<one id>"]}` or
//! `multipart/form-data` with the same fields (lists as repeated
//! `emails[]`, `links[]`, `tags[]`, `sources[]`, `postings[]`; `phones[]`
//! as JSON `{"value"}` or a bare number), a `resumeFile` file part and
//! `files[]` parts. `perform_as` must name a configured user (400
//! otherwise, the sandbox's reading of "required"); more than one posting,
//! an unknown posting, a bad `origin` or no `name` is a 400 too. Answer
//! `201 {"data": opportunity}`; an email already known reuses its contact.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::data_api::LeverError;
use super::opportunities::{LeverApi, NewOpportunity, ReceivedFile};
use super::LeverSandbox;
use crate::multipart;
use crate::request::{content_type, query_pairs};

/// `origin` values Lever documents (per third-party SDKs).
pub const ORIGINS: &[&str] = &[
    "agency",
    "applied",
    "internal",
    "referred",
    "sourced",
    "university",
];

const LISTS: &[&str] = &["emails", "links", "tags", "sources", "postings", "phones"];

/// A multipart body read: fields, the resume, other files.
type Parsed = (Map<String, Value>, Option<ReceivedFile>, Vec<ReceivedFile>);

/// Multipart parts as JSON-like fields (lists for [`LISTS`]) and files.
fn read_multipart(ct: &str, body: &[u8]) -> Option<Parsed> {
    let mut fields = Map::new();
    let mut resume = None;
    let mut files = Vec::new();
    for part in multipart::parse(ct, body)? {
        let name = part.name.trim_end_matches("[]").to_owned();
        if let Some(filename) = part.filename.clone() {
            let file = ReceivedFile {
                field: part.name.clone(),
                filename,
                content_type: part.content_type.clone(),
                data: part.data,
            };
            if name == "resumeFile" {
                resume = Some(file);
            } else {
                files.push(file);
            }
            continue;
        }
        let text = part.text();
        if LISTS.contains(&name.as_str()) {
            let value = if name == "phones" {
                serde_json::from_str::<Value>(&text)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({"value": text}))
            } else {
                Value::String(text)
            };
            match fields.entry(name).or_insert_with(|| json!([])) {
                Value::Array(list) => list.push(value),
                other => *other = json!([value]),
            }
        } else {
            fields.insert(name, Value::String(text));
        }
    }
    Some((fields, resume, files))
}

fn strings(fields: &Map<String, Value>, key: &str) -> Result<Vec<String>, LeverError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| LeverError::bad_request(format!("{key} must be strings")))
            })
            .collect(),
        Some(_) => Err(LeverError::bad_request(format!("{key} must be an array"))),
    }
}

fn text(fields: &Map<String, Value>, key: &str) -> Option<String> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `POST /v1/opportunities`.
pub(crate) async fn create_opportunity(
    State(lv): State<LeverSandbox>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = query_pairs(uri.query());
    let perform_as = pairs
        .iter()
        .find(|(k, _)| k == "perform_as")
        .map(|(_, v)| v.clone());
    let Some(perform_as) = perform_as.filter(|p| lv.config().users.iter().any(|u| &u.id == p))
    else {
        return LeverError::bad_request("perform_as must be the id of a Lever user")
            .into_response();
    };
    let ct = content_type(&headers).to_owned();
    let (fields, resume, files, is_multipart) = if multipart::is_multipart(&ct) {
        match read_multipart(&ct, &body) {
            Some((f, r, files)) => (f, r, files, true),
            None => return LeverError::bad_request("malformed multipart body").into_response(),
        }
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => (m, None, Vec::new(), false),
            _ => return LeverError::bad_request("body must be a JSON object").into_response(),
        }
    };
    match new_opportunity(&lv, fields, perform_as, resume, files, is_multipart) {
        Ok(new) => {
            let mut records = lv.inner.records.lock();
            let (i, _) = records.create(new);
            let data = records.opportunities[i].json();
            (StatusCode::CREATED, Json(json!({"data": data}))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn new_opportunity(
    lv: &LeverSandbox,
    fields: Map<String, Value>,
    perform_as: String,
    resume: Option<ReceivedFile>,
    files: Vec<ReceivedFile>,
    multipart: bool,
) -> Result<NewOpportunity, LeverError> {
    let name = text(&fields, "name").ok_or_else(|| LeverError::bad_request("name is required"))?;
    let emails = strings(&fields, "emails")?;
    if let Some(bad) = emails.iter().find(|e| !e.contains('@')) {
        return Err(LeverError::bad_request(format!("invalid email: {bad}")));
    }
    let postings = strings(&fields, "postings")?;
    if postings.len() > 1 {
        return Err(LeverError::bad_request("only one posting may be given"));
    }
    if let Some(id) = postings.first() {
        if lv.inner.store.read().get(id).is_none() {
            return Err(LeverError::bad_request(format!(
                "posting {id} does not exist"
            )));
        }
    }
    let origin = text(&fields, "origin");
    if let Some(o) = origin.as_deref().filter(|o| !ORIGINS.contains(o)) {
        return Err(LeverError::bad_request(format!("invalid origin: {o}")));
    }
    let phones = match fields.get("phones") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list))
            if list
                .iter()
                .all(|p| p.get("value").is_some_and(Value::is_string)) =>
        {
            list.clone()
        }
        Some(_) => return Err(LeverError::bad_request("phones must be [{value, type}]")),
    };
    Ok(NewOpportunity {
        name,
        headline: text(&fields, "headline"),
        emails,
        phones,
        links: strings(&fields, "links")?,
        tags: strings(&fields, "tags")?,
        sources: strings(&fields, "sources")?,
        origin,
        postings,
        performed_by: Some(perform_as),
        via: LeverApi::DataApi,
        resume,
        files,
        fields: Value::Object(fields),
        multipart,
    })
}

/// `GET /v1/opportunities/{id}`.
pub(crate) async fn get_opportunity(
    State(lv): State<LeverSandbox>,
    Path(id): Path<String>,
) -> Response {
    match lv.opportunity(&id) {
        Some(o) => Json(json!({"data": o.json()})).into_response(),
        None => LeverError::not_found("Opportunity").into_response(),
    }
}
