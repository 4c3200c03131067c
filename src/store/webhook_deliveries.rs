//! Queries of `webhook_deliveries`: the inbox of verified deliveries.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter,
};

use super::entities::webhook_deliveries::{self as rows, Entity as Deliveries};
use crate::vocab::WebhookState;

pub use rows::Model as DeliveryRow;

/// Stores a delivery; a unique violation means its key was seen.
pub async fn insert(db: &impl ConnectionTrait, row: DeliveryRow) -> Result<(), DbErr> {
    Deliveries::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// The delivery of `integration_id` with `dedupe_key`.
pub async fn by_key(
    db: &impl ConnectionTrait,
    integration_id: &str,
    dedupe_key: &str,
) -> Result<Option<DeliveryRow>, DbErr> {
    Deliveries::find()
        .filter(rows::Column::IntegrationId.eq(integration_id))
        .filter(rows::Column::DedupeKey.eq(dedupe_key))
        .one(db)
        .await
}

/// One delivery by id.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<DeliveryRow>, DbErr> {
    Deliveries::find_by_id(id.to_owned()).one(db).await
}

/// Records how processing ended.
pub async fn settle(
    db: &impl ConnectionTrait,
    id: &str,
    state: WebhookState,
    error: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Deliveries::update_many()
        .set(rows::ActiveModel {
            state: Set(state),
            error: Set(error),
            processed_at: Set(Some(at)),
            ..Default::default()
        })
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}
