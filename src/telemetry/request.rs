//! Request tracing: one span per RPC and shim request, with a request id the
//! caller may give (`x-request-id`) and the answer always echoes.
//!
//! The span (target [`TARGET`], level INFO) carries `request_id`, `method`
//! (a closed label: a served RPC, a shim route template or `unknown`, never a
//! raw path), `transport` (`grpc`, `grpc-web`, `http`), then `code` (the value
//! the metrics record: a gRPC code name or an HTTP status) and `duration_ms`
//! once the request ends. Everything the service logs while serving the
//! request runs inside it. At the end one event, `request finished`, is
//! emitted at DEBUG, or at WARN for a server fault (gRPC `Unknown`,
//! `Internal`, `Unavailable`, `DataLoss`; HTTP 5xx). No header but the
//! request id, no query string and no body is ever recorded.

use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue};
use tracing::{field::Empty, Level, Span};

/// The header a request id arrives in and is echoed in.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The tracing target of request spans and their end events; filter it with
/// `RUST_LOG` (e.g. `info,nextke_integrations::request=debug` logs every
/// request's end).
pub const TARGET: &str = "nextke_integrations::request";
/// Longest request id taken from a caller.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// A request's id: the caller's when it is short and safe, else a new UUID v7.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The caller's id when it is 1 to [`MAX_REQUEST_ID_LEN`] characters of
    /// `[A-Za-z0-9._-]`, else `None`.
    pub fn parse(given: &[u8]) -> Option<Self> {
        let safe = !given.is_empty()
            && given.len() <= MAX_REQUEST_ID_LEN
            && given
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !safe {
            return None;
        }
        HeaderValue::from_bytes(given).ok().map(Self)
    }

    /// A new id (UUID v7: unique, sortable by time).
    pub fn generate() -> Self {
        let mut buffer = uuid::Uuid::encode_buffer();
        let text = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buffer);
        // a hyphenated uuid is always a valid header value
        Self(HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("unknown")))
    }

    /// The id of a request with these headers: the first `x-request-id` when
    /// it is safe, else a new one.
    pub fn of(headers: &HeaderMap) -> Self {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| Self::parse(v.as_bytes()))
            .unwrap_or_else(Self::generate)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // only ASCII of the safe set is ever stored
        self.0.to_str().unwrap_or_default()
    }

    /// The id as a header value, to echo.
    pub fn header_value(&self) -> HeaderValue {
        self.0.clone()
    }
}

/// How a request arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Native gRPC (HTTP/2).
    Grpc,
    /// grpc-web (browsers).
    GrpcWeb,
    /// Anything else: the shim, unknown paths.
    Http,
}

impl Transport {
    /// Its name in the span.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::GrpcWeb => "grpc-web",
            Transport::Http => "http",
        }
    }
}

/// How a finished request went, as the metrics record it.
#[derive(Clone, Copy, Debug)]
pub struct Outcome<'a> {
    /// The gRPC code name (`Ok`, `NotFound`...) or the HTTP status (`200`...).
    pub code: &'a str,
    /// Whether the server failed (logged at WARN) rather than the caller.
    pub server_fault: bool,
}

/// The span of one request and when it began; a request extension, so the
/// gRPC meter, which learns the real code, can end it.
#[derive(Clone, Debug)]
pub struct RequestTrace {
    span: Span,
    started: Instant,
}

impl RequestTrace {
    /// Opens the span of a request.
    pub fn start(id: &RequestId, method: &str, transport: Transport) -> Self {
        let span = tracing::info_span!(
            target: TARGET,
            "request",
            request_id = id.as_str(),
            method,
            transport = transport.as_str(),
            code = Empty,
            duration_ms = Empty,
        );
        Self {
            span,
            started: Instant::now(),
        }
    }

    /// The span, to run the request's work in.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the outcome and emits `request finished`.
    pub fn finish(&self, outcome: Outcome<'_>) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let level = if outcome.server_fault {
            Level::WARN
        } else {
            Level::DEBUG
        };
        if self.span.is_disabled() {
            // no span to carry the fields (filtered out): the event does
            emit(level, &self.span, Some((outcome.code, duration_ms)));
            return;
        }
        self.span.record("code", outcome.code);
        self.span.record("duration_ms", duration_ms);
        emit(level, &self.span, None);
    }
}

fn emit(level: Level, span: &Span, fields: Option<(&str, f64)>) {
    macro_rules! at {
        ($level:expr) => {
            match fields {
                Some((code, duration_ms)) => tracing::event!(
                    target: TARGET, parent: span, $level, code, duration_ms, "request finished"
                ),
                None => tracing::event!(target: TARGET, parent: span, $level, "request finished"),
            }
        };
    }
    if level == Level::WARN {
        at!(Level::WARN);
    } else {
        at!(Level::DEBUG);
    }
}

/// Whether a gRPC code is the server's failure rather than the caller's.
pub fn is_grpc_server_fault(code: tonic::Code) -> bool {
    use tonic::Code::{DataLoss, Internal, Unavailable, Unknown};
    matches!(code, Unknown | Internal | Unavailable | DataLoss)
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::{RequestId, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};

    #[test]
    fn safe_ids_are_kept_and_others_replaced() {
        for kept in ["abc", "A-b_c.9", &"x".repeat(MAX_REQUEST_ID_LEN)] {
            assert_eq!(
                RequestId::parse(kept.as_bytes()).map(|id| id.as_str().to_owned()),
                Some(kept.to_owned())
            );
        }
        for refused in [
            "",
            &"x".repeat(MAX_REQUEST_ID_LEN + 1),
            "a b",
            "a\"b",
            "Bearer abc",
            "a/b",
            "a=b",
            "é",
        ] {
            assert!(RequestId::parse(refused.as_bytes()).is_none(), "{refused}");
        }
    }

    #[test]
    fn a_missing_or_unsafe_header_gets_a_fresh_uuid() {
        let mut headers = HeaderMap::new();
        let first = RequestId::of(&headers);
        assert!(uuid::Uuid::parse_str(first.as_str()).is_ok());
        assert_ne!(first, RequestId::of(&headers));
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("has space"));
        assert!(uuid::Uuid::parse_str(RequestId::of(&headers).as_str()).is_ok());
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("given-1"));
        assert_eq!(RequestId::of(&headers).as_str(), "given-1");
    }
}
