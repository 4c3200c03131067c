//! Harvest v3 writes: `POST /v3/candidates`, `POST /v3/applications`
//! (and `POST /v3/attachments` in [`super::attachments`]).
//!
//! The paths are verified (HV3 write migration guide, and third-party
//! capability maps for candidates and attachments); the BODIES ARE NOT:
//! they are v1's documented shapes, v1's `On-Behalf-Of` replaced by the
//! token's `sub`. Candidate `{first_name*, last_name*, company, title,
//! phone_numbers [{value, type}], email_addresses [{value, type}],
//! website_addresses [{value, type}], social_media_addresses [{value}],
//! tags, applications [{job_id, source_id, initial_stage_id, attachments}]}`;
//! application `{candidate_id*, job_id*, source_id, initial_stage_id,
//! attachments}`; attachment `{application_id*, filename*, type*, content
//! (Base64) | url, content_type (required with content)}`. Answers `201`
//! with the created object; bad fields `422` with v1's validation body; an
//! unknown or not open job, candidate or application `422` on its field
//! (the sandbox's choice; Greenhouse may answer 404).

use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use serde_json::{Map, Value};

use super::attachments::take_attachments;
use super::auth::Grant;
use super::data::{JobStatus, Store};
use super::harvest::HarvestError;
use super::records::{
    first_stage, stage_by_id, Application, ApplicationOrigin, ApplicationStatus, Candidate, Records,
};
use super::{GreenhouseSandbox, SCOPE_APPLICATIONS_CREATE, SCOPE_CANDIDATES_CREATE};

/// The body as a JSON object, or `400`.
pub(crate) fn body_object(body: &[u8]) -> Result<Map<String, Value>, HarvestError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(HarvestError::new(
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object",
        )),
    }
}

/// A required non-empty string field; a missing one is added to `err`.
pub(crate) fn required_str(
    obj: &Map<String, Value>,
    field: &str,
    err: &mut HarvestError,
) -> String {
    match obj.get(field).and_then(Value::as_str).map(str::trim) {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => {
            *err = err.clone().with(field, "is required");
            String::new()
        }
    }
}

/// An optional integer id field.
pub(crate) fn optional_id(
    obj: &Map<String, Value>,
    field: &str,
) -> Result<Option<u64>, HarvestError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| HarvestError::validation(field, "must be an integer id")),
    }
}

/// Check `[{value, type}]` lists: every value a string, types from `types`.
fn check_typed_list(
    obj: &Map<String, Value>,
    field: &str,
    types: Option<&[&str]>,
    err: &mut HarvestError,
) {
    let Some(list) = obj.get(field) else { return };
    let Some(items) = list.as_array() else {
        *err = err.clone().with(field, "must be an array");
        return;
    };
    for item in items {
        if item.get("value").and_then(Value::as_str).is_none() {
            *err = err.clone().with(field, "every entry needs a string value");
            return;
        }
        if let Some(types) = types {
            let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
            if !types.contains(&kind) {
                let msg = format!("type must be one of: {}", types.join(", "));
                *err = err.clone().with(field, &msg);
                return;
            }
        }
    }
}

/// A `422` to add field errors to.
pub(crate) fn empty_validation() -> HarvestError {
    HarvestError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation error")
}

/// Store a new application after checking its candidate, job and stage.
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_application(
    gh: &GreenhouseSandbox,
    store: &Store,
    records: &mut Records,
    candidate_id: u64,
    job_id: u64,
    stage_id: Option<u64>,
    source_id: Option<u64>,
    origin: ApplicationOrigin,
    body: Value,
) -> Result<u64, HarvestError> {
    if !records.candidates.contains_key(&candidate_id) {
        return Err(HarvestError::validation(
            "candidate_id",
            "candidate not found",
        ));
    }
    let job = store
        .jobs
        .get(&job_id)
        .ok_or_else(|| HarvestError::validation("job_id", "job not found"))?;
    if job.status != JobStatus::Open {
        return Err(HarvestError::validation("job_id", "job is not open"));
    }
    let stage = match stage_id {
        None => first_stage(),
        Some(id) => stage_by_id(id)
            .ok_or_else(|| HarvestError::validation("initial_stage_id", "stage not found"))?,
    };
    let now = Utc::now();
    let id = gh.next_id();
    records.applications.insert(
        id,
        Application {
            id,
            candidate_id,
            job_id,
            job_post_id: store.post_of(job_id).map(|p| p.id),
            source_id,
            status: ApplicationStatus::Active,
            stage,
            applied_at: now,
            rejected_at: None,
            last_activity_at: now,
            origin,
            body,
            acting_user_id: None,
        },
    );
    if let Some(c) = records.candidates.get_mut(&candidate_id) {
        c.application_ids.push(id);
    }
    Ok(id)
}

/// `201` with this body.
pub(crate) fn created(body: Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

/// Check a candidate body; store the candidate (and its applications).
pub(crate) fn create_candidate(
    gh: &GreenhouseSandbox,
    store: &Store,
    records: &mut Records,
    obj: Map<String, Value>,
) -> Result<u64, HarvestError> {
    let mut err = empty_validation();
    let first_name = required_str(&obj, "first_name", &mut err);
    let last_name = required_str(&obj, "last_name", &mut err);
    let email_types: &[&str] = &["personal", "work", "other"];
    check_typed_list(&obj, "email_addresses", Some(email_types), &mut err);
    let phone_types: &[&str] = &["home", "work", "mobile", "skype", "other"];
    check_typed_list(&obj, "phone_numbers", Some(phone_types), &mut err);
    let web_types: &[&str] = &["personal", "company", "portfolio", "blog", "other"];
    check_typed_list(&obj, "website_addresses", Some(web_types), &mut err);
    check_typed_list(&obj, "social_media_addresses", None, &mut err);
    if err.has_errors() {
        return Err(err);
    }
    let emails = obj
        .get("email_addresses")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|e| e["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let id = gh.next_id();
    let apps = obj.get("applications").cloned();
    records.candidates.insert(
        id,
        Candidate {
            id,
            first_name,
            last_name,
            emails,
            body: Value::Object(obj),
            created_at: Utc::now(),
            application_ids: Vec::new(),
            acting_user_id: None,
        },
    );
    for app in apps
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let result = application_from(gh, store, records, Some(id), app);
        if let Err(e) = result {
            records.candidates.remove(&id);
            return Err(e);
        }
    }
    Ok(id)
}

fn application_from(
    gh: &GreenhouseSandbox,
    store: &Store,
    records: &mut Records,
    candidate_id: Option<u64>,
    body: &Value,
) -> Result<u64, HarvestError> {
    let obj = body
        .as_object()
        .ok_or_else(|| HarvestError::validation("applications", "must be objects"))?;
    let candidate_id = match candidate_id {
        Some(id) => id,
        None => optional_id(obj, "candidate_id")?
            .ok_or_else(|| HarvestError::validation("candidate_id", "is required"))?,
    };
    let job_id = optional_id(obj, "job_id")?
        .ok_or_else(|| HarvestError::validation("job_id", "is required"))?;
    let stage = optional_id(obj, "initial_stage_id")?;
    let source = optional_id(obj, "source_id")?;
    let id = create_application(
        gh,
        store,
        records,
        candidate_id,
        job_id,
        stage,
        source,
        ApplicationOrigin::Harvest,
        body.clone(),
    )?;
    if let Some(list) = obj.get("attachments").and_then(Value::as_array) {
        if let Err(e) = take_attachments(records, gh, id, list) {
            records.applications.remove(&id);
            return Err(e);
        }
    }
    Ok(id)
}

/// Record which user (`sub`) created a candidate (and its applications) or an application.
fn mark_acting_user(
    records: &mut Records,
    candidate: Option<u64>,
    application: Option<u64>,
    user_id: u64,
) {
    let mut apps: Vec<u64> = application.into_iter().collect();
    if let Some(c) = candidate.and_then(|id| records.candidates.get_mut(&id)) {
        c.acting_user_id = Some(user_id);
        apps.extend(c.application_ids.iter().copied());
    }
    for id in apps {
        if let Some(a) = records.applications.get_mut(&id) {
            a.acting_user_id = Some(user_id);
        }
    }
}

/// `POST /v3/candidates`.
pub(crate) async fn post_candidate(
    State(gh): State<GreenhouseSandbox>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    if !grant.has(SCOPE_CANDIDATES_CREATE) {
        return HarvestError::forbidden(SCOPE_CANDIDATES_CREATE).into_response();
    }
    let obj = match body_object(&body) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let store = gh.inner.store.read();
    let mut records = gh.inner.records.lock();
    match create_candidate(&gh, &store, &mut records, obj) {
        Ok(id) => {
            mark_acting_user(&mut records, Some(id), None, grant.user_id);
            let c = &records.candidates[&id];
            created(records.candidate_json(&store, c))
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v3/applications`.
pub(crate) async fn post_application(
    State(gh): State<GreenhouseSandbox>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    if !grant.has(SCOPE_APPLICATIONS_CREATE) {
        return HarvestError::forbidden(SCOPE_APPLICATIONS_CREATE).into_response();
    }
    let obj = match body_object(&body) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let store = gh.inner.store.read();
    let mut records = gh.inner.records.lock();
    match application_from(&gh, &store, &mut records, None, &Value::Object(obj)) {
        Ok(id) => {
            mark_acting_user(&mut records, None, Some(id), grant.user_id);
            let app = &records.applications[&id];
            let name = store.jobs.get(&app.job_id).map_or("", |j| j.name.as_str());
            created(records.harvest_json(app, name))
        }
        Err(e) => e.into_response(),
    }
}

impl GreenhouseSandbox {
    /// A fresh id for a candidate, application or attachment.
    pub(crate) fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
