//! `applications`: candidates' applications to job posts.

use sea_orm::entity::prelude::*;

use crate::vocab::ApplicationStatus;

/// One application.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub job_post_id: String,
    pub organization_id: String,
    /// The candidate.
    pub user_id: String,
    /// Unique per user: a retry returns the first result.
    pub idempotency_key: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub linkedin_url: String,
    pub cover_letter: String,
    /// `[{question_id, values}]`.
    pub answers: Json,
    pub resume_filename: String,
    /// As detected from the content.
    pub resume_content_type: String,
    pub resume_size: i64,
    pub resume: Option<Vec<u8>>,
    pub status: ApplicationStatus,
    /// The ATS's current stage.
    pub stage: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
