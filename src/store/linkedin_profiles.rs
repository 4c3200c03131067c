//! Queries of `linkedin_profiles`.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
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

/// Inserts a new row or replaces an existing one (a reconnect).
pub async fn upsert(db: &impl ConnectionTrait, row: ProfileRow) -> Result<(), sea_orm::DbErr> {
    let exists = find(db, &row.user_id).await?.is_some();
    let active: profiles::ActiveModel = row.into();
    if exists {
        let mut active = active;
        active.created_at = sea_orm::ActiveValue::NotSet;
        Profiles::update(active).exec(db).await?;
    } else {
        Profiles::insert(active).exec_without_returning(db).await?;
    }
    Ok(())
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

/// Rows not yet told that their token expires soon.
pub async fn not_warned(
    db: &impl ConnectionTrait,
    connection_ids: &[String],
) -> Result<Vec<ProfileRow>, sea_orm::DbErr> {
    Profiles::find()
        .filter(profiles::Column::ConnectionId.is_in(connection_ids.iter().cloned()))
        .filter(profiles::Column::ExpiryNotifiedAt.is_null())
        .all(db)
        .await
}
