//! A connection's health as its owner sees it: when it last worked, its last
//! error, and its state.

use crate::{context::AppContext, domain::types::ConnectionState, store::credentials};

async fn set(
    ctx: &AppContext,
    connection_id: &str,
    state: ConnectionState,
    error: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    credentials::set_state(&ctx.db, connection_id, state, error).await
}

/// A call with the connection worked.
pub async fn succeeded(ctx: &AppContext, connection_id: &str) -> Result<(), sea_orm::DbErr> {
    set(ctx, connection_id, ConnectionState::Connected, None).await
}

/// A call with the connection failed for a reason its owner cannot fix (the
/// provider is down, it refused one request): still connected.
pub async fn failed(
    ctx: &AppContext,
    connection_id: &str,
    message: &str,
) -> Result<(), sea_orm::DbErr> {
    set(
        ctx,
        connection_id,
        ConnectionState::Connected,
        Some(message),
    )
    .await
}

/// The provider no longer accepts the connection: its owner must reconnect.
pub async fn needs_reauth(
    ctx: &AppContext,
    connection_id: &str,
    message: &str,
) -> Result<(), sea_orm::DbErr> {
    set(
        ctx,
        connection_id,
        ConnectionState::NeedsReauth,
        Some(message),
    )
    .await
}
