//! `jobs`: the durable queue of background work.

use sea_orm::entity::prelude::*;

use crate::vocab::JobState;

/// One unit of background work.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Which handler runs it.
    pub kind: String,
    /// The handler's input.
    pub payload: Json,
    /// At most one pending job per key.
    pub unique_key: Option<String>,
    /// Where the job is in its life.
    pub state: JobState,
    /// Higher runs first among due jobs.
    pub priority: i32,
    /// Not before this time.
    pub run_at: DateTimeUtc,
    /// Claims so far.
    pub attempts: i32,
    /// Claims allowed before the job is dead.
    pub max_attempts: i32,
    /// The worker holding the lease.
    pub locked_by: Option<String>,
    /// When the lease ends; an expired lease makes the job claimable again.
    pub locked_until: Option<DateTimeUtc>,
    /// The last failure, secret-free.
    pub last_error: Option<String>,
    /// The user the work is for, if any (scopes who may see it failed).
    pub user_id: Option<String>,
    /// The organization the work is for, if any.
    pub organization_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
