//! `oauth_states`: pending authorization-code flows, single use, short lived.

use sea_orm::entity::prelude::*;

use crate::vocab::Provider;

/// One pending flow. The `state` itself is never stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub provider: Provider,
    pub user_id: String,
    pub organization_id: Option<String>,
    /// Sealed PKCE verifier, bound to this row.
    pub pkce_verifier: Vec<u8>,
    pub redirect_uri: String,
    pub scopes: String,
    pub return_to: String,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// SHA-256 (hex) of the browser cookie set when the start page was opened;
    /// only that browser may complete the flow.
    pub browser_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
