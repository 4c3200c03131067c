//! `reminder_deliveries`: every reminder delivered, once per channel.

use sea_orm::entity::prelude::*;

/// One delivered reminder.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder_deliveries")]
pub struct Model {
    /// `{event}:{minutes}:{channel}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub reminder_key: String,
    pub event_id: String,
    pub user_id: String,
    /// `email`, `whatsapp` or `in_app`.
    pub channel: String,
    pub minutes: i32,
    pub due_at: DateTimeUtc,
    pub delivered_at: DateTimeUtc,
    /// The email's Message-ID, the WhatsApp message id or the notification id.
    pub external_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
