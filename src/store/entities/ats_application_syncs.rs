//! `ats_application_syncs`: an application's delivery to its ATS and the
//! ATS's ids of it.

use sea_orm::entity::prelude::*;

use crate::vocab::ApplicationSyncState;

/// One application's delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ats_application_syncs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub application_id: String,
    pub integration_id: String,
    pub state: ApplicationSyncState,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Greenhouse application id, Lever opportunity id.
    pub ats_application_id: Option<String>,
    /// Greenhouse candidate id, Lever contact id.
    pub ats_candidate_id: Option<String>,
    pub synced_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
