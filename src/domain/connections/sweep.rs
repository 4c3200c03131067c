//! The due-rows sweep every scheduled integration shares: take the rows
//! that are due a batch at a time, and in one transaction per batch enqueue
//! their jobs and move the rows' schedule past this sweep, so the next sweep
//! does not enqueue them again while their jobs wait.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, TransactionTrait};

use crate::{
    context::AppContext,
    error::Result,
    jobs::{enqueue_many, NewJob},
};

/// One integration's due rows.
#[async_trait::async_trait]
pub trait DueRows: Send + Sync {
    /// A row's key (a user id, a connection id).
    type Key: Send + Sync;

    /// At most `limit` rows due at `now`.
    async fn due(&self, ctx: &AppContext, now: DateTime<Utc>, limit: u64)
        -> Result<Vec<Self::Key>>;

    /// The job of one due row.
    fn job(&self, key: &Self::Key) -> NewJob;

    /// Moves the rows' schedule past this sweep, in the enqueue's transaction
    /// (the job sets the real next time when it runs).
    async fn postpone(
        &self,
        txn: &DatabaseTransaction,
        keys: &[Self::Key],
        now: DateTime<Utc>,
    ) -> Result<()>;
}

/// Enqueues the job of every due row, `batch` rows per transaction; answers
/// how many jobs were enqueued (a row whose job is already pending adds none).
pub async fn sweep_due<R: DueRows>(ctx: &AppContext, rows: &R, batch: u64) -> Result<u64> {
    let batch = batch.max(1);
    let mut enqueued = 0;
    loop {
        let now = Utc::now();
        let due = rows.due(ctx, now, batch).await?;
        if due.is_empty() {
            break;
        }
        let jobs = due.iter().map(|key| rows.job(key)).collect();
        let txn = ctx.db.begin().await?;
        enqueued += enqueue_many(&txn, jobs).await?;
        rows.postpone(&txn, &due, now).await?;
        txn.commit().await?;
        if (due.len() as u64) < batch {
            break;
        }
    }
    Ok(enqueued)
}
