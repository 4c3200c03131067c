//! Google's error body, as the Calendar API's "Handle API errors" guide shows it:
//! `{"error": {"errors": [{"domain", "reason", "message", "locationType", "location"}],
//! "code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// One error answer of a Google API (boxed: errors travel in `Result`s).
#[derive(Debug, Clone)]
pub(crate) struct GoogleError {
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    status: StatusCode,
    domain: &'static str,
    reason: &'static str,
    message: String,
    /// The top-level `message`, when it differs from the item's.
    top_message: Option<String>,
    location: Option<(&'static str, String)>,
}

impl GoogleError {
    pub(crate) fn new(
        status: StatusCode,
        domain: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            inner: Box::new(Inner {
                status,
                domain,
                reason,
                message: message.into(),
                top_message: None,
                location: None,
            }),
        }
    }

    fn at(mut self, location_type: &'static str, location: impl Into<String>) -> Self {
        self.inner.location = Some((location_type, location.into()));
        self
    }

    /// 401 `authError` (documented body).
    pub(crate) fn auth() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "global",
            "authError",
            "Invalid Credentials",
        )
        .at("header", "Authorization")
    }

    /// 403 `insufficientPermissions`: the token lacks the scope. The top-level
    /// message is the one Google's front end sends (seen in client reports).
    pub(crate) fn insufficient_permissions() -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "global",
            "insufficientPermissions",
            "Insufficient Permission",
        );
        e.inner.top_message = Some("Request had insufficient authentication scopes.".to_owned());
        e
    }

    /// 403 `rateLimitExceeded` (documented body).
    pub(crate) fn rate_limit() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "usageLimits",
            "rateLimitExceeded",
            "Rate Limit Exceeded",
        )
    }

    /// 403 `userRateLimitExceeded` (documented body).
    pub(crate) fn user_rate_limit() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "usageLimits",
            "userRateLimitExceeded",
            "User Rate Limit Exceeded",
        )
    }

    /// 404 `notFound`.
    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "global", "notFound", "Not Found")
    }

    /// 409 `duplicate`: an event with this id exists (message as Google sends it).
    pub(crate) fn duplicate() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "global",
            "duplicate",
            "The requested identifier already exists.",
        )
    }

    /// 410 `deleted`: deleting an event that is already cancelled.
    pub(crate) fn deleted() -> Self {
        Self::new(
            StatusCode::GONE,
            "global",
            "deleted",
            "Resource has been deleted",
        )
    }

    /// 400 `invalid` for a client-chosen event id outside base32hex or 5..=1024
    /// characters; this is the body Google really answers ("Invalid resource id
    /// value.", reason `invalid`, seen in many client reports).
    pub(crate) fn invalid_id() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "invalid",
            "Invalid resource id value.",
        )
    }

    /// 400 `required` for a missing field (wording not verified).
    pub(crate) fn required(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "required",
            format!("Missing {field}."),
        )
    }

    /// 400 `invalid` for a malformed field (wording not verified).
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "global", "invalid", message)
    }

    /// 400 `invalidParameter` for a malformed query parameter (wording not verified).
    pub(crate) fn invalid_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "invalidParameter",
            format!("Invalid value for: {name}"),
        )
        .at("parameter", name.to_owned())
    }

    /// 400 `timeRangeEmpty` (documented body).
    pub(crate) fn time_range_empty(location: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "calendar",
            "timeRangeEmpty",
            "The specified time range is empty.",
        )
        .at("parameter", location.to_owned())
    }

    /// 400 `parseError` for a body that is not JSON.
    pub(crate) fn parse_error() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "parseError",
            "Parse Error",
        )
    }
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        let this = *self.inner;
        let mut item = Map::new();
        item.insert("domain".to_owned(), json!(this.domain));
        item.insert("reason".to_owned(), json!(this.reason));
        item.insert("message".to_owned(), json!(this.message));
        if let Some((kind, location)) = &this.location {
            item.insert("locationType".to_owned(), json!(kind));
            item.insert("location".to_owned(), json!(location));
        }
        let body = json!({
            "error": {
                "errors": [Value::Object(item)],
                "code": this.status.as_u16(),
                "message": this.top_message.unwrap_or(this.message),
            }
        });
        let mut resp = (this.status, Json(body)).into_response();
        if this.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(
                    "Bearer realm=\"https://accounts.google.com/\"",
                ),
            );
        }
        resp
    }
}
