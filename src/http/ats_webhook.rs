//! `POST /api/v1/integrations/ats/webhook/{integration_id}`: an ATS's
//! webhook deliveries. The body is read raw (at most 1 MiB, 413 beyond) and
//! handed to the domain, which verifies it before anything else; the answer
//! is 200 for a stored or duplicate delivery, 401 for a bad signature, 404
//! for an unknown integration.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use crate::{
    context::AppContext,
    domain::ats::webhooks::{self, Accepted, Headers, EVENT_ID_HEADER, SIGNATURE_HEADER},
};

/// Receives one delivery.
pub async fn receive(
    State(ctx): State<Arc<AppContext>>,
    Path(integration_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delivery = Headers {
        signature: headers.get(SIGNATURE_HEADER).map(|v| v.as_bytes()),
        event_id: headers.get(EVENT_ID_HEADER).and_then(|v| v.to_str().ok()),
    };
    match webhooks::ingest(&ctx, &integration_id, delivery, &body).await {
        Ok(accepted) => (
            StatusCode::OK,
            Json(serde_json::json!({
                "status": match accepted {
                    Accepted::Stored => "accepted",
                    Accepted::Duplicate => "duplicate",
                }
            })),
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}
