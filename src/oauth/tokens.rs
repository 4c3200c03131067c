//! Exchanging grants for tokens, and storing them sealed.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use oauth2::{
    basic::{
        BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
        BasicTokenIntrospectionResponse, BasicTokenType,
    },
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    endpoints::ClientAuth, flow::PendingFlow, transport::OAuthTransport, OAuthCore, OAuthEndpoints,
    OAuthError,
};
use crate::{
    crypto::{Aad, Keyring},
    providers::http::is_safe_code,
    store::credentials::{self, Credential, CredentialKind, TokenUpdate},
    vocab::{ConnectionState, Provider},
};

pub(super) const TABLE: &str = "oauth_credentials";

/// Token-response fields beyond RFC 6749 that providers send.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraFields {
    /// LinkedIn and Microsoft tell how long the refresh token lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in: Option<u64>,
}

impl ExtraTokenFields for ExtraFields {}

type ProviderTokenResponse = StandardTokenResponse<ExtraFields, BasicTokenType>;

/// The `oauth2` client type with an authorization and a token endpoint.
pub(super) type Client = oauth2::Client<
    BasicErrorResponse,
    ProviderTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Builds the `oauth2` client of a provider registration.
pub(super) fn build_client(endpoints: &OAuthEndpoints) -> Result<Client, OAuthError> {
    let bad = |what: &str| OAuthError::Protocol(format!("invalid {what} url in configuration"));
    let mut client = oauth2::Client::new(ClientId::new(endpoints.client_id.clone()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize_url.clone()).map_err(|_| bad("authorize"))?)
        .set_token_uri(TokenUrl::new(endpoints.token_url.clone()).map_err(|_| bad("token"))?)
        .set_auth_type(match endpoints.client_auth {
            ClientAuth::RequestBody => AuthType::RequestBody,
            ClientAuth::Basic => AuthType::BasicAuth,
        });
    // a client-credentials client has no browser to send back
    if !endpoints.redirect_uri.is_empty() {
        client = client.set_redirect_uri(
            RedirectUrl::new(endpoints.redirect_uri.clone()).map_err(|_| bad("redirect"))?,
        );
    }
    if let Some(secret) = &endpoints.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
    }
    Ok(client)
}

/// Tokens as a provider issued them.
#[derive(Clone, Debug)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Granted scopes, when the provider said.
    pub scopes: Option<Vec<String>>,
}

impl TokenSet {
    pub(super) fn from_response(response: &ProviderTokenResponse) -> Self {
        let now = Utc::now();
        let after = |d: StdDuration| Duration::from_std(d).ok().map(|d| now + d);
        TokenSet {
            access_token: SecretString::from(response.access_token().secret().to_owned()),
            refresh_token: response
                .refresh_token()
                .map(|t| SecretString::from(t.secret().to_owned())),
            expires_at: response.expires_in().and_then(after),
            refresh_expires_at: response
                .extra_fields()
                .refresh_token_expires_in
                .and_then(|secs| after(StdDuration::from_secs(secs))),
            // LinkedIn separates scopes with commas, RFC 6749 with spaces
            scopes: response.scopes().map(|s| {
                s.iter()
                    .flat_map(|s| s.split(','))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
        }
    }
}

/// Maps the `oauth2` crate's error to ours: `invalid_grant` needs a reconnect,
/// transport trouble keeps its retryable classification.
pub(super) fn token_error(
    err: RequestTokenError<crate::providers::http::ProviderError, BasicErrorResponse>,
) -> OAuthError {
    match err {
        RequestTokenError::ServerResponse(response) => match response.error() {
            BasicErrorResponseType::InvalidGrant => OAuthError::InvalidGrant,
            // the code is the provider's text: kept only when it is a short machine code
            other if is_safe_code(other.as_ref()) => {
                OAuthError::Protocol(format!("token endpoint answered {}", other.as_ref()))
            }
            _ => OAuthError::Protocol("token endpoint answered an error".to_owned()),
        },
        RequestTokenError::Request(provider) => OAuthError::Provider(provider),
        RequestTokenError::Parse(..) => {
            OAuthError::Protocol("unreadable token response".to_owned())
        }
        RequestTokenError::Other(_) => OAuthError::Protocol("token request failed".to_owned()),
    }
}

/// Whose connection it is.
#[derive(Clone, Debug)]
pub enum ConnectionOwner {
    /// A user's own (LinkedIn, calendars).
    User { user_id: String },
    /// An organization's, connected by one of its admins (ATS).
    Organization { org_id: String, user_id: String },
}

impl ConnectionOwner {
    /// The owner stored in the row.
    pub fn owner(&self) -> credentials::Owner {
        match self {
            ConnectionOwner::User { user_id } => credentials::user_owner(user_id),
            ConnectionOwner::Organization { org_id, .. } => credentials::org_owner(org_id),
        }
    }

    /// The owner's stored key, which the sealed columns are bound to.
    pub fn key(&self) -> String {
        self.owner().key()
    }
}

/// A new working connection row of `owner` holding only `access_token`
/// (sealed for `id`); callers add the rest of their kind.
pub(super) fn new_row(
    id: &str,
    provider: Provider,
    owner: &ConnectionOwner,
    kind: CredentialKind,
    access_token: Vec<u8>,
    key_id: &str,
) -> Credential {
    let (user_id, organization_id) = match owner {
        ConnectionOwner::User { user_id } => (user_id.clone(), None),
        ConnectionOwner::Organization { org_id, user_id } => {
            (user_id.clone(), Some(org_id.clone()))
        }
    };
    let now = Utc::now();
    Credential {
        id: id.to_owned(),
        provider,
        owner: owner.owner(),
        user_id,
        organization_id,
        account_id: None,
        scopes: String::new(),
        access_token,
        refresh_token: None,
        token_expires_at: None,
        refresh_token_expires_at: None,
        key_id: key_id.to_owned(),
        token_version: 1,
        state: ConnectionState::Connected,
        last_success_at: Some(now),
        last_error_at: None,
        last_error: None,
        connected_at: now,
        updated_at: now,
        credential_kind: kind,
        secret: None,
        webhook_secret: None,
        previous_webhook_secret: None,
        previous_webhook_secret_until: None,
        expiry_warned_at: None,
    }
}

/// The associated data of a credential column.
pub(super) fn aad<'a>(row_id: &'a str, owner: &'a str, column: &'static str) -> Aad<'a> {
    Aad::new(TABLE, column, row_id, owner)
}

pub(super) fn seal_tokens(
    keyring: &Keyring,
    row_id: &str,
    owner: &str,
    tokens: &TokenSet,
) -> Result<(Vec<u8>, Option<Vec<u8>>), OAuthError> {
    let access = keyring.seal(
        tokens.access_token.expose_secret().as_bytes(),
        &aad(row_id, owner, "access_token"),
    )?;
    let refresh = tokens
        .refresh_token
        .as_ref()
        .map(|t| {
            keyring.seal(
                t.expose_secret().as_bytes(),
                &aad(row_id, owner, "refresh_token"),
            )
        })
        .transpose()?;
    Ok((access, refresh))
}

impl OAuthCore {
    /// Exchanges an authorization code, with the flow's PKCE verifier and its
    /// exact redirect URI.
    pub async fn exchange_code(
        &self,
        endpoints: &OAuthEndpoints,
        flow: &PendingFlow,
        code: &str,
    ) -> Result<TokenSet, OAuthError> {
        let mut endpoints = endpoints.clone();
        endpoints.redirect_uri = flow.redirect_uri.clone();
        let client = build_client(&endpoints)?;
        let transport = OAuthTransport {
            outbound: &self.outbound,
            provider: endpoints.provider.as_str(),
            operation: "token.authorization_code",
            credential_key: None,
            loopback_plain_http: false,
        };
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if endpoints.use_pkce {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(flow.verifier().to_owned()));
        }
        let response = request
            .request_async(&transport)
            .await
            .map_err(token_error)?;
        Ok(TokenSet::from_response(&response))
    }

    /// The client-credentials grant (e.g. an ATS provider's server-to-server API).
    pub async fn client_credentials(
        &self,
        endpoints: &OAuthEndpoints,
        scopes: &[&str],
        params: &std::collections::BTreeMap<String, String>,
    ) -> Result<TokenSet, OAuthError> {
        let client = build_client(endpoints)?;
        let transport = OAuthTransport {
            outbound: &self.outbound,
            provider: endpoints.provider.as_str(),
            operation: "token.client_credentials",
            credential_key: None,
            loopback_plain_http: false,
        };
        let mut request = client
            .exchange_client_credentials()
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())));
        for (name, value) in params {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let response = request
            .request_async(&transport)
            .await
            .map_err(token_error)?;
        Ok(TokenSet::from_response(&response))
    }

    /// Stores tokens for an owner's connection with a provider, sealed and
    /// bound to the row; a reconnect replaces the old tokens in the same row.
    /// Returns the connection id.
    pub async fn save_connection(
        &self,
        provider: Provider,
        owner: &ConnectionOwner,
        account_id: Option<&str>,
        tokens: &TokenSet,
        requested_scopes: &[String],
    ) -> Result<String, OAuthError> {
        let txn = self.db.begin().await?;
        let id = self
            .save_connection_in(&txn, provider, owner, account_id, tokens, requested_scopes)
            .await?;
        txn.commit().await?;
        Ok(id)
    }

    /// [`OAuthCore::save_connection`] inside the caller's transaction, so the
    /// connection and what goes with it are stored together or not at all.
    ///
    /// Not one upsert statement: every sealed column is bound to its row's id,
    /// so a reconnect must seal for the id already stored. Two first connects
    /// racing each other meet at the unique key (provider, owner): the loser's
    /// insert, inside a savepoint, is undone and redone as the update.
    pub async fn save_connection_in(
        &self,
        txn: &DatabaseTransaction,
        provider: Provider,
        owner: &ConnectionOwner,
        account_id: Option<&str>,
        tokens: &TokenSet,
        requested_scopes: &[String],
    ) -> Result<String, OAuthError> {
        let owner_key = owner.key();
        let scopes = tokens
            .scopes
            .clone()
            .unwrap_or_else(|| requested_scopes.to_vec())
            .join(" ");
        let kid = self.keyring.primary_kid().to_owned();
        for attempt in 0..3 {
            let locked = credentials::lock_owner(txn, provider, &owner.owner()).await?;
            let existing = credentials::find_by_owner(txn, provider, &owner.owner()).await?;
            let id = match existing {
                // committed by a racing connect after our lock found nothing: lock it now
                Some(_) if !locked => continue,
                Some(row) => {
                    let (access, refresh) =
                        seal_tokens(&self.keyring, &row.id, &owner_key, tokens)?;
                    let refresh_present = refresh.is_some();
                    let stored = credentials::update_tokens(
                        txn,
                        &row.id,
                        row.token_version,
                        TokenUpdate {
                            access_token: access,
                            refresh_token: refresh,
                            token_expires_at: tokens.expires_at,
                            refresh_token_expires_at: tokens.refresh_expires_at,
                            scopes: Some(scopes.clone()),
                            key_id: kid.clone(),
                        },
                    )
                    .await?;
                    if !stored {
                        return Err(OAuthError::Protocol(
                            "connection changed concurrently, try again".to_owned(),
                        ));
                    }
                    if !refresh_present {
                        // a reconnect without a refresh token must not keep the old one
                        credentials::clear_refresh_token(txn, &row.id).await?;
                    }
                    credentials::set_account(txn, &row.id, account_id).await?;
                    row.id
                }
                None => {
                    let id = uuid::Uuid::now_v7().to_string();
                    let (access, refresh) = seal_tokens(&self.keyring, &id, &owner_key, tokens)?;
                    let savepoint = txn.begin().await?;
                    let inserted = credentials::insert(
                        &savepoint,
                        Credential {
                            account_id: account_id.map(str::to_owned),
                            scopes: scopes.clone(),
                            refresh_token: refresh,
                            token_expires_at: tokens.expires_at,
                            refresh_token_expires_at: tokens.refresh_expires_at,
                            ..new_row(
                                &id,
                                provider,
                                owner,
                                CredentialKind::OAuthUserToken,
                                access,
                                &kid,
                            )
                        },
                    )
                    .await;
                    match inserted {
                        Ok(()) => savepoint.commit().await?,
                        Err(err) if attempt < 2 && crate::error::is_unique_violation(&err) => {
                            savepoint.rollback().await?;
                            continue;
                        }
                        Err(err) => return Err(err.into()),
                    }
                    id
                }
            };
            return Ok(id);
        }
        Err(OAuthError::Protocol(
            "connection changed concurrently, try again".to_owned(),
        ))
    }

    /// Deletes a connection and its tokens.
    pub async fn delete_connection(&self, connection_id: &str) -> Result<bool, OAuthError> {
        Ok(credentials::delete(&self.db, connection_id).await?)
    }

    /// The stored connection row (tokens still sealed).
    pub async fn connection(&self, connection_id: &str) -> Result<Credential, OAuthError> {
        credentials::find(&self.db, connection_id)
            .await?
            .ok_or(OAuthError::UnknownConnection)
    }

    /// Opens a connection's current access token as stored (no refresh), e.g.
    /// to revoke it.
    pub fn open_access_token(&self, row: &Credential) -> Result<SecretString, OAuthError> {
        self.open_access(row)
    }

    /// Opens a connection's access token.
    pub(super) fn open_access(&self, row: &Credential) -> Result<SecretString, OAuthError> {
        Ok(self.keyring.open_string(
            &row.access_token,
            &aad(&row.id, &row.owner.key(), "access_token"),
        )?)
    }

    /// Opens a connection's refresh token, if it has one.
    pub(super) fn open_refresh(
        &self,
        row: &Credential,
    ) -> Result<Option<SecretString>, OAuthError> {
        row.refresh_token
            .as_ref()
            .map(|sealed| {
                self.keyring
                    .open_string(sealed, &aad(&row.id, &row.owner.key(), "refresh_token"))
            })
            .transpose()
            .map_err(OAuthError::from)
    }

    /// Marks a connection as needing the owner to reconnect.
    pub(super) async fn mark_needs_reauth(
        &self,
        db: &impl ConnectionTrait,
        connection_id: &str,
        reason: &str,
    ) -> Result<(), OAuthError> {
        credentials::set_state(
            db,
            connection_id,
            ConnectionState::NeedsReauth,
            Some(reason),
        )
        .await?;
        Ok(())
    }
}

/// A secret-free description of a failed revocation.
pub(super) fn revocation_error(
    err: &RequestTokenError<crate::providers::http::ProviderError, BasicRevocationErrorResponse>,
) -> String {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let code = response.error().as_ref();
            if is_safe_code(code) {
                format!("revocation endpoint answered {code}")
            } else {
                "revocation endpoint answered an error".to_owned()
            }
        }
        RequestTokenError::Request(provider) => provider.to_string(),
        RequestTokenError::Parse(..) => "unreadable revocation response".to_owned(),
        RequestTokenError::Other(_) => "revocation request failed".to_owned(),
    }
}
