//! `oauth_credentials`: one connection's sealed credentials and health, for
//! every kind of credential and every owner (a user or an organization).

use sea_orm::entity::prelude::*;

use crate::{
    store::owner::Owner,
    vocab::{ConnectionState, Provider},
};

/// Which kind of credential a connection holds, and so which of the sealed
/// columns it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum CredentialKind {
    /// A user's OAuth tokens from an authorization-code flow (LinkedIn,
    /// Google, Microsoft): `access_token`, `refresh_token` when issued.
    #[sea_orm(string_value = "oauth_user_token")]
    OAuthUserToken,
    /// An OAuth client-credentials client (Greenhouse Harvest v3): `secret`
    /// holds the client's credentials, `access_token` the last token granted.
    #[sea_orm(string_value = "oauth_client_credentials")]
    OAuthClientCredentials,
    /// An OAuth client of the owner's own tenant that holds a refresh token
    /// (Workday): `secret` holds the client, `refresh_token` the grant.
    #[sea_orm(string_value = "oauth_refresh_client")]
    OAuthRefreshClient,
    /// An API key used as the Basic user name (Lever, BambooHR, the
    /// Greenhouse Job Board): `access_token` holds the key, which never expires.
    #[sea_orm(string_value = "api_key")]
    ApiKey,
}

impl CredentialKind {
    /// Whether the credential is a token the OAuth core can renew by itself
    /// (a refresh token, or a client that can ask for a new token).
    pub fn renewable(self) -> bool {
        !matches!(self, CredentialKind::ApiKey)
    }
}

/// One connection to a provider, owned by a user or an organization.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: Provider,
    /// `user:<id>` or `org:<id>`; unique with the provider.
    pub owner: Owner,
    /// The user who connected it.
    pub user_id: String,
    pub organization_id: Option<String>,
    /// The provider's id of the connected account.
    pub account_id: Option<String>,
    pub scopes: String,
    /// Sealed access token (for [`CredentialKind::ApiKey`], the key).
    pub access_token: Vec<u8>,
    /// Sealed refresh token, when the provider issued one.
    pub refresh_token: Option<Vec<u8>>,
    pub token_expires_at: Option<DateTimeUtc>,
    pub refresh_token_expires_at: Option<DateTimeUtc>,
    /// Key id that sealed the tokens (for the rewrap sweep).
    pub key_id: String,
    /// Bumped on every token change; guards concurrent refreshes.
    pub token_version: i32,
    pub state: ConnectionState,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_error_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub connected_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Which kind of credential the row holds.
    pub credential_kind: CredentialKind,
    /// Sealed static secret of the kind, as JSON (an OAuth client's id and
    /// secret, the key's extra parts): never the token itself.
    pub secret: Option<Vec<u8>>,
    /// Sealed secret that signs the provider's webhooks to us.
    pub webhook_secret: Option<Vec<u8>>,
    /// The sealed previous webhook secret, still accepted until
    /// `previous_webhook_secret_until` (a rotation's grace period).
    pub previous_webhook_secret: Option<Vec<u8>>,
    pub previous_webhook_secret_until: Option<DateTimeUtc>,
    /// When the owner was told that the credential expires and cannot be
    /// renewed; cleared when new tokens are stored.
    pub expiry_warned_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
