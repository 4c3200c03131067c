//! LinkedIn's API error bodies (`status`, `serviceErrorCode`, `code`,
//! `message`), as documented or seen in real traffic.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::AccessTokenStatus;

/// One error answer of the LinkedIn API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    status: StatusCode,
    service_error_code: Option<u32>,
    code: Option<&'static str>,
    message: String,
}

impl ApiError {
    fn new(
        status: StatusCode,
        service_error_code: Option<u32>,
        code: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            service_error_code,
            code,
            message: message.into(),
        }
    }

    /// No `Authorization` header (documented body of the error-handling page).
    pub(super) fn empty_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            Some(401),
            None,
            "Empty oauth2_access_token",
        )
    }

    /// 401 65600: unknown token.
    pub(super) fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            Some(65600),
            Some("INVALID_ACCESS_TOKEN"),
            "Invalid access token",
        )
    }

    /// 401 65601: the member or the app revoked the token.
    pub(super) fn revoked_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            Some(65601),
            Some("REVOKED_ACCESS_TOKEN"),
            "The token used in the request has been revoked by the user",
        )
    }

    /// 401 65602: past its 60 days.
    pub(super) fn expired_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            Some(65602),
            Some("EXPIRED_ACCESS_TOKEN"),
            "The token used in the request has expired",
        )
    }

    /// 403: the token lacks a scope (`resource` as in `userinfo.GET.NO_VERSION`).
    pub(super) fn access_denied(resource: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            Some(100),
            Some("ACCESS_DENIED"),
            format!("Not enough permissions to access: {resource}"),
        )
    }

    /// 400: no `LinkedIn-Version` header on a `/rest` call.
    pub(super) fn version_missing() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            None,
            Some("VERSION_MISSING"),
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        )
    }

    /// 426: a version that is not (or no longer) active.
    pub(super) fn nonexistent_version(version: &str) -> Self {
        Self::new(
            StatusCode::UPGRADE_REQUIRED,
            None,
            Some("NONEXISTENT_VERSION"),
            format!("Requested version {version} is not active"),
        )
    }

    /// 400 for a malformed query (sandbox wording; LinkedIn's is not documented).
    pub(super) fn illegal_argument(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            None,
            Some("ILLEGAL_ARGUMENT"),
            message,
        )
    }

    /// 404: the end of a snapshot, or no data at all.
    pub(super) fn no_data() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            None,
            Some("NOT_FOUND"),
            "No data found for this memberId",
        )
    }

    /// The 401 for a token that is not [`AccessTokenStatus::Active`].
    pub(super) fn for_status(status: &AccessTokenStatus) -> Self {
        match status {
            AccessTokenStatus::Expired => Self::expired_token(),
            AccessTokenStatus::Revoked => Self::revoked_token(),
            AccessTokenStatus::Active(_) | AccessTokenStatus::Unknown => Self::invalid_token(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("status".to_owned(), json!(self.status.as_u16()));
        if let Some(code) = self.service_error_code {
            body.insert("serviceErrorCode".to_owned(), json!(code));
        }
        if let Some(code) = self.code {
            body.insert("code".to_owned(), json!(code));
        }
        body.insert("message".to_owned(), json!(self.message));
        (self.status, Json(Value::Object(body))).into_response()
    }
}
