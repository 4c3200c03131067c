//! On PostgreSQL, a notification whenever a statement leaves jobs pending
//! (an enqueue, a retry, a release, a reaped lease): `"<kind> <epoch ms>"`
//! with the earliest `run_at` per kind, so an idle worker pool claims at once
//! or sleeps exactly until the job is due. SQLite polls.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const NOTIFY_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION nextke_notify_jobs() RETURNS trigger AS $$
DECLARE
    due record;
BEGIN
    FOR due IN
        SELECT kind, floor(extract(epoch FROM min(run_at)) * 1000)::bigint AS at_ms
        FROM changed_jobs WHERE state = 'pending' GROUP BY kind
    LOOP
        PERFORM pg_notify('nextke_jobs', due.kind || ' ' || due.at_ms);
    END LOOP;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(NOTIFY_FUNCTION).await?;
        // a trigger with a transition table takes one event, hence two
        for event in ["INSERT", "UPDATE"] {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER jobs_notify_{} AFTER {event} ON jobs \
                 REFERENCING NEW TABLE AS changed_jobs \
                 FOR EACH STATEMENT EXECUTE FUNCTION nextke_notify_jobs()",
                event.to_lowercase()
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for event in ["insert", "update"] {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS jobs_notify_{event} ON jobs"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS nextke_notify_jobs()")
            .await?;
        Ok(())
    }
}
