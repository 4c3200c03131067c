//! `calendar_integrations`: what a connected calendar account holds beside its
//! credential row: the account, its calendars and which one is the default.

use sea_orm::entity::prelude::*;

use crate::vocab::Provider;

/// One connected calendar account of a user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_integrations")]
pub struct Model {
    /// The `oauth_credentials` row holding the tokens (the integration's id).
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: String,
    pub user_id: String,
    /// Google or Microsoft.
    pub provider: Provider,
    pub account_email: String,
    /// `[{id, name, primary}]`, the primary calendar first.
    pub calendars: Json,
    /// Where new events of this account go.
    pub default_calendar_id: String,
    /// New events go to this account when a request names none.
    pub is_default: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
