//! The small HTTP shim beside gRPC: health, readiness, metrics (and, with
//! later issues, OAuth callbacks and ATS webhooks).

mod error;
mod health;
mod oauth_pages;
pub mod observe;

use std::sync::Arc;

use axum::{routing::get, Router};

use crate::context::AppContext;

/// The shim's routes.
pub fn router(ctx: Arc<AppContext>) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(
            crate::oauth::LINKEDIN_CALLBACK_PATH,
            get(oauth_pages::linkedin_callback),
        )
        .route(
            crate::domain::connections::Integration::LinkedIn.start_path(),
            get(oauth_pages::linkedin_start),
        )
        .with_state(ctx)
}
