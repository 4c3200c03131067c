//! The write half of the audit trail: one row per integration activity.
//!
//! It sits at the bottom of the crate so every layer that acts on a
//! connection (`oauth/` refreshing a token, the domain, the sweeps) records
//! what it did through the same writer. Reading the trail back under the
//! caller's visibility is the domain's (`domain::activity`).

use std::time::Duration;

use sea_orm::ConnectionTrait;

use crate::{
    store::activity::{self as store, NewActivity},
    vocab::{ActivityName, ActivityStatus, Provider},
};

/// Longest message kept in a row.
const MAX_MESSAGE: usize = 500;

/// One activity to record. The message must be secret-free: build it from
/// classified errors and counts, never from provider bodies or tokens.
#[derive(Clone, Debug)]
pub struct ActivityEvent<'a> {
    pub provider: Provider,
    pub activity: ActivityName,
    pub status: ActivityStatus,
    pub duration: Duration,
    pub message: String,
    pub user_id: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub connection_id: Option<&'a str>,
}

/// Writes one activity row (inside the caller's transaction when given one).
pub async fn record(
    db: &impl ConnectionTrait,
    event: ActivityEvent<'_>,
) -> Result<String, sea_orm::DbErr> {
    let mut message = event.message;
    if message.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    store::insert(
        db,
        NewActivity {
            integration_type: event.provider.kind(),
            provider: event.provider,
            activity: event.activity,
            status: event.status,
            duration_ms: i64::try_from(event.duration.as_millis()).unwrap_or(i64::MAX),
            message: &message,
            user_id: event.user_id,
            organization_id: event.organization_id,
            connection_id: event.connection_id,
        },
    )
    .await
}
