//! `ats_integrations`: an organization's connection to its applicant
//! tracking system, with its settings. The sealed credentials and the webhook
//! secrets are the connection's row in `oauth_credentials`.

use sea_orm::entity::prelude::*;

use crate::vocab::Provider;

/// One organization's ATS integration.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ats_integrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub provider: Provider,
    /// `oauth_credentials.id`; replaced credentials get a new row.
    pub connection_id: String,
    pub sync_jobs: bool,
    pub sync_applications: bool,
    /// The provider's event names acted on; empty: every handled one.
    pub webhook_events: Json,
    /// 0: no scheduled sync.
    pub sync_interval_minutes: i32,
    /// When the schedule syncs next (jittered).
    pub next_sync_at: Option<DateTimeUtc>,
    /// What may be shown of the credentials: never a secret.
    pub credential_summary: Json,
    /// The admin who connected it.
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
