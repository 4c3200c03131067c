//! What a provider adds to the shared lifecycle: what it fetches and stores
//! when a connection is made, and what of its own it forgets on disconnect.

use std::time::Instant;

use sea_orm::{DatabaseTransaction, TransactionTrait};

use crate::vocab::ActivityName;
use crate::{
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        types::{ActivityStatus, Provider},
    },
    oauth::{ConnectionOwner, OAuthError, PendingFlow, TokenSet},
    store::credentials::Credential,
};

/// Why a connect failed: the code the failure page shows and a secret-free
/// message for the activity row.
#[derive(Debug)]
pub struct ConnectFailure {
    pub code: &'static str,
    pub message: String,
}

impl ConnectFailure {
    /// A failure with its page code and row message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A database failure.
    pub fn db(_: sea_orm::DbErr) -> Self {
        Self::new("internal_error", "database error")
    }
}

/// A connect after the code exchange, handed to the provider's [`Connector`].
pub struct Connecting<'a> {
    pub ctx: &'a AppContext,
    pub provider: Provider,
    pub flow: &'a PendingFlow,
    pub tokens: TokenSet,
    pub started: Instant,
}

impl Connecting<'_> {
    /// The owner of the connection being made.
    pub fn owner(&self) -> ConnectionOwner {
        match &self.flow.organization_id {
            Some(org_id) => ConnectionOwner::Organization {
                org_id: org_id.clone(),
                user_id: self.flow.user_id.clone(),
            },
            None => ConnectionOwner::User {
                user_id: self.flow.user_id.clone(),
            },
        }
    }

    /// Opens the transaction the connection is stored in.
    pub async fn begin(&self) -> Result<DatabaseTransaction, ConnectFailure> {
        self.ctx.db.begin().await.map_err(ConnectFailure::db)
    }

    /// Stores the connection's tokens (sealed, bound to the row) in `txn`; a
    /// reconnect replaces the old tokens in the same row. Returns its id.
    pub async fn save(
        &self,
        txn: &DatabaseTransaction,
        account_id: Option<&str>,
    ) -> Result<String, ConnectFailure> {
        self.ctx
            .oauth
            .save_connection_in(
                txn,
                self.provider,
                &self.owner(),
                account_id,
                &self.tokens,
                &self.flow.scopes,
            )
            .await
            .map_err(|err: OAuthError| {
                ConnectFailure::new(err.code(), "storing the connection failed")
            })
    }

    /// Records the connect in `txn` and commits it.
    pub async fn finish(
        &self,
        txn: DatabaseTransaction,
        connection_id: &str,
        message: String,
    ) -> Result<(), ConnectFailure> {
        record(
            &txn,
            ActivityEvent {
                provider: self.provider,
                activity: ActivityName::OAuthConnect,
                status: ActivityStatus::Success,
                duration: self.started.elapsed(),
                message,
                user_id: Some(&self.flow.user_id),
                organization_id: self.flow.organization_id.as_deref(),
                connection_id: Some(connection_id),
            },
        )
        .await
        .map_err(ConnectFailure::db)?;
        txn.commit().await.map_err(ConnectFailure::db)
    }
}

/// One provider's part of the connection lifecycle.
#[async_trait::async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The provider's `error` codes on the callback that mean the user said no.
    fn denied_codes(&self) -> &'static [&'static str] {
        &["access_denied"]
    }

    /// Completes a connect after the code exchange: fetches what the provider
    /// must tell, then in one transaction ([`Connecting::begin`]) stores the
    /// connection ([`Connecting::save`]) with the provider's own rows and
    /// finishes ([`Connecting::finish`]).
    async fn connect(&self, connecting: Connecting<'_>) -> Result<(), ConnectFailure>;

    /// The unique keys of the connection's pending jobs of this provider,
    /// deleted with it.
    fn pending_jobs(&self, connection: &Credential) -> Vec<String>;

    /// Tells the owner the connection must be reconnected (called each time
    /// a call finds it refused; tell once per connection).
    async fn needs_reauth(&self, _ctx: &AppContext, _connection: &Credential) {}

    /// Deletes the provider's own rows of a connection, in the disconnect's
    /// transaction.
    async fn forget(
        &self,
        txn: &DatabaseTransaction,
        connection: &Credential,
    ) -> Result<(), sea_orm::DbErr>;
}
