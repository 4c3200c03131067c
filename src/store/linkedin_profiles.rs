//! Queries of `linkedin_profiles`.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::linkedin_profiles::{self as profiles, Entity as Profiles};

pub use profiles::{ActiveModel as ProfileChange, Model as ProfileRow};

/// One user's row.
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<ProfileRow>, sea_orm::DbErr> {
    Profiles::find_by_id(user_id.to_owned()).one(db).await
}

/// One user's row, locked until the transaction ends: every writer of a
/// profile's settings or synced data reads the row through this, so a write
/// always sees the settings in force. Call it first in the transaction.
///
/// The lock is a write that changes nothing: on PostgreSQL it takes the row
/// lock (as `SELECT ... FOR UPDATE` would), on SQLite it takes the database's
/// write lock before the transaction reads anything, so the read that follows
/// is of the latest commit and no other writer comes between.
pub async fn lock(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<ProfileRow>, sea_orm::DbErr> {
    let locked = Profiles::update_many()
        .col_expr(
            profiles::Column::UpdatedAt,
            Expr::col(profiles::Column::UpdatedAt).into(),
        )
        .filter(profiles::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if locked.rows_affected == 0 {
        return Ok(None);
    }
    find(db, user_id).await
}

/// Inserts `row` unless the user already has one (a reconnect keeps the
/// existing row, and with it the user's settings); `Ok(true)` when inserted.
pub async fn insert_if_absent(
    db: &impl ConnectionTrait,
    row: ProfileRow,
) -> Result<bool, sea_orm::DbErr> {
    let active: profiles::ActiveModel = row.into();
    let inserted = Profiles::insert(active)
        .on_conflict(
            OnConflict::column(profiles::Column::UserId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// Applies a partial change to one user's row.
pub async fn update(
    db: &impl ConnectionTrait,
    user_id: &str,
    mut change: ProfileChange,
) -> Result<(), sea_orm::DbErr> {
    change.updated_at = Set(Utc::now());
    Profiles::update_many()
        .set(change)
        .filter(profiles::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes one user's row.
pub async fn delete(db: &impl ConnectionTrait, user_id: &str) -> Result<bool, sea_orm::DbErr> {
    Ok(Profiles::delete_by_id(user_id.to_owned())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Records a manual sync unless the last one was less than `interval` ago;
/// `Ok(false)` when it was too soon.
pub async fn claim_manual_sync(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: DateTime<Utc>,
    interval: chrono::Duration,
) -> Result<bool, sea_orm::DbErr> {
    let result = Profiles::update_many()
        .col_expr(profiles::Column::LastManualSyncAt, Expr::value(now))
        .filter(profiles::Column::UserId.eq(user_id))
        .filter(
            profiles::Column::LastManualSyncAt
                .is_null()
                .or(profiles::Column::LastManualSyncAt.lte(now - interval)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Users whose scheduled sync is due, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(String, String)>, sea_orm::DbErr> {
    Profiles::find()
        .select_only()
        .column(profiles::Column::UserId)
        .column(profiles::Column::ConnectionId)
        .filter(profiles::Column::NextSyncAt.lte(now))
        .order_by_asc(profiles::Column::NextSyncAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Moves the next sync of these users to `at` (set when their sync is enqueued).
pub async fn postpone(
    db: &impl ConnectionTrait,
    user_ids: &[String],
    at: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    for chunk in user_ids.chunks(5_000) {
        Profiles::update_many()
            .col_expr(profiles::Column::NextSyncAt, Expr::value(at))
            .filter(profiles::Column::UserId.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    Ok(())
}
