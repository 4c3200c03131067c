//! Telling owners, once, that a connection will stop working: its access
//! token expires within [`EXPIRING_WINDOW`] (or has expired) and it cannot be
//! refreshed. The "warned" mark lives on the connection and is cleared when
//! new tokens are stored, so a reconnect arms the next warning.

use chrono::Utc;
use sea_orm::TransactionTrait;

use crate::vocab::ActivityName;
use crate::{
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        status::EXPIRING_WINDOW,
        types::ActivityStatus,
    },
    error::Result,
    store::credentials,
};

/// Connections examined per call.
const BATCH: u64 = 5_000;

/// Warns the owner of every expiring connection that cannot refresh and was
/// not warned yet (an activity row each; notifications arrive with the
/// calendar issue). Answers how many were warned.
pub async fn warn_expiring(ctx: &AppContext) -> Result<u64> {
    let now = Utc::now();
    let expiring = credentials::expiring_unwarned(&ctx.db, now + EXPIRING_WINDOW, BATCH).await?;
    let mut warned = 0;
    for connection in expiring {
        let provider = connection.provider;
        let expired = connection.token_expires_at.is_some_and(|t| t <= now);
        let txn = ctx.db.begin().await?;
        // the mark first: a concurrent sweep that lost the race writes nothing
        if !credentials::mark_expiry_warned(&txn, &connection.id, now).await? {
            txn.rollback().await?;
            continue;
        }
        record(
            &txn,
            ActivityEvent {
                provider,
                activity: if expired {
                    ActivityName::TokenExpired
                } else {
                    ActivityName::TokenExpiring
                },
                status: ActivityStatus::Pending,
                duration: std::time::Duration::ZERO,
                message: if expired {
                    format!("{provider} access expired: reconnect to keep it working")
                } else {
                    format!(
                        "{provider} access expires on {}: reconnect before then to keep it working",
                        connection
                            .token_expires_at
                            .map(|t| t.date_naive().to_string())
                            .unwrap_or_default()
                    )
                },
                user_id: Some(&connection.user_id),
                organization_id: connection.organization_id.as_deref(),
                connection_id: Some(&connection.id),
            },
        )
        .await?;
        txn.commit().await?;
        warned += 1;
    }
    Ok(warned)
}
