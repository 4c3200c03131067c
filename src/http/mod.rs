//! The small HTTP shim beside gRPC: health, readiness, metrics, the OAuth
//! pages and callbacks, and the ATS webhooks.

mod ats_webhook;
mod error;
mod health;
mod oauth_pages;
pub mod observe;

use std::sync::Arc;

use axum::{
    extract::DefaultBodyLimit,
    routing::{get, post},
    Router,
};

use crate::{
    context::AppContext,
    domain::{ats, connections::Integration},
};

/// The shim's routes.
pub fn router(ctx: Arc<AppContext>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(
            &format!("{}/{{integration_id}}", ats::WEBHOOK_PATH),
            post(ats_webhook::receive).layer(DefaultBodyLimit::max(ats::webhooks::MAX_BODY)),
        );
    // every OAuth integration's pages are the same two handlers
    for integration in Integration::ALL {
        router = router
            .route(
                integration.start_path(),
                get(move |state, headers, query| {
                    oauth_pages::start_page(integration, state, headers, query)
                }),
            )
            .route(
                integration.callback_path(),
                get(move |state, headers, query| {
                    oauth_pages::callback(integration, state, headers, query)
                }),
            );
    }
    router.with_state(ctx)
}
