//! Domain errors as shim answers: the HTTP half of the one table in
//! [`crate::error`] (`FAILED_PRECONDITION` is 400, as in Google's AIP-193),
//! with `Retry-After` (seconds) on a 503 or a 429 when the wait is known.

use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};

use crate::error::{ceil_secs, AppError};

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let answer = self.answer();
        let mut response = (answer.http, self.public_message()).into_response();
        if let Some(wait) = answer.retry_after {
            if let Ok(value) = HeaderValue::from_str(&ceil_secs(wait).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::StatusCode;

    use super::*;
    use crate::error::FailureKind;

    #[test]
    fn answers_use_the_http_half_of_the_table() {
        let response = AppError::FailedPrecondition("the flag is off".into()).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());

        let open = AppError::provider(
            "linkedin",
            FailureKind::CircuitOpen {
                retry_in: Duration::from_millis(2_500),
            },
            "circuit of linkedin is open",
        )
        .into_response();
        assert_eq!(open.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(open.headers()[header::RETRY_AFTER], "3");

        let internal = AppError::Internal(anyhow::anyhow!("secret detail")).into_response();
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
