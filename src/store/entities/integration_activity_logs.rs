//! `integration_activity_logs`: the audit trail of every integration activity.

use sea_orm::entity::prelude::*;

use crate::vocab::{ActivityName, ActivityStatus, IntegrationKind, Provider};

/// One audited activity. Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_activity_logs")]
pub struct Model {
    /// UUIDv7, so ids sort by creation time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub integration_type: IntegrationKind,
    pub provider: Provider,
    pub activity: ActivityName,
    pub status: ActivityStatus,
    pub duration_ms: i64,
    pub message: String,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub connection_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
