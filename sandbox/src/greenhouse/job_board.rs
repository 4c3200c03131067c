//! The Job Board API (`boards-api.greenhouse.io/v1/boards/{board_token}`),
//! shapes from GH-DOCS job-board (verified):
//! - `GET /v1/boards/{t}` → `{name, content}`;
//! - `GET /v1/boards/{t}/jobs[?content=true]` → `{jobs: [{id (post),
//!   internal_job_id, title, updated_at, requisition_id, location {name},
//!   absolute_url, language, metadata}], meta: {total}}`, `content=true`
//!   adding `content` (entity-escaped HTML), `departments`, `offices`;
//! - `GET /v1/boards/{t}/jobs/{id}[?questions=true][&pay_transparency=true]`
//!   adds `questions [{required, label, fields [{name, type, values}]}]`,
//!   `data_compliance` and `pay_input_ranges`;
//! - `POST /v1/boards/{t}/jobs/{id}` apply, in [`super::apply`].
//!
//! A board lists the live, active posts of open jobs (and prospect posts):
//! external ones on every configured board, internal ones on the board
//! token `internal`. No pagination (documented: the whole list). Error
//! bodies (`404 {"status", "error"}`) are NOT verified.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::data::{Department, Job, JobStatus, Office};
use super::posts::{JobPost, Question, QuestionType};
use super::GreenhouseSandbox;

/// The board token for internal posts (documented).
pub const INTERNAL_BOARD: &str = "internal";

/// `&`, `<`, `>`, `"`, `'` as HTML entities: how the Job Board API sends `content`.
pub fn entity_escape(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    for c in html.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"status": 404, "error": format!("{what} not found")})),
    )
        .into_response()
}

/// Whether `token` names a board of this sandbox.
pub(crate) fn board_exists(gh: &GreenhouseSandbox, token: &str) -> bool {
    token == INTERNAL_BOARD || gh.config().boards.iter().any(|b| b.token == token)
}

/// Whether a post is shown on board `token`.
pub(crate) fn listed(token: &str, post: &JobPost, job: Option<&Job>) -> bool {
    let on_board = if token == INTERNAL_BOARD {
        post.internal
    } else {
        post.external
    };
    on_board
        && post.live
        && post.active
        && match (post.job_id, job) {
            (None, _) => true,
            (Some(_), Some(j)) => j.status == JobStatus::Open,
            (Some(_), None) => false,
        }
}

#[derive(Serialize)]
struct BoardDepartment<'a> {
    id: u64,
    name: &'a str,
    parent_id: Option<u64>,
    child_ids: &'a [u64],
}

#[derive(Serialize)]
struct BoardOffice<'a> {
    id: u64,
    name: &'a str,
    location: Option<&'a str>,
    parent_id: Option<u64>,
    child_ids: &'a [u64],
}

#[derive(Serialize)]
struct Location<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct BoardJob<'a> {
    id: u64,
    internal_job_id: Option<u64>,
    title: &'a str,
    updated_at: String,
    requisition_id: Option<&'a str>,
    location: Location<'a>,
    absolute_url: String,
    language: &'static str,
    metadata: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    departments: Option<Vec<BoardDepartment<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offices: Option<Vec<BoardOffice<'a>>>,
}

fn departments(list: &[Department]) -> Vec<BoardDepartment<'_>> {
    list.iter()
        .map(|d| BoardDepartment {
            id: d.id,
            name: &d.name,
            parent_id: d.parent_id,
            child_ids: &d.child_ids,
        })
        .collect()
}

fn offices(list: &[Office]) -> Vec<BoardOffice<'_>> {
    list.iter()
        .map(|o| BoardOffice {
            id: o.id,
            name: &o.name,
            location: o.location.as_deref(),
            parent_id: o.parent_id,
            child_ids: &o.child_ids,
        })
        .collect()
}

fn board_job<'a>(token: &str, post: &'a JobPost, job: Option<&'a Job>, full: bool) -> BoardJob<'a> {
    let metadata = match job.and_then(|j| j.employment_type.as_deref()) {
        Some(et) => json!([{"id": 7_000_001, "name": "Employment Type",
                            "value_type": "single_select", "value": et}]),
        None => Value::Null,
    };
    BoardJob {
        id: post.id,
        internal_job_id: post.job_id,
        title: &post.title,
        updated_at: post.updated_at.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        requisition_id: job.and_then(|j| j.requisition_id.as_deref()),
        location: Location {
            name: &post.location.name,
        },
        absolute_url: format!("https://boards.greenhouse.io/{token}/jobs/{}", post.id),
        language: "en",
        metadata,
        content: full.then(|| entity_escape(&post.content)),
        departments: full.then(|| job.map(|j| departments(&j.departments)).unwrap_or_default()),
        offices: full.then(|| job.map(|j| offices(&j.offices)).unwrap_or_default()),
    }
}

/// `GET /v1/boards/{board_token}`.
pub(crate) async fn board(
    State(gh): State<GreenhouseSandbox>,
    Path(token): Path<String>,
) -> Response {
    if token == INTERNAL_BOARD {
        return Json(json!({"name": "Internal job board", "content": ""})).into_response();
    }
    match gh.config().boards.iter().find(|b| b.token == token) {
        Some(b) => Json(json!({"name": b.name, "content": b.content})).into_response(),
        None => not_found("Job board"),
    }
}

/// `GET /v1/boards/{board_token}/jobs[?content=true]`.
pub(crate) async fn jobs(
    State(gh): State<GreenhouseSandbox>,
    Path(token): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if !board_exists(&gh, &token) {
        return not_found("Job board");
    }
    let full = params.get("content").map(String::as_str) == Some("true");
    let store = gh.inner.store.read();
    let jobs: Vec<BoardJob<'_>> = store
        .posts
        .values()
        .filter_map(|p| {
            let job = p.job_id.and_then(|id| store.jobs.get(&id));
            listed(&token, p, job).then(|| board_job(&token, p, job, full))
        })
        .collect();
    let total = jobs.len();
    #[derive(Serialize)]
    struct Meta {
        total: usize,
    }
    #[derive(Serialize)]
    struct Answer<'a> {
        jobs: Vec<BoardJob<'a>>,
        meta: Meta,
    }
    Json(Answer {
        jobs,
        meta: Meta { total },
    })
    .into_response()
}

/// A Harvest question in the Job Board vocabulary.
fn board_question(q: &Question) -> Value {
    let values = |q: &Question| -> Value {
        q.values
            .iter()
            .map(|v| json!({"value": v.value, "label": v.label}))
            .collect()
    };
    let fields = match q.kind {
        QuestionType::ShortText => json!([{"name": q.name, "type": "input_text"}]),
        QuestionType::LongText => json!([{"name": q.name, "type": "textarea"}]),
        QuestionType::Attachment => json!([
            {"name": q.name, "type": "input_file"},
            {"name": format!("{}_text", q.name), "type": "textarea"},
        ]),
        QuestionType::Boolean | QuestionType::SingleSelect => {
            json!([{"name": q.name, "type": "multi_value_single_select", "values": values(q)}])
        }
        QuestionType::MultiSelect => {
            json!([{"name": q.name, "type": "multi_value_multi_select", "values": values(q)}])
        }
    };
    json!({"required": q.required, "label": q.label, "fields": fields})
}

/// `GET /v1/boards/{board_token}/jobs/{id}[?questions=true][&pay_transparency=true]`.
pub(crate) async fn job(
    State(gh): State<GreenhouseSandbox>,
    Path((token, id)): Path<(String, u64)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if !board_exists(&gh, &token) {
        return not_found("Job board");
    }
    let store = gh.inner.store.read();
    let Some(post) = store.posts.get(&id) else {
        return not_found("Job");
    };
    let job = post.job_id.and_then(|j| store.jobs.get(&j));
    if !listed(&token, post, job) {
        return not_found("Job");
    }
    let mut body = serde_json::to_value(board_job(&token, post, job, true)).unwrap_or_default();
    if params.get("questions").map(String::as_str) == Some("true") {
        body["questions"] = post.questions.iter().map(board_question).collect();
        body["data_compliance"] = json!([{
            "type": "gdpr", "requires_consent": false, "requires_processing_consent": false,
            "requires_retention_consent": false, "retention_period": null,
        }]);
    }
    if params.get("pay_transparency").map(String::as_str) == Some("true") {
        body["pay_input_ranges"] = match job.and_then(|j| j.salary_range.as_ref()) {
            Some(s) => json!([{
                "min_cents": s.min_value * 100, "max_cents": s.max_value * 100,
                "currency_type": s.unit, "title": "Salary range",
                "blurb": "The range we expect to pay for this role.",
            }]),
            None => json!([]),
        };
    }
    Json(body).into_response()
}
