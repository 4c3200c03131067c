//! `ats_job_syncs`: which job post each synced ATS job became, the hash of
//! what was last written, and the last run that saw it.

use sea_orm::entity::prelude::*;

/// One ATS job's mapping.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ats_job_syncs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub integration_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ats_job_id: String,
    pub job_post_id: String,
    /// SHA-256 (hex) of the mapped job.
    pub content_hash: String,
    pub last_seen_run_id: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
