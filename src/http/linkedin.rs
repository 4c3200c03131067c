//! `GET /api/v1/integrations/linkedin/callback`: where LinkedIn sends the
//! browser back. Never shows a token: it only redirects.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    response::Redirect,
};

use crate::{
    context::AppContext,
    domain::linkedin::{complete_callback, CallbackParams},
};

/// Completes the connect and redirects to the success or failure page.
pub async fn callback(
    State(ctx): State<Arc<AppContext>>,
    Query(params): Query<CallbackParams>,
) -> Redirect {
    Redirect::to(&complete_callback(&ctx, params).await)
}
