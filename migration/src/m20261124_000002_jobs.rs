//! The durable job queue and the scheduler's tick ledger.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(big_integer(Jobs::Id).auto_increment().primary_key())
                    .col(string_len(Jobs::Kind, 64))
                    .col(json_binary(Jobs::Payload))
                    .col(string_len_null(Jobs::UniqueKey, 255))
                    .col(string_len(Jobs::State, 16))
                    .col(integer(Jobs::Priority))
                    .col(timestamp_with_time_zone(Jobs::RunAt))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(string_len_null(Jobs::LockedBy, 64))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(text_null(Jobs::LastError))
                    .col(string_len_null(Jobs::UserId, 128))
                    .col(string_len_null(Jobs::OrganizationId, 128))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::CompletedAt))
                    .to_owned(),
            )
            .await?;
        // Partial indexes keep claims and counts fast however many completed
        // rows the table holds; the same SQL works on PostgreSQL and SQLite.
        let db = manager.get_connection();
        for statement in [
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_jobs_pending_key ON jobs (unique_key) WHERE state = 'pending' AND unique_key IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS idx_jobs_due ON jobs (kind, priority DESC, run_at) WHERE state = 'pending'",
            "CREATE INDEX IF NOT EXISTS idx_jobs_pending_run_at ON jobs (run_at) WHERE state = 'pending'",
            "CREATE INDEX IF NOT EXISTS idx_jobs_leases ON jobs (locked_until) WHERE state = 'running'",
            "CREATE INDEX IF NOT EXISTS idx_jobs_dead ON jobs (kind, id) WHERE state = 'dead'",
            "CREATE INDEX IF NOT EXISTS idx_jobs_completed ON jobs (completed_at) WHERE state = 'completed'",
        ] {
            db.execute_unprepared(statement).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SchedulerTicks::Table)
                    .if_not_exists()
                    .col(string_len(SchedulerTicks::Name, 64))
                    .col(timestamp_with_time_zone(SchedulerTicks::TickAt))
                    .col(timestamp_with_time_zone(SchedulerTicks::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(SchedulerTicks::Name)
                            .col(SchedulerTicks::TickAt),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SchedulerTicks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    UniqueKey,
    State,
    Priority,
    RunAt,
    Attempts,
    MaxAttempts,
    LockedBy,
    LockedUntil,
    LastError,
    UserId,
    OrganizationId,
    CreatedAt,
    UpdatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum SchedulerTicks {
    Table,
    Name,
    TickAt,
    CreatedAt,
}
