//! What a caller hands to [`super::OutboundHttp::send`] and what it gets back.

use std::time::Duration;

use bytes::Bytes;
use reqwest::{header::HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ProviderError;

/// A provider's own reading of an error answer (status 400 or more), asked
/// before [`super::classify_status`]: `Some` replaces the shared
/// classification, `None` keeps it. For providers whose throttling answers
/// are not 429/503 (WhatsApp's rate-limit codes come in a 400 body).
/// Arguments: provider name, status, body, parsed `Retry-After`.
pub type Classifier = fn(
    provider: &str,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Option<ProviderError>;

/// Who is called and how carefully.
#[derive(Clone, Copy, Debug)]
pub struct ProviderCall<'a> {
    /// Provider name (`linkedin`, `google`, `greenhouse`, ...): selects policy,
    /// breaker and budget.
    pub provider: &'a str,
    /// What the call is for (`token`, `userinfo`, `create_event`): a metrics label.
    pub operation: &'a str,
    /// An opaque id of the credential the call spends budget of, such as a
    /// connection id; never a token.
    pub credential_key: Option<&'a str>,
    /// Whether repeating the request is harmless. Non-idempotent calls are
    /// retried only when the request certainly did not reach the server, or on
    /// 429/503 with `Retry-After`.
    pub idempotent: bool,
    /// Hand 4xx answers that are not worth retrying back as responses instead
    /// of errors, for protocols whose error bodies the caller parses itself
    /// (OAuth token endpoints answer `invalid_grant` in a 400 body).
    pub pass_client_errors: bool,
    /// The provider's own classification of error answers, asked first
    /// (see [`Classifier`]); `None` for the shared one alone.
    pub classifier: Option<Classifier>,
}

impl<'a> ProviderCall<'a> {
    /// An idempotent call (GET, PUT, DELETE, or a POST with an idempotency key).
    pub fn idempotent(provider: &'a str, operation: &'a str) -> Self {
        Self {
            provider,
            operation,
            credential_key: None,
            idempotent: true,
            pass_client_errors: false,
            classifier: None,
        }
    }

    /// A call that must not be repeated once it may have reached the server.
    pub fn non_idempotent(provider: &'a str, operation: &'a str) -> Self {
        Self {
            idempotent: false,
            ..Self::idempotent(provider, operation)
        }
    }

    /// The same call, answering non-retryable 4xx as a response (see
    /// [`ProviderCall::pass_client_errors`]).
    pub fn passing_client_errors(self) -> Self {
        Self {
            pass_client_errors: true,
            ..self
        }
    }

    /// The same call, classifying error answers with `classifier` first.
    pub fn with_classifier(self, classifier: Classifier) -> Self {
        Self {
            classifier: Some(classifier),
            ..self
        }
    }

    /// The same call, spending the budget of `key`.
    pub fn with_credential(self, key: &'a str) -> Self {
        Self {
            credential_key: Some(key),
            ..self
        }
    }

    /// The same call, spending the budget of `key` when there is one (else
    /// the provider's shared budget).
    pub fn with_optional_credential(self, key: Option<&'a str>) -> Self {
        Self {
            credential_key: key,
            ..self
        }
    }
}

/// A successful (status below 400) answer, read in full.
#[derive(Clone, Debug)]
pub struct ProviderResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers (pagination links, rate-limit counters).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// Attempts it took, the successful one included.
    pub attempts: u32,
    /// Time from the first attempt to the end of the last, waits included.
    pub elapsed: Duration,
}

impl ProviderResponse {
    /// The body parsed as JSON; the error names the problem's category and
    /// position, never the body's content.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|e| ProviderError::Decode {
            message: format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            )
            .to_lowercase(),
        })
    }

    /// A header's value, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_do_not_echo_the_body() {
        let response = ProviderResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(br#"{"access_token": "s3cr3t"}"#),
            attempts: 1,
            elapsed: Duration::ZERO,
        };
        let err = response.json::<Vec<u32>>().unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
        let value: serde_json::Value = response.json().unwrap();
        assert_eq!(value["access_token"], "s3cr3t");
    }
}
