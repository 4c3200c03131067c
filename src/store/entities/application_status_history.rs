//! `application_status_history`: every status an application had, when,
//! and where the change came from.

use sea_orm::entity::prelude::*;

use crate::vocab::{ApplicationStatus, StatusSource};

/// One change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_status_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: String,
    pub status: ApplicationStatus,
    pub stage: String,
    pub source: StatusSource,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
