//! The small HTTP shim beside gRPC: health, readiness, metrics (and, with
//! later issues, OAuth callbacks and ATS webhooks).

mod error;
mod health;
mod oauth_pages;
pub mod observe;

use std::sync::Arc;

use axum::{routing::get, Router};

use crate::{context::AppContext, domain::connections::Integration};

/// The shim's routes.
pub fn router(ctx: Arc<AppContext>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));
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
