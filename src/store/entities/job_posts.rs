//! `job_posts`: the platform's job posts, synced from an ATS or made on
//! Next_KE.

use sea_orm::entity::prelude::*;

use crate::vocab::{JobPostStatus, Provider, WorkplaceType};

/// One job post.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "job_posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    /// The integration it came from.
    pub integration_id: Option<String>,
    pub provider: Option<Provider>,
    /// The provider's id of the job.
    pub ats_job_id: Option<String>,
    pub ats_url: String,
    pub title: String,
    /// Sanitized.
    pub description_html: String,
    pub description_text: String,
    pub department: String,
    pub location: String,
    pub remote: bool,
    pub workplace_type: WorkplaceType,
    pub employment_type: String,
    pub salary_min: Option<f64>,
    pub salary_max: Option<f64>,
    pub salary_currency: String,
    pub salary_interval: String,
    pub status: JobPostStatus,
    pub closes_at: Option<DateTimeUtc>,
    /// `[{id, label, required, type, options}]`.
    pub questions: Json,
    /// The provider's JSON as last synced.
    pub remote_data: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
