//! `GET /api/v1/integrations/linkedin/callback`: where LinkedIn sends the
//! browser back. Never shows a token: it only redirects, also when the query
//! itself is malformed.

use std::sync::Arc;

use axum::{
    extract::{RawQuery, State},
    response::Redirect,
};

use crate::{context::AppContext, domain::linkedin::complete_callback};

/// Completes the connect and redirects to the success or failure page.
pub async fn callback(State(ctx): State<Arc<AppContext>>, RawQuery(query): RawQuery) -> Redirect {
    Redirect::to(&complete_callback(&ctx, query.as_deref()).await)
}
