//! The runs of an integration's job syncs, as its admins see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    context::AppContext,
    error::Result,
    store::ats_sync::{self as store, RunRow},
    vocab::{SyncRunState, SyncTrigger},
};

/// A record a run could not take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncError {
    pub ats_id: String,
    pub message: String,
}

/// One run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRun {
    pub id: String,
    pub integration_id: String,
    pub trigger: SyncTrigger,
    pub state: SyncRunState,
    pub pages_fetched: u32,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub closed: u32,
    pub failed: u32,
    pub errors: Vec<SyncError>,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub resumed: bool,
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

impl SyncRun {
    pub fn from_row(row: RunRow) -> Self {
        Self {
            id: row.id,
            integration_id: row.integration_id,
            trigger: row.trigger,
            state: row.state,
            pages_fetched: count(row.pages_fetched),
            created: count(row.created),
            updated: count(row.updated),
            unchanged: count(row.unchanged),
            closed: count(row.closed),
            failed: count(row.failed),
            errors: serde_json::from_value(row.errors).unwrap_or_default(),
            error: row.error,
            started_at: row.started_at,
            finished_at: row.finished_at,
            resumed: row.resumed,
        }
    }
}

/// The integration's newest run.
pub async fn latest(ctx: &AppContext, integration_id: &str) -> Result<Option<SyncRun>> {
    Ok(store::latest_run(&ctx.db, integration_id)
        .await?
        .map(SyncRun::from_row))
}

/// A page of the integration's runs, newest first, after `offset` ones.
pub async fn page(
    ctx: &AppContext,
    integration_id: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<SyncRun>> {
    Ok(store::runs_page(&ctx.db, integration_id, offset, limit)
        .await?
        .into_iter()
        .map(SyncRun::from_row)
        .collect())
}

/// A page of an integration's runs for its admins.
pub async fn list(
    ctx: &AppContext,
    caller: &crate::auth::Identity,
    integration_id: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<SyncRun>> {
    super::ensure_enabled(&ctx.config)?;
    let row = super::integrations::owned(ctx, caller, integration_id).await?;
    page(ctx, &row.id, offset, limit).await
}
