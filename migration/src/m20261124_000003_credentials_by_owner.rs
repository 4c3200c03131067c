//! Connections looked up by owner (the status overview, the hottest read),
//! and on PostgreSQL a notification on every change so each replica's
//! overview cache drops what changed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NOTIFY_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION nextke_notify_credentials() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('nextke_credentials', OLD.owner);
    ELSE
        PERFORM pg_notify('nextke_credentials', NEW.owner);
        IF TG_OP = 'UPDATE' AND NEW.owner IS DISTINCT FROM OLD.owner THEN
            PERFORM pg_notify('nextke_credentials', OLD.owner);
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_credentials_owner")
                    .table(Alias::new("oauth_credentials"))
                    .col(Alias::new("owner"))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared(NOTIFY_FUNCTION).await?;
            db.execute_unprepared(
                "CREATE TRIGGER oauth_credentials_notify AFTER INSERT OR UPDATE OR DELETE \
                 ON oauth_credentials FOR EACH ROW EXECUTE FUNCTION nextke_notify_credentials()",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared(
                "DROP TRIGGER IF EXISTS oauth_credentials_notify ON oauth_credentials",
            )
            .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS nextke_notify_credentials()")
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_oauth_credentials_owner")
                    .table(Alias::new("oauth_credentials"))
                    .to_owned(),
            )
            .await
    }
}
