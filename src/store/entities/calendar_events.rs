//! `calendar_events`: the events we keep and put in users' calendars.

use sea_orm::entity::prelude::*;

use crate::vocab::Provider;

/// One event of a user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    /// The caller's idempotency key, unique per user.
    pub request_id: Option<String>,
    /// `interview`, `deadline` or `career_event`.
    pub event_type: String,
    pub title: String,
    pub description: String,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    /// IANA zone.
    pub time_zone: String,
    pub location: String,
    pub meeting_url: String,
    /// `[{email, name, optional}]`.
    pub attendees: Json,
    /// Ascending minutes before the start.
    pub reminder_minutes: Json,
    pub job_application_id: Option<String>,
    /// The calendar connection (`calendar_integrations.connection_id`).
    pub integration_id: Option<String>,
    pub provider: Option<Provider>,
    pub calendar_id: Option<String>,
    pub provider_event_id: Option<String>,
    pub html_link: Option<String>,
    /// `synced`, `pending`, `failed` or `not_connected`.
    pub sync_state: String,
    pub sync_error: Option<String>,
    /// `scheduled` or `cancelled`.
    pub status: String,
    pub notify_attendees: bool,
    /// Bumped by every change.
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
