//! Middleware counting and timing every request, gRPC and HTTP alike, and the
//! CORS policy of browser (grpc-web) callers.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::metrics::Metrics;

/// Records one request in `metrics`: gRPC by method and status code, HTTP by
/// route template (never the raw path, which may hold ids) and status.
pub async fn record(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let is_grpc = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    let route = if is_grpc {
        request.uri().path().to_owned()
    } else {
        request
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "unmatched".to_owned())
    };
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    if is_grpc {
        // Errors come trailers-only, with grpc-status in the headers; a unary
        // success carries status 0 in the trailers.
        let code = response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
            .map(tonic::Code::from_i32)
            .unwrap_or(tonic::Code::Ok);
        metrics.record_request("grpc", &route, &format!("{code:?}"), elapsed);
    } else {
        metrics.record_request("http", &route, response.status().as_str(), elapsed);
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
