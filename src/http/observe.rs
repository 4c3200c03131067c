//! Middleware counting and timing every request the gRPC meter does not (the
//! shim, unknown paths), and the CORS policy of browser (grpc-web) callers.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    grpc::{
        fallback,
        meter::{self, MeteredMark},
        methods,
    },
    metrics::Metrics,
};

/// Records one request the gRPC meter did not: HTTP by route template (never
/// the raw path, which may hold ids) and status, a gRPC request to a path no
/// route serves as method `unknown` with its real code; anything else `unknown`.
pub async fn record(State(metrics): State<Metrics>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mark = MeteredMark::default();
    request.extensions_mut().insert(mark.clone());
    let is_grpc = fallback::is_grpc(&request);
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    if mark.is_set() {
        return response;
    }
    let elapsed = started.elapsed();
    match route {
        Some(route) => {
            metrics.record_request("http", route.as_str(), response.status().as_str(), elapsed)
        }
        None if is_grpc => {
            let code = meter::head_code(response.status(), response.headers())
                .unwrap_or(tonic::Code::Unknown);
            metrics.record_request("grpc", methods::UNKNOWN, meter::code_name(code), elapsed);
        }
        None => metrics.record_request(
            "http",
            methods::UNKNOWN,
            response.status().as_str(),
            elapsed,
        ),
    }
    response
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
        ])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(std::time::Duration::from_secs(3600))
}
