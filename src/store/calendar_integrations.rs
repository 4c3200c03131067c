//! Queries of `calendar_integrations`: each connected calendar account.

use chrono::Utc;
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::calendar_integrations::{self as rows, Entity as Integrations};

pub use rows::Model as IntegrationRow;

/// The user's calendar accounts, oldest first.
pub async fn list(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<IntegrationRow>, DbErr> {
    Integrations::find()
        .filter(rows::Column::UserId.eq(user_id))
        .order_by_asc(rows::Column::CreatedAt)
        .order_by_asc(rows::Column::ConnectionId)
        .all(db)
        .await
}

/// One of the user's accounts (another user's id is `None`).
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: &str,
    connection_id: &str,
) -> Result<Option<IntegrationRow>, DbErr> {
    Integrations::find_by_id(connection_id.to_owned())
        .filter(rows::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// Stores a connected account; a reconnect refreshes the account and its
/// calendars but keeps which calendar and account are the defaults.
pub async fn upsert(db: &impl ConnectionTrait, row: IntegrationRow) -> Result<(), DbErr> {
    let active: rows::ActiveModel = row.into();
    Integrations::insert(active)
        .on_conflict(
            OnConflict::column(rows::Column::ConnectionId)
                .update_columns([
                    rows::Column::AccountEmail,
                    rows::Column::Calendars,
                    rows::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Makes `connection_id` (with `calendar_id`) the user's default and every
/// other account not.
pub async fn set_default(
    db: &impl ConnectionTrait,
    user_id: &str,
    connection_id: &str,
    calendar_id: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    Integrations::update_many()
        .set(rows::ActiveModel {
            is_default: Set(false),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::ConnectionId.ne(connection_id))
        .exec(db)
        .await?;
    Integrations::update_many()
        .set(rows::ActiveModel {
            is_default: Set(true),
            default_calendar_id: Set(calendar_id.to_owned()),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::ConnectionId.eq(connection_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes an account's row (at disconnect).
pub async fn delete(db: &impl ConnectionTrait, connection_id: &str) -> Result<(), DbErr> {
    Integrations::delete_by_id(connection_id.to_owned())
        .exec(db)
        .await?;
    Ok(())
}
