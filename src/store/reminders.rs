//! Queries of `reminder_preferences` and `reminder_deliveries`.

use std::collections::HashSet;

use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::entities::{
    reminder_deliveries::{self as deliveries, Entity as Deliveries},
    reminder_preferences::{self as preferences, Entity as Preferences},
};

pub use deliveries::Model as DeliveryRow;
pub use preferences::Model as PreferencesRow;

/// The user's preferences, if they ever set any.
pub async fn preferences(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<PreferencesRow>, DbErr> {
    Preferences::find_by_id(user_id.to_owned()).one(db).await
}

/// The preferences of those among `user_ids` who ever set any.
pub async fn preferences_of(
    db: &impl ConnectionTrait,
    user_ids: &[String],
) -> Result<Vec<PreferencesRow>, DbErr> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    Preferences::find()
        .filter(preferences::Column::UserId.is_in(user_ids.iter().cloned()))
        .all(db)
        .await
}

/// Stores the user's preferences whole.
pub async fn save_preferences(db: &impl ConnectionTrait, row: PreferencesRow) -> Result<(), DbErr> {
    let active: preferences::ActiveModel = row.into();
    Preferences::insert(active)
        .on_conflict(
            OnConflict::column(preferences::Column::UserId)
                .update_columns([
                    preferences::Column::Channels,
                    preferences::Column::Email,
                    preferences::Column::WhatsappNumber,
                    preferences::Column::DefaultReminderMinutes,
                    preferences::Column::EmailReconnectNotices,
                    preferences::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Which of `reminder_keys` were delivered already.
pub async fn delivered_among(
    db: &impl ConnectionTrait,
    reminder_keys: &[String],
) -> Result<HashSet<String>, DbErr> {
    if reminder_keys.is_empty() {
        return Ok(HashSet::new());
    }
    let keys: Vec<String> = Deliveries::find()
        .select_only()
        .column(deliveries::Column::ReminderKey)
        .filter(deliveries::Column::ReminderKey.is_in(reminder_keys.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(keys.into_iter().collect())
}

/// Records deliveries in one statement; those recorded already are left as
/// they were. Returns how many were new.
pub async fn record_deliveries(
    db: &impl ConnectionTrait,
    rows: Vec<DeliveryRow>,
) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    let active: Vec<deliveries::ActiveModel> = rows.into_iter().map(Into::into).collect();
    Deliveries::insert_many(active)
        .on_conflict(
            OnConflict::column(deliveries::Column::ReminderKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
}

/// Every delivery made for an event.
pub async fn deliveries_of(
    db: &impl ConnectionTrait,
    event_id: &str,
) -> Result<Vec<DeliveryRow>, DbErr> {
    Deliveries::find()
        .filter(deliveries::Column::EventId.eq(event_id))
        .all(db)
        .await
}
