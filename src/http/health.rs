//! Liveness, readiness and the Prometheus endpoint.

use std::sync::Arc;

use axum::{extract::State, response::IntoResponse};

use crate::{context::AppContext, domain::readiness, error::AppError};

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers (else 503 through the one
/// error table).
pub async fn readyz(State(ctx): State<Arc<AppContext>>) -> Result<&'static str, AppError> {
    if readiness::database_ready(&ctx).await {
        Ok("ready")
    } else {
        Err(AppError::Unavailable("database unavailable".to_owned()))
    }
}

/// Prometheus text exposition.
pub async fn metrics(State(ctx): State<Arc<AppContext>>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        ctx.metrics.render(),
    )
}
