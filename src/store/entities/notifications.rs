//! `notifications`: in-app notifications.

use sea_orm::entity::prelude::*;

/// One in-app notification of a user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub event_id: Option<String>,
    /// At most one notification per key.
    pub dedup_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
