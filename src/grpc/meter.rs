//! Counting and timing gRPC calls by method and real status code.
//!
//! The meter sits inside grpc-web's translation, so it sees every call as
//! native gRPC: the status is in the headers for trailers-only answers (most
//! errors), else in the body's trailers (successes, streams). The body is
//! wrapped and the call recorded when its trailers arrive, when it ends
//! without them (`Unknown`), or when it is dropped early (`Cancelled`: the
//! client went away). A non-200 answer without a status gets the code gRPC's
//! HTTP-to-gRPC mapping gives it. The request's span (opened by the outer
//! middleware) is ended with the same code, and entered while the body is
//! polled, so a streaming handler's logs carry the request id too.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body::{Body as _, Frame, SizeHint};
use tonic::Code;

use super::methods::MethodSet;
use crate::{
    metrics::Metrics,
    telemetry::request::{is_grpc_server_fault, Outcome, RequestTrace},
};

/// What the gRPC meter needs: where to record, and the served methods.
pub struct Meter {
    metrics: Metrics,
    methods: MethodSet,
}

impl Meter {
    /// A meter recording into `metrics`, labelling only `methods` by name.
    pub fn new(metrics: Metrics, methods: MethodSet) -> Arc<Self> {
        Arc::new(Self { metrics, methods })
    }
}

/// Request extension by which the outer (HTTP) meter learns that the gRPC
/// meter recorded the request, so it is not counted twice.
#[derive(Clone, Debug, Default)]
pub struct MeteredMark(Arc<AtomicBool>);

impl MeteredMark {
    /// Whether the gRPC meter recorded the request carrying this mark.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Middleware on the gRPC routes (inside grpc-web): records each call (and
/// ends its span) once its status is known.
pub async fn record(State(meter): State<Arc<Meter>>, request: Request, next: Next) -> Response {
    if let Some(mark) = request.extensions().get::<MeteredMark>() {
        mark.set();
    }
    let pending = Pending {
        method: meter.methods.label(request.uri().path()),
        started: Instant::now(),
        trace: request.extensions().get::<RequestTrace>().cloned(),
        meter,
    };
    let response = next.run(request).await;
    if let Some(code) = head_code(response.status(), response.headers()) {
        pending.finish(code);
        return response;
    }
    response.map(|inner| {
        Body::new(MeteredBody {
            inner,
            pending: Some(pending),
        })
    })
}

/// The code of a response known from its head alone: `grpc-status` in the
/// headers (trailers-only), else derived from a non-200 HTTP status. `None`
/// when the status comes in the trailers.
pub fn head_code(status: StatusCode, headers: &HeaderMap) -> Option<Code> {
    if let Some(code) = status_header(headers) {
        return Some(code);
    }
    (status != StatusCode::OK).then(|| code_of_http_status(status))
}

/// gRPC's mapping of an HTTP status to a code, for answers without
/// `grpc-status` (doc/http-grpc-status-mapping.md in grpc/grpc).
pub fn code_of_http_status(status: StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// The name of a code as metrics show it (`Ok`, `NotFound`...).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "Ok",
        Code::Cancelled => "Cancelled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

fn status_header(headers: &HeaderMap) -> Option<Code> {
    headers.get("grpc-status").map(
        |v| match v.to_str().ok().and_then(|v| v.parse::<i32>().ok()) {
            Some(n) => Code::from_i32(n),
            None => Code::Unknown,
        },
    )
}

/// A call whose code is not known yet.
struct Pending {
    meter: Arc<Meter>,
    method: Arc<str>,
    started: Instant,
    trace: Option<RequestTrace>,
}

impl Pending {
    fn finish(self, code: Code) {
        self.meter.metrics.record_request(
            "grpc",
            &self.method,
            code_name(code),
            self.started.elapsed(),
        );
        if let Some(trace) = &self.trace {
            trace.finish(Outcome {
                code: code_name(code),
                server_fault: is_grpc_server_fault(code),
            });
        }
    }
}

/// A response body that records its call when the status arrives.
struct MeteredBody {
    inner: Body,
    pending: Option<Pending>,
}

impl MeteredBody {
    fn finish(&mut self, code: Code) {
        if let Some(pending) = self.pending.take() {
            pending.finish(code);
        }
    }
}

impl http_body::Body for MeteredBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let span = this
            .pending
            .as_ref()
            .and_then(|p| p.trace.as_ref())
            .map(|t| t.span().clone());
        let _entered = span.as_ref().map(|s| s.enter());
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.finish(status_header(trailers).unwrap_or(Code::Unknown));
                }
            }
            Poll::Ready(Some(Err(_))) => this.finish(Code::Internal),
            // ended without trailers: no status was sent
            Poll::Ready(None) => this.finish(Code::Unknown),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for MeteredBody {
    fn drop(&mut self) {
        let code = if self.inner.is_end_stream() {
            Code::Unknown
        } else {
            Code::Cancelled
        };
        self.finish(code);
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue, StatusCode};
    use tonic::Code;

    use super::{code_name, head_code};

    #[test]
    fn head_code_reads_grpc_status_then_maps_http() {
        let mut headers = HeaderMap::new();
        assert_eq!(head_code(StatusCode::OK, &headers), None);
        assert_eq!(
            head_code(StatusCode::NOT_FOUND, &headers),
            Some(Code::Unimplemented)
        );
        assert_eq!(
            head_code(StatusCode::SERVICE_UNAVAILABLE, &headers),
            Some(Code::Unavailable)
        );
        assert_eq!(
            head_code(StatusCode::BAD_REQUEST, &headers),
            Some(Code::Internal)
        );
        headers.insert("grpc-status", HeaderValue::from_static("5"));
        assert_eq!(head_code(StatusCode::OK, &headers), Some(Code::NotFound));
        headers.insert("grpc-status", HeaderValue::from_static("nonsense"));
        assert_eq!(head_code(StatusCode::OK, &headers), Some(Code::Unknown));
    }

    #[test]
    fn code_names_match_tonic_debug_names() {
        for n in 0..17 {
            let code = Code::from_i32(n);
            assert_eq!(code_name(code), format!("{code:?}"));
        }
    }
}
