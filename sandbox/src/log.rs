//! A record of every request a sandbox server received, for assertions in tests.
//!
//! Bodies and query strings can hold secrets (client secrets, codes, refresh
//! tokens), so they are kept for tests to inspect but never shown by `Debug`;
//! of the `Authorization` header only its presence and scheme are kept.

use std::fmt;
use std::sync::Arc;

use axum::http::{header, request::Parts, HeaderName, Method};
use parking_lot::Mutex;

use super::faults::FaultKind;

/// Headers copied into a [`RecordedRequest`]; none of them carries a credential.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "user-agent",
    "linkedin-version",
    "x-restli-protocol-version",
    "x-request-id",
    "idempotency-key",
    "if-match",
    "prefer",
];

/// One received request.
#[derive(Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path without the query string.
    pub path: String,
    /// Raw query string, if any (may hold secrets: never log it).
    pub query: Option<String>,
    /// Body as text (lossy UTF-8; form or JSON bodies; may hold secrets: never log it).
    pub body: String,
    /// Whether an `Authorization` header was present.
    pub has_authorization: bool,
    /// The scheme of the `Authorization` header (`Bearer`, `Basic`), never its credentials.
    pub authorization_scheme: Option<String>,
    /// Selected non-secret headers (lowercase names), see `KEPT_HEADERS`.
    pub headers: Vec<(HeaderName, String)>,
    /// The fault that answered this request, if any.
    pub fault: Option<FaultKind>,
}

impl RecordedRequest {
    pub(crate) fn from_parts(parts: &Parts, body: &[u8], fault: Option<FaultKind>) -> Self {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let headers = KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = parts.headers.get(*name)?.to_str().ok()?;
                Some((HeaderName::from_static(name), value.to_owned()))
            })
            .collect();
        Self {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            body: String::from_utf8_lossy(body).into_owned(),
            has_authorization: parts.headers.contains_key(header::AUTHORIZATION),
            authorization_scheme: auth
                .and_then(|a| a.split_whitespace().next())
                .map(str::to_owned),
            headers,
            fault,
        }
    }

    /// The value of a kept header (`name` in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    /// One field of the form body.
    pub fn form_field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The query string parsed into pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query and body are left out on purpose: they can carry secrets.
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("has_query", &self.query.is_some())
            .field("body_len", &self.body.len())
            .field("authorization_scheme", &self.authorization_scheme)
            .field("headers", &self.headers)
            .field("fault", &self.fault)
            .finish()
    }
}

/// Every request a sandbox server received, in arrival order. Cloneable; all
/// clones share the same record.
#[derive(Clone, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl RequestLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&self, req: RecordedRequest) {
        self.inner.lock().push(req);
    }

    /// How many requests with this method and exact path were received.
    pub fn count(&self, method: Method, path: &str) -> usize {
        self.inner
            .lock()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// A copy of every recorded request.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().clone()
    }

    /// The recorded requests with this method and exact path.
    pub fn matching(&self, method: Method, path: &str) -> Vec<RecordedRequest> {
        self.inner
            .lock()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .cloned()
            .collect()
    }

    /// The most recent request.
    pub fn last(&self) -> Option<RecordedRequest> {
        self.inner.lock().last().cloned()
    }

    /// How many requests were recorded.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.inner.lock().is_empty()
    }

    /// Forget every recorded request.
    pub fn clear(&self) {
        self.inner.lock().clear();
    }
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLog")
            .field("len", &self.len())
            .finish()
    }
}
