//! `POST /v1/boards/{board_token}/jobs/{id}`: the Job Board API's apply
//! (GH-DOCS job-board applications, verified unless said otherwise).
//!
//! HTTP Basic with the board's API key as user name (the password is not
//! checked); JSON or `multipart/form-data`. Checked as documented:
//! `first_name`, `last_name`, `email` required and at most 255 characters,
//! no URL in names or `phone`, a valid email; resume and cover letter as a
//! file part, `*_content` + `*_content_filename` (Base64), `*_url` +
//! `*_url_filename` or `*_text`; files pdf, doc, docx, txt or rtf and not
//! empty. Required custom questions are NOT checked (Greenhouse does not).
//! Success answers `200 {"success": "Candidate saved successfully"}` and a
//! bad key `401`, a failed check `422 {"message", "errors"}`: none of these
//! answers is documented. Each application becomes a candidate and an
//! application of the post's job (stage "Application Review").

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use serde_json::{json, Map, Value};

use super::harvest::HarvestError;
use super::job_board::{board_exists, listed, not_found, INTERNAL_BOARD};
use super::records::{ApplicationOrigin, Attachment, BoardApplication, Candidate};
use super::writes::create_application;
use super::GreenhouseSandbox;
use crate::multipart;
use crate::request::{basic_credentials, content_type};

/// File extensions the apply endpoint accepts (documented).
pub const ALLOWED_EXTENSIONS: &[&str] = &["pdf", "doc", "docx", "txt", "rtf"];

struct File {
    field: String,
    filename: String,
    content_type: Option<String>,
    data: Vec<u8>,
}

fn allowed_file(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| ALLOWED_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

fn has_url(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("http://") || s.contains("https://") || s.contains("www.")
}

/// `local@domain.tld` without spaces.
fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Multipart text parts as fields (repeated names become arrays) and file parts.
fn read_multipart(ct: &str, body: &[u8]) -> Option<(Map<String, Value>, Vec<File>)> {
    let mut fields = Map::new();
    let mut files = Vec::new();
    for part in multipart::parse(ct, body)? {
        if let Some(filename) = part.filename.clone() {
            files.push(File {
                field: part.name,
                filename,
                content_type: part.content_type,
                data: part.data,
            });
            continue;
        }
        let text = Value::String(part.text());
        match fields.get_mut(&part.name) {
            Some(Value::Array(list)) => list.push(text),
            Some(existing) => *existing = Value::Array(vec![existing.take(), text]),
            None if part.name.ends_with("[]") => {
                fields.insert(part.name, Value::Array(vec![text]));
            }
            None => {
                fields.insert(part.name, text);
            }
        }
    }
    Some((fields, files))
}

/// Decode `<name>_content` + `<name>_content_filename` fields into files.
fn content_files(fields: &Map<String, Value>, err: &mut HarvestError) -> Vec<File> {
    let mut files = Vec::new();
    for (key, value) in fields {
        let Some(base) = key.strip_suffix("_content") else {
            continue;
        };
        let filename_key = format!("{key}_filename");
        let Some(filename) = fields.get(&filename_key).and_then(Value::as_str) else {
            *err = err
                .clone()
                .with(&filename_key, "is required with the content");
            continue;
        };
        match value.as_str().map(|v| STANDARD.decode(v.trim())) {
            Some(Ok(data)) => files.push(File {
                field: base.to_owned(),
                filename: filename.to_owned(),
                content_type: None,
                data,
            }),
            _ => *err = err.clone().with(key, "must be Base64"),
        }
    }
    files
}

fn check_fields(fields: &Map<String, Value>, files: &[File], err: &mut HarvestError) {
    let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or("").trim();
    for key in ["first_name", "last_name", "email"] {
        let v = text(key);
        if v.is_empty() {
            *err = err.clone().with(key, "is required");
        } else if v.chars().count() > 255 {
            *err = err.clone().with(key, "must be at most 255 characters");
        }
    }
    for key in ["first_name", "last_name", "phone"] {
        if has_url(text(key)) {
            *err = err.clone().with(key, "must not contain a URL");
        }
    }
    let email = text("email");
    if !email.is_empty() && !valid_email(email) {
        *err = err.clone().with("email", "must be a valid email address");
    }
    for f in files {
        if !allowed_file(&f.filename) {
            let msg = format!("must be one of: {}", ALLOWED_EXTENSIONS.join(", "));
            *err = err.clone().with(&f.field, &msg);
        } else if f.data.is_empty() {
            *err = err.clone().with(&f.field, "must not be empty");
        }
    }
    for key in fields.keys() {
        if key.ends_with("_url") && !fields.contains_key(&format!("{key}_filename")) {
            *err = err
                .clone()
                .with(&format!("{key}_filename"), "is required with the URL");
        }
    }
}

/// `POST /v1/boards/{board_token}/jobs/{id}`.
pub(crate) async fn apply(
    State(gh): State<GreenhouseSandbox>,
    Path((token, post_id)): Path<(String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key_ok = basic_credentials(&headers).is_some_and(|(user, _)| {
        gh.config()
            .boards
            .iter()
            .any(|b| b.api_key == user && (b.token == token || token == INTERNAL_BOARD))
    });
    if !key_ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"status": 401, "error": "Invalid Basic Auth credentials"})),
        )
            .into_response();
    }
    if !board_exists(&gh, &token) {
        return not_found("Job board");
    }
    let ct = content_type(&headers).to_owned();
    let (fields, mut files, is_multipart) = if multipart::is_multipart(&ct) {
        match read_multipart(&ct, &body) {
            Some((f, files)) => (f, files, true),
            None => {
                return HarvestError::new(StatusCode::BAD_REQUEST, "Malformed multipart body")
                    .into_response()
            }
        }
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => (m, Vec::new(), false),
            _ => {
                return HarvestError::new(
                    StatusCode::BAD_REQUEST,
                    "The body must be JSON or multipart",
                )
                .into_response()
            }
        }
    };
    let mut err = HarvestError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation error");
    files.extend(content_files(&fields, &mut err));
    check_fields(&fields, &files, &mut err);
    if err.has_errors() {
        return err.into_response();
    }
    let store = gh.inner.store.read();
    let Some(post) = store.posts.get(&post_id) else {
        return not_found("Job");
    };
    let job = post.job_id.and_then(|j| store.jobs.get(&j));
    if !listed(&token, post, job) {
        return not_found("Job");
    }
    let mut records = gh.inner.records.lock();
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let candidate_id = gh.next_id();
    records.candidates.insert(
        candidate_id,
        Candidate {
            id: candidate_id,
            first_name: text("first_name"),
            last_name: text("last_name"),
            emails: vec![text("email")],
            body: Value::Object(fields.clone()),
            created_at: Utc::now(),
            application_ids: Vec::new(),
            acting_user_id: None,
        },
    );
    let application_id = match post.job_id {
        Some(job_id) => create_application(
            &gh,
            &store,
            &mut records,
            candidate_id,
            job_id,
            None,
            None,
            ApplicationOrigin::JobBoard,
            Value::Object(fields.clone()),
        )
        .ok(),
        None => None,
    };
    let attachments: Vec<Attachment> = files
        .into_iter()
        .map(|f| Attachment {
            id: gh.next_id(),
            application_id: application_id.unwrap_or(0),
            filename: f.filename,
            kind: f.field,
            content_type: f.content_type,
            content: f.data,
            url: None,
        })
        .collect();
    if application_id.is_some() {
        records.attachments.extend(attachments.iter().cloned());
    }
    records.board_applications.push(BoardApplication {
        board_token: token,
        job_post_id: post_id,
        fields: Value::Object(fields),
        files: attachments,
        multipart: is_multipart,
        application_id,
    });
    Json(json!({"success": "Candidate saved successfully"})).into_response()
}
