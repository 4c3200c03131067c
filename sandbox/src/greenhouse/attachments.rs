//! `POST /v3/attachments`, and attachments sent inline with an
//! application: `{filename*, type*, content (Base64) | url, content_type
//! (required with content)}` (v1's documented shape; the v3 body is NOT
//! verified). Answer `201 {id, application_id, filename, type,
//! content_type, url, created_at}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use serde_json::{json, Map, Value};

use super::auth::Grant;
use super::data::Ts;
use super::harvest::HarvestError;
use super::records::{Attachment, Records};
use super::writes::{body_object, created, empty_validation, optional_id, required_str};
use super::{GreenhouseSandbox, SCOPE_ATTACHMENTS_CREATE};

/// Attachment types v1 documents.
const ATTACHMENT_TYPES: &[&str] = &[
    "resume",
    "cover_letter",
    "admin_only",
    "offer_packet",
    "offer_letter",
    "take_home_test",
];

/// Validate and store inline or posted attachments of `application_id`.
pub(crate) fn take_attachments(
    records: &mut Records,
    gh: &GreenhouseSandbox,
    application_id: u64,
    list: &[Value],
) -> Result<Vec<Attachment>, HarvestError> {
    let mut out = Vec::new();
    for item in list {
        let obj = item
            .as_object()
            .ok_or_else(|| HarvestError::validation("attachments", "must be objects"))?;
        out.push(attachment_from(gh, application_id, obj)?);
    }
    records.attachments.extend(out.iter().cloned());
    Ok(out)
}

fn attachment_from(
    gh: &GreenhouseSandbox,
    application_id: u64,
    obj: &Map<String, Value>,
) -> Result<Attachment, HarvestError> {
    let mut err = empty_validation();
    let filename = required_str(obj, "filename", &mut err);
    let kind = required_str(obj, "type", &mut err);
    if !kind.is_empty() && !ATTACHMENT_TYPES.contains(&kind.as_str()) {
        err = err.with(
            "type",
            &format!("must be one of: {}", ATTACHMENT_TYPES.join(", ")),
        );
    }
    let url = obj.get("url").and_then(Value::as_str).map(str::to_owned);
    let content_type = obj
        .get("content_type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut content = Vec::new();
    match (obj.get("content").and_then(Value::as_str), &url) {
        (Some(b64), _) => match STANDARD.decode(b64.trim()) {
            Ok(bytes) if !bytes.is_empty() => content = bytes,
            _ => err = err.with("content", "must be non-empty Base64"),
        },
        (None, Some(_)) => {}
        (None, None) => err = err.with("content", "content or url is required"),
    }
    if url.is_none() && content_type.is_none() {
        err = err.with("content_type", "is required when uploading content");
    }
    if err.has_errors() {
        return Err(err);
    }
    Ok(Attachment {
        id: gh.next_id(),
        application_id,
        filename,
        kind,
        content_type,
        content,
        url,
    })
}

/// `POST /v3/attachments`.
pub(crate) async fn post_attachment(
    State(gh): State<GreenhouseSandbox>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    if !grant.has(SCOPE_ATTACHMENTS_CREATE) {
        return HarvestError::forbidden(SCOPE_ATTACHMENTS_CREATE).into_response();
    }
    let obj = match body_object(&body) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let application_id = match optional_id(&obj, "application_id") {
        Ok(Some(id)) => id,
        Ok(None) => {
            return HarvestError::validation("application_id", "is required").into_response()
        }
        Err(e) => return e.into_response(),
    };
    let mut records = gh.inner.records.lock();
    if !records.applications.contains_key(&application_id) {
        return HarvestError::validation("application_id", "application not found").into_response();
    }
    match take_attachments(&mut records, &gh, application_id, &[Value::Object(obj)]) {
        Ok(mut list) => {
            let a = list.remove(0);
            created(json!({
                "id": a.id,
                "application_id": a.application_id,
                "filename": a.filename,
                "type": a.kind,
                "content_type": a.content_type,
                "url": a.url,
                "created_at": Ts(Utc::now()),
            }))
        }
        Err(e) => e.into_response(),
    }
}
