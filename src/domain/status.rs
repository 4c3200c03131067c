//! The overview of every connection a caller has or administers.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use crate::{
    auth::Identity,
    domain::types::{ConnectionState, IntegrationKind, Provider},
    error::Result,
    store::credentials::{self, Credential},
};

/// A connection without a refresh token is `expiring` this long before its token expires.
pub const EXPIRING_WINDOW: Duration = Duration::days(7);

/// One connection's health as its owner sees it.
#[derive(Clone, Debug)]
pub struct ConnectionOverview {
    pub id: String,
    pub provider: Provider,
    pub kind: IntegrationKind,
    pub state: ConnectionState,
    pub organization_id: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// Every connection the caller owns or administers.
pub async fn overview(
    db: &impl ConnectionTrait,
    caller: &Identity,
) -> Result<Vec<ConnectionOverview>> {
    let admin_orgs: Vec<String> = caller.admin_org_ids().map(str::to_owned).collect();
    let rows = credentials::list_visible(db, &caller.user_id, &admin_orgs).await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .filter_map(|row| describe(row, now))
        .collect())
}

/// The state a connection shows: what was stored, refined by token expiry.
pub fn effective_state(row: &Credential, now: DateTime<Utc>) -> ConnectionState {
    let stored = ConnectionState::parse(&row.state).unwrap_or(ConnectionState::Error);
    if stored != ConnectionState::Connected || row.refresh_token.is_some() {
        return stored;
    }
    match row.token_expires_at {
        Some(expiry) if expiry <= now => ConnectionState::NeedsReauth,
        Some(expiry) if expiry - now <= EXPIRING_WINDOW => ConnectionState::Expiring,
        _ => stored,
    }
}

fn describe(row: Credential, now: DateTime<Utc>) -> Option<ConnectionOverview> {
    let provider = Provider::parse(&row.provider)?;
    Some(ConnectionOverview {
        state: effective_state(&row, now),
        kind: provider.kind(),
        provider,
        id: row.id,
        organization_id: row.organization_id,
        connected_at: row.connected_at,
        last_success_at: row.last_success_at,
        last_error_at: row.last_error_at,
        last_error: row.last_error,
        token_expires_at: row.token_expires_at,
    })
}
