//! `linkedin_profiles`: a user's LinkedIn settings, schedule and synced profile.

use sea_orm::entity::prelude::*;

/// One user's LinkedIn profile row. Sections the user switched off are `NULL`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "linkedin_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The `oauth_credentials` row holding the tokens.
    pub connection_id: String,
    /// `openid_connect` or `member_data_portability`.
    pub capability: String,
    pub sync_picture: bool,
    pub sync_experience: bool,
    pub sync_education: bool,
    pub sync_skills: bool,
    /// `daily`, `weekly`, `monthly` or `manual`.
    pub frequency: String,
    /// Name, email, locale, picture, headline, summary, location, industry.
    pub basic: Json,
    pub experience: Option<Json>,
    pub education: Option<Json>,
    pub skills: Option<Json>,
    /// Section name to the time its data last changed.
    pub sections_synced_at: Json,
    pub last_synced_at: Option<DateTimeUtc>,
    pub last_changed_at: Option<DateTimeUtc>,
    pub next_sync_at: Option<DateTimeUtc>,
    pub last_manual_sync_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
