//! Persistence: connecting, migrating, and the queries of each table.

pub mod activity;
pub mod applications;
pub mod ats_integrations;
pub mod ats_sync;
pub mod calendar_events;
pub mod calendar_integrations;
pub mod connection_cache;
pub mod credentials;
pub mod entities;
pub mod jobs;
pub mod linkedin_profiles;
pub mod notifications;
pub mod oauth_states;
pub mod owner;
pub mod rate_windows;
pub mod reminders;
pub mod webhook_deliveries;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// Opens the pool. SQLite files are created on first use and run in WAL mode.
pub async fn connect(
    url: &str,
    max_connections: u32,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .create_if_missing(true)
        });
    }
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    Migrator::up(db, None).await
}

/// True when the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
