//! Harvest v3 (`harvest.greenhouse.io/v3/`): the bearer check and rate
//! limit in front of every route, and the list endpoints `GET /v3/jobs`,
//! `GET /v3/job_posts`, `GET /v3/applications`.
//!
//! List bodies are JSON arrays, as in v1 (the v3 body is NOT verified).
//! Errors: `{"message"}` (401 bad or expired token, 403 missing scope, 404),
//! `422 {"message": "Validation error", "errors": [{"message", "field"}]}`
//! (v1's documented validation body; v3's NOT verified). A missing scope
//! answering 403 comes from a third-party guide.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::json;

use super::auth::Grant;
use super::cursor::{self, Cursor, ListQuery};
use super::data::Job;
use super::posts::JobPost;
use super::rate_limit::Verdict;
use super::records::Application;
use super::{GreenhouseSandbox, SCOPE_APPLICATIONS_LIST, SCOPE_JOBS_LIST, SCOPE_JOB_POSTS_LIST};
use crate::request::{origin, query_pairs};

/// A Harvest error answer.
#[derive(Debug, Clone)]
pub(crate) struct HarvestError {
    status: StatusCode,
    message: String,
    errors: Vec<(String, String)>,
}

impl HarvestError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// `422` for one field.
    pub(crate) fn validation(field: &str, message: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation error").with(field, message)
    }

    /// Add one `{message, field}` to `errors`.
    pub(crate) fn with(mut self, field: &str, message: &str) -> Self {
        self.errors.push((field.to_owned(), message.to_owned()));
        self
    }

    /// `403` for a missing scope.
    pub(crate) fn forbidden(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            format!("This API credential does not have the {scope} scope"),
        )
    }

    /// Whether any field error was added.
    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

impl IntoResponse for HarvestError {
    fn into_response(self) -> Response {
        let mut body = json!({"message": self.message});
        if !self.errors.is_empty() {
            body["errors"] = self
                .errors
                .iter()
                .map(|(field, message)| json!({"message": message, "field": field}))
                .collect();
        }
        (self.status, Json(body)).into_response()
    }
}

/// In front of every `/v3/` route: the bearer token, then the rate limit;
/// the grant goes on to the handler as an extension.
pub(crate) async fn guard(
    State(gh): State<GreenhouseSandbox>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(grant) = gh.inner.tokens.check(req.headers()) else {
        return HarvestError::new(StatusCode::UNAUTHORIZED, "Invalid or expired access token")
            .into_response();
    };
    let verdict = gh.inner.rate.hit(&grant.client_id, Instant::now());
    if let Verdict::Limited { .. } = verdict {
        let mut resp =
            HarvestError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded").into_response();
        verdict.write_headers(resp.headers_mut());
        return resp;
    }
    req.extensions_mut().insert(grant);
    let mut resp = next.run(req).await;
    verdict.write_headers(resp.headers_mut());
    resp
}

/// Up to `per_page` values after `after` passing `keep`, and the last id
/// served when more remain.
fn page<'a, T>(
    map: &'a BTreeMap<u64, T>,
    q: &ListQuery,
    keep: impl Fn(&T) -> bool,
) -> (Vec<&'a T>, Option<u64>) {
    let start = q.after.map_or(Bound::Unbounded, Bound::Excluded);
    let per_page = q.per_page as usize;
    let mut items = Vec::with_capacity(per_page.min(map.len()));
    let mut last = None;
    for (id, value) in map.range((start, Bound::Unbounded)) {
        if !keep(value) {
            continue;
        }
        if items.len() == per_page {
            return (items, last);
        }
        items.push(value);
        last = Some(*id);
    }
    (items, None)
}

/// A JSON array answer with a `Link: <...>; rel="next"` when more remain.
fn list_response<T: Serialize>(
    endpoint: &str,
    items: &[T],
    next_after: Option<u64>,
    q: &ListQuery,
    base: &str,
) -> Response {
    let body = match serde_json::to_vec(items) {
        Ok(b) => b,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut resp = Response::new(axum::body::Body::from(body));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(after) = next_after {
        let cursor = Cursor {
            e: endpoint.to_owned(),
            f: q.filters.clone(),
            n: q.per_page,
            a: after,
        };
        let link = format!(
            "<{base}/v3/{endpoint}?cursor={}>; rel=\"next\"",
            cursor.encode()
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            headers.insert(header::LINK, v);
        }
    }
    resp
}

/// `GET /v3/jobs` (scope `harvest:jobs:list`).
pub(crate) async fn list_jobs(
    State(gh): State<GreenhouseSandbox>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !grant.has(SCOPE_JOBS_LIST) {
        return HarvestError::forbidden(SCOPE_JOBS_LIST).into_response();
    }
    let q = match cursor::parse(
        "jobs",
        &query_pairs(uri.query()),
        &["open", "closed", "draft"],
    ) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    if let Some(fault) = gh.inner.pages.on_request(q.after.is_none()) {
        return fault.response(json!({"message": "Service unavailable"}));
    }
    let f = &q.filters;
    let keep = |j: &Job| {
        f.id_ok(j.id)
            && f.status.as_deref().is_none_or(|s| j.status.as_str() == s)
            && f.updated_ok(j.updated_at)
            && f.created_ok(j.created_at)
    };
    let store = gh.inner.store.read();
    let (items, next) = page(&store.jobs, &q, keep);
    list_response("jobs", &items, next, &q, &origin(&uri, &headers))
}

/// `GET /v3/job_posts` (scope `harvest:job_posts:list`).
pub(crate) async fn list_job_posts(
    State(gh): State<GreenhouseSandbox>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !grant.has(SCOPE_JOB_POSTS_LIST) {
        return HarvestError::forbidden(SCOPE_JOB_POSTS_LIST).into_response();
    }
    let q = match cursor::parse("job_posts", &query_pairs(uri.query()), &[]) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let f = &q.filters;
    let wanted: Option<std::collections::HashSet<u64>> =
        f.job_ids.as_ref().map(|ids| ids.iter().copied().collect());
    let keep = |p: &JobPost| {
        f.id_ok(p.id)
            && wanted
                .as_ref()
                .is_none_or(|ids| p.job_id.is_some_and(|j| ids.contains(&j)))
            && f.live.is_none_or(|l| p.live == l)
            && f.active.is_none_or(|a| p.active == a)
            && f.internal
                .is_none_or(|i| if i { p.internal } else { p.external })
            && f.updated_ok(p.updated_at)
            && f.created_ok(p.created_at)
    };
    let store = gh.inner.store.read();
    let (items, next) = page(&store.posts, &q, keep);
    list_response("job_posts", &items, next, &q, &origin(&uri, &headers))
}

/// `GET /v3/applications` (scope `harvest:applications:list`; filters
/// `ids`, `job_ids`, `candidate_ids`, `status`, `created_at` (applied),
/// `updated_at` (last activity)).
pub(crate) async fn list_applications(
    State(gh): State<GreenhouseSandbox>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !grant.has(SCOPE_APPLICATIONS_LIST) {
        return HarvestError::forbidden(SCOPE_APPLICATIONS_LIST).into_response();
    }
    let statuses = ["active", "rejected", "hired", "converted"];
    let q = match cursor::parse("applications", &query_pairs(uri.query()), &statuses) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let f = &q.filters;
    let keep = |a: &Application| {
        f.id_ok(a.id)
            && f.job_ids.as_ref().is_none_or(|ids| ids.contains(&a.job_id))
            && f.candidate_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&a.candidate_id))
            && f.status.as_deref().is_none_or(|s| a.status.as_str() == s)
            && f.updated_ok(a.last_activity_at)
            && f.created_ok(a.applied_at)
    };
    let store = gh.inner.store.read();
    let records = gh.inner.records.lock();
    let (items, next) = page(&records.applications, &q, keep);
    let items: Vec<_> = items
        .into_iter()
        .map(|a| {
            let name = store.jobs.get(&a.job_id).map_or("", |j| j.name.as_str());
            records.harvest_json(a, name)
        })
        .collect();
    list_response("applications", &items, next, &q, &origin(&uri, &headers))
}
