//! `reminder_preferences`: how and when a user wants to be reminded.

use sea_orm::entity::prelude::*;

/// One user's reminder preferences.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// `["email", "whatsapp", "in_app"]`.
    pub channels: Json,
    pub email: String,
    /// E.164, empty when none.
    pub whatsapp_number: String,
    pub default_reminder_minutes: Json,
    pub email_reconnect_notices: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
