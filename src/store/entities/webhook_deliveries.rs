//! `webhook_deliveries`: every verified webhook delivery, stored before it
//! is acknowledged and processed from here.

use sea_orm::entity::prelude::*;

use crate::vocab::{Provider, WebhookState};

/// One delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub integration_id: String,
    pub provider: Provider,
    /// `Greenhouse-Event-ID`, Lever's `token`: unique per integration.
    pub dedupe_key: String,
    /// The provider's event name.
    pub event: String,
    /// SHA-256 (hex) of the raw body.
    pub body_sha256: String,
    /// The raw body as received.
    pub body: Vec<u8>,
    pub state: WebhookState,
    pub error: Option<String>,
    pub received_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
