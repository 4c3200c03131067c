//! A fresh access token for a connection, refreshed at most once however many
//! callers ask at the same time, in this process or in others.
//!
//! In a process, callers of one connection queue on one mutex; across
//! processes, the refresher holds the row lock (`SELECT ... FOR UPDATE` on
//! PostgreSQL) while it calls the provider. Whoever comes next re-reads the row
//! and finds the new token. A rotated refresh token is committed before the new
//! access token is handed out; `invalid_grant` marks the connection
//! `needs_reauth` and is never retried.

use std::{sync::Arc, time::Instant};

use chrono::{Duration, Utc};
use oauth2::RefreshToken;
use sea_orm::TransactionTrait;
use secrecy::{ExposeSecret, SecretString};

use super::{
    tokens::{build_client, seal_tokens, token_error, TokenSet},
    transport::OAuthTransport,
    OAuthCore, OAuthEndpoints, OAuthError,
};
use crate::vocab::ActivityName;
use crate::{
    audit::{self as activity, ActivityEvent},
    store::credentials::{self, Credential, CredentialKind, TokenUpdate},
    vocab::{ActivityStatus, ConnectionState, Provider},
};

/// A token expiring within this margin is refreshed before use.
pub const REFRESH_MARGIN: Duration = Duration::seconds(60);

/// When a refresh is needed.
#[derive(Clone, Copy, Debug)]
pub enum RefreshWhen {
    /// The stored access token expires within this margin.
    ExpiringWithin(Duration),
    /// The stored tokens are still at this version: the provider refused the
    /// access token of that version (a 401), and nobody refreshed since.
    VersionIs(i32),
}

fn is_fresh(row: &Credential, margin: Duration) -> bool {
    row.token_expires_at
        .is_none_or(|expiry| expiry - Utc::now() > margin)
}

impl OAuthCore {
    /// A usable access token for the connection, refreshed first if it expires
    /// within [`REFRESH_MARGIN`].
    pub async fn access_token(
        &self,
        endpoints: &OAuthEndpoints,
        connection_id: &str,
    ) -> Result<SecretString, OAuthError> {
        let row = self.connection(connection_id).await?;
        self.access_token_of(endpoints, &row).await
    }

    /// [`OAuthCore::access_token`] for a row the caller has just read.
    pub async fn access_token_of(
        &self,
        endpoints: &OAuthEndpoints,
        row: &Credential,
    ) -> Result<SecretString, OAuthError> {
        if row.state == ConnectionState::NeedsReauth {
            return Err(OAuthError::InvalidGrant);
        }
        if is_fresh(row, REFRESH_MARGIN) {
            return self.open_access(row);
        }
        self.refresh(
            endpoints,
            &row.id,
            RefreshWhen::ExpiringWithin(REFRESH_MARGIN),
        )
        .await
    }

    /// Refreshes the connection's tokens when `when` says so, once however
    /// many callers ask; returns the access token that is current afterwards.
    pub async fn refresh(
        &self,
        endpoints: &OAuthEndpoints,
        connection_id: &str,
        when: RefreshWhen,
    ) -> Result<SecretString, OAuthError> {
        let lock = self
            .refresh_locks
            .entry(connection_id.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
            .clone();
        let result = {
            let _guard = lock.lock().await;
            self.refresh_locked(endpoints, connection_id, when).await
        };
        // the map holds one reference and we hold one: nobody else waits
        self.refresh_locks
            .remove_if(connection_id, |_, l| Arc::strong_count(l) <= 2);
        result
    }

    async fn refresh_locked(
        &self,
        endpoints: &OAuthEndpoints,
        connection_id: &str,
        when: RefreshWhen,
    ) -> Result<SecretString, OAuthError> {
        let txn = self.db.begin().await?;
        let row = credentials::find_for_update(&txn, connection_id)
            .await?
            .ok_or(OAuthError::UnknownConnection)?;
        let nothing_to_do = match when {
            RefreshWhen::ExpiringWithin(margin) => is_fresh(&row, margin),
            RefreshWhen::VersionIs(seen) => row.token_version != seen,
        };
        if nothing_to_do {
            txn.commit().await?;
            return self.open_access(&row);
        }
        if row.state == ConnectionState::NeedsReauth {
            txn.commit().await?;
            return Err(OAuthError::InvalidGrant);
        }
        // a client of the owner's own presents itself, not our registration
        let mut endpoints = endpoints.clone();
        let mut token_params = std::collections::BTreeMap::new();
        if let Some(client) = self.open_client(&row)? {
            endpoints.client_id = client.client_id;
            endpoints.client_secret = Some(SecretString::from(client.client_secret));
            token_params = client.token_params;
        }
        let endpoints = &endpoints;
        let started = Instant::now();
        let result = match row.credential_kind {
            CredentialKind::ApiKey => {
                // an API key does not expire
                txn.commit().await?;
                return self.open_access(&row);
            }
            CredentialKind::OAuthClientCredentials => {
                let scopes: Vec<&str> = row.scopes.split_whitespace().collect();
                self.client_credentials(endpoints, &scopes, &token_params)
                    .await
            }
            CredentialKind::OAuthUserToken | CredentialKind::OAuthRefreshClient => {
                let Some(refresh_token) = self.open_refresh(&row)? else {
                    self.mark_needs_reauth(
                        &txn,
                        &row.id,
                        "access token expired and no refresh token",
                    )
                    .await?;
                    txn.commit().await?;
                    return Err(OAuthError::NoRefreshToken);
                };
                self.exchange_refresh(endpoints, &row.id, &refresh_token)
                    .await
            }
        };
        let provider = row.provider;
        match result {
            Ok(tokens) => {
                let (access, refresh) =
                    seal_tokens(&self.keyring, &row.id, &row.owner.key(), &tokens)?;
                let stored = credentials::update_tokens(
                    &txn,
                    &row.id,
                    row.token_version,
                    TokenUpdate {
                        access_token: access,
                        refresh_token: refresh,
                        token_expires_at: tokens.expires_at,
                        refresh_token_expires_at: tokens.refresh_expires_at,
                        scopes: tokens.scopes.as_ref().map(|s| s.join(" ")),
                        key_id: self.keyring.primary_kid().to_owned(),
                    },
                )
                .await?;
                if !stored {
                    return Err(OAuthError::Protocol(
                        "connection changed during refresh".to_owned(),
                    ));
                }
                self.record_refresh(
                    &txn,
                    &row,
                    provider,
                    ActivityStatus::Success,
                    started,
                    "token refreshed".to_owned(),
                )
                .await?;
                txn.commit().await?;
                Ok(tokens.access_token)
            }
            Err(err) if err.needs_reauth() => {
                self.mark_needs_reauth(&txn, &row.id, "the provider refused the refresh token")
                    .await?;
                self.record_refresh(
                    &txn,
                    &row,
                    provider,
                    ActivityStatus::Failure,
                    started,
                    "refresh refused (invalid_grant): reconnect needed".to_owned(),
                )
                .await?;
                txn.commit().await?;
                Err(err)
            }
            Err(err) => {
                txn.rollback().await?;
                let message = format!("refresh failed: {}", err.code());
                credentials::set_state(
                    &self.db,
                    &row.id,
                    ConnectionState::Connected,
                    Some(&message),
                )
                .await?;
                self.record_refresh(
                    &self.db,
                    &row,
                    provider,
                    ActivityStatus::Failure,
                    started,
                    message,
                )
                .await?;
                Err(err)
            }
        }
    }

    async fn exchange_refresh(
        &self,
        endpoints: &OAuthEndpoints,
        connection_id: &str,
        refresh_token: &SecretString,
    ) -> Result<TokenSet, OAuthError> {
        let client = build_client(endpoints)?;
        let transport = OAuthTransport {
            outbound: &self.outbound,
            provider: endpoints.provider.as_str(),
            operation: "token.refresh",
            credential_key: Some(connection_id),
            loopback_plain_http: false,
        };
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = client
            .exchange_refresh_token(&token)
            .request_async(&transport)
            .await
            .map_err(token_error)?;
        let mut tokens = TokenSet::from_response(&response);
        if tokens.refresh_token.is_none() {
            // no rotation: the stored refresh token stays
            tokens.refresh_expires_at = None;
        }
        Ok(tokens)
    }

    async fn record_refresh(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        row: &Credential,
        provider: Provider,
        status: ActivityStatus,
        started: Instant,
        message: String,
    ) -> Result<(), OAuthError> {
        activity::record(
            db,
            ActivityEvent {
                provider,
                activity: ActivityName::TokenRefresh,
                status,
                duration: started.elapsed(),
                message,
                user_id: Some(&row.user_id),
                organization_id: row.organization_id.as_deref(),
                connection_id: Some(&row.id),
            },
        )
        .await?;
        Ok(())
    }
}
