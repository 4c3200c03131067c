//! The answer to a path no route serves: a gRPC caller gets a real gRPC
//! answer (`UNIMPLEMENTED`, trailers-only), anyone else a plain 404.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// Whether a request says it is gRPC or grpc-web by its content type.
pub fn is_grpc(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// Fallback of the whole router.
pub async fn unknown_path(request: Request) -> Response {
    if !is_grpc(&request) {
        return StatusCode::NOT_FOUND.into_response();
    }
    // answer in the caller's framing; grpc-web clients read a trailers-only
    // status from the headers just as gRPC clients do
    let content_type = match request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes())
    {
        Some(v) if v.starts_with(b"application/grpc-web-text") => "application/grpc-web-text",
        Some(v) if v.starts_with(b"application/grpc-web") => "application/grpc-web+proto",
        _ => "application/grpc",
    };
    let mut response = Response::new(Body::empty());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        "grpc-status",
        HeaderValue::from(tonic::Code::Unimplemented as i32),
    );
    headers.insert(
        "grpc-message",
        HeaderValue::from_static("unknown%20service"),
    );
    response
}
