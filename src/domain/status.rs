//! The overview of every connection a caller has or administers.

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    auth::Identity,
    domain::types::{ConnectionState, IntegrationKind, Provider},
    error::Result,
    store::{
        connection_cache::ConnectionCache,
        credentials::{self, ConnectionSummary, CredentialKind},
    },
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
    db: &DatabaseConnection,
    cache: &ConnectionCache,
    caller: &Identity,
) -> Result<Vec<ConnectionOverview>> {
    let mut owners = vec![credentials::user_owner(&caller.user_id)];
    owners.extend(caller.admin_org_ids().map(credentials::org_owner));
    let rows = cache.summaries(db, &owners).await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .filter_map(|row| describe(row, now))
        .collect())
}

/// The state a connection shows: what was stored, refined by token expiry
/// (a connection that cannot renew its token expires with its access token).
pub fn effective_state(
    stored: ConnectionState,
    renewable: bool,
    token_expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ConnectionState {
    if stored != ConnectionState::Connected || renewable {
        return stored;
    }
    match token_expires_at {
        Some(expiry) if expiry <= now => ConnectionState::NeedsReauth,
        Some(expiry) if expiry - now <= EXPIRING_WINDOW => ConnectionState::Expiring,
        _ => stored,
    }
}

fn describe(row: ConnectionSummary, now: DateTime<Utc>) -> Option<ConnectionOverview> {
    let provider = row.provider;
    Some(ConnectionOverview {
        // a client-credentials client asks for a new token by itself
        state: effective_state(
            row.state,
            row.has_refresh_token || row.credential_kind == CredentialKind::OAuthClientCredentials,
            row.token_expires_at,
            now,
        ),
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
