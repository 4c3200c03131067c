//! `ats_sync_runs`: each sync of an integration's jobs, its figures, and the
//! page it resumes from.

use sea_orm::entity::prelude::*;

use crate::vocab::{SyncRunState, SyncTrigger};

/// One sync run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ats_sync_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub integration_id: String,
    pub trigger: SyncTrigger,
    pub state: SyncRunState,
    pub pages_fetched: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub closed: i32,
    pub failed: i32,
    /// `[{ats_id, message}]`, the first 50.
    pub errors: Json,
    pub error: Option<String>,
    /// Where the next page starts (cursor or offset); `None` before the first.
    pub next_page: Option<String>,
    pub resumed: bool,
    /// The process running it.
    pub worker: Option<String>,
    /// Past it, the run was stopped by a crash and is resumed.
    pub lease_until: Option<DateTimeUtc>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
