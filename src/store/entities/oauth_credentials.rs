//! `oauth_credentials`: one connection's sealed tokens and health.

use sea_orm::entity::prelude::*;

/// One connection to a provider, owned by a user or an organization.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    /// `user:<id>` or `org:<id>`; unique with the provider.
    pub owner: String,
    /// The user who connected it.
    pub user_id: String,
    pub organization_id: Option<String>,
    /// The provider's id of the connected account.
    pub account_id: Option<String>,
    pub scopes: String,
    /// Sealed access token.
    pub access_token: Vec<u8>,
    /// Sealed refresh token, when the provider issued one.
    pub refresh_token: Option<Vec<u8>>,
    pub token_expires_at: Option<DateTimeUtc>,
    pub refresh_token_expires_at: Option<DateTimeUtc>,
    /// Key id that sealed the tokens (for the rewrap sweep).
    pub key_id: String,
    /// Bumped on every token change; guards concurrent refreshes.
    pub token_version: i32,
    pub state: String,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_error_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub connected_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
