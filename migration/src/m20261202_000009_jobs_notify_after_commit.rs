//! On PostgreSQL, an enqueue no longer notifies from inside its own
//! transaction: a transaction that has sent a `NOTIFY` commits while holding
//! PostgreSQL's one notification lock, including its WAL flush, so every
//! enqueueing commit waited for the previous one's fsync (no group commit)
//! and enqueues topped out at one per flush (about 300/s on the shared test
//! machine, where the due-jobs benchmark enqueues 500/s). The insert trigger
//! goes; the service notifies in a statement of its own after the insert
//! (see `store::jobs::insert`), which commits without a flush. The update
//! trigger stays: retries, releases and reaped leases are rare, and claims
//! and completions leave no pending row, so they notify nothing.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP TRIGGER IF EXISTS jobs_notify_insert ON jobs")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        // the function of m20261202_000006_jobs_notify is still there
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs \
                 REFERENCING NEW TABLE AS changed_jobs \
                 FOR EACH STATEMENT EXECUTE FUNCTION nextke_notify_jobs()",
            )
            .await?;
        Ok(())
    }
}
