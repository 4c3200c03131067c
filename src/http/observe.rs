//! Middleware tracing every request (a span and an `x-request-id` echoed in
//! the answer), counting and timing those the gRPC meter does not (the shim,
//! unknown paths), and the CORS policy of browser (grpc-web) callers.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::{
    grpc::{
        self, fallback,
        meter::{self, MeteredMark},
        methods::{self, MethodSet},
    },
    metrics::Metrics,
    telemetry::request::{
        is_grpc_server_fault, Outcome, RequestId, RequestTrace, Transport, REQUEST_ID_HEADER,
    },
};

/// What the outer middleware needs: where to record, and the served methods
/// (the closed set a span's `method` comes from).
pub struct Observer {
    metrics: Metrics,
    methods: MethodSet,
}

impl Observer {
    /// An observer recording into `metrics`, naming only `methods`.
    pub fn new(metrics: Metrics, methods: MethodSet) -> Arc<Self> {
        Arc::new(Self { metrics, methods })
    }

    /// The span's method: a served RPC's path, else a shim route template,
    /// else `unknown` (as the metrics label them).
    fn method_label(&self, path: &str, route: Option<&MatchedPath>) -> Arc<str> {
        let served = self.methods.label(path);
        if &*served != methods::UNKNOWN {
            return served;
        }
        match route {
            Some(route) if !grpc::is_service_route(route.as_str()) => Arc::from(route.as_str()),
            _ => served,
        }
    }
}

/// Opens the request's span (the gRPC meter ends it for gRPC calls), echoes
/// its request id, and records what the gRPC meter did not: HTTP by route
/// template (never the raw path, which may hold ids) and status, a gRPC
/// request to a path no route serves as method `unknown` with its real code;
/// anything else `unknown`.
pub async fn record(
    State(observer): State<Arc<Observer>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let mark = MeteredMark::default();
    let id = RequestId::of(request.headers());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let transport = transport(&request);
    let trace = RequestTrace::start(
        &id,
        &observer.method_label(request.uri().path(), route.as_ref()),
        transport,
    );
    let span = trace.span().clone();
    request.extensions_mut().insert(mark.clone());
    request.extensions_mut().insert(trace.clone());
    let mut response = next.run(request).instrument(span).await;
    response
        .headers_mut()
        .insert(REQUEST_ID_HEADER, id.header_value());
    if mark.is_set() {
        return response;
    }
    let elapsed = started.elapsed();
    let status = response.status();
    let http_outcome = Outcome {
        code: status.as_str(),
        server_fault: status.is_server_error(),
    };
    let metrics = &observer.metrics;
    match route {
        Some(route) => {
            metrics.record_request("http", route.as_str(), status.as_str(), elapsed);
            trace.finish(http_outcome);
        }
        None if transport != Transport::Http => {
            let code = meter::head_code(status, response.headers()).unwrap_or(tonic::Code::Unknown);
            metrics.record_request("grpc", methods::UNKNOWN, meter::code_name(code), elapsed);
            trace.finish(Outcome {
                code: meter::code_name(code),
                server_fault: is_grpc_server_fault(code),
            });
        }
        None => {
            metrics.record_request("http", methods::UNKNOWN, status.as_str(), elapsed);
            trace.finish(http_outcome);
        }
    }
    response
}

/// grpc-web or gRPC by the content type (as the fallback tells them), else HTTP.
fn transport(request: &Request) -> Transport {
    if !fallback::is_grpc(request) {
        return Transport::Http;
    }
    let web = request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc-web"));
    if web {
        Transport::GrpcWeb
    } else {
        Transport::Grpc
    }
}

/// CORS for grpc-web: only the configured origins, the headers grpc-web sends,
/// and the gRPC status headers exposed to scripts.
pub fn cors(allowed_origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("x-user-agent"),
            HeaderName::from_static("grpc-timeout"),
            REQUEST_ID_HEADER,
        ])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
            REQUEST_ID_HEADER,
        ])
        .max_age(std::time::Duration::from_secs(3600))
}
