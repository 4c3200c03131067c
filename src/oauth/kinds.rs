//! The credential kinds beside a user's OAuth tokens, in the same sealed
//! store: an OAuth client-credentials client (Greenhouse Harvest v3), an
//! OAuth refresh-token client of the owner's own tenant (Workday), an API key
//! used as the Basic user name (Lever, BambooHR, the Greenhouse Job Board),
//! and the webhook signing secrets of a connection.
//!
//! Every sealed value is bound to its row, owner and column, like the tokens.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    tokens::{aad, new_row, seal_tokens, ConnectionOwner, TokenSet},
    OAuthCore, OAuthError,
};
use crate::{
    store::credentials::{self, Credential, CredentialKind},
    vocab::Provider,
};

/// An OAuth client registered by the owner (not by us): what a
/// client-credentials or refresh-token client presents at the token endpoint.
#[derive(Clone, Serialize, Deserialize)]
pub struct OwnedClient {
    pub client_id: String,
    pub client_secret: String,
    /// Other parts the provider needs (a `sub` user, a tenant, a board key).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
    /// Parameters sent with every token request of the client (Greenhouse's
    /// `sub`, the user the client acts as).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub token_params: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for OwnedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .field("token_params", &self.token_params)
            .finish()
    }
}

/// What a connection other than a user's OAuth tokens holds.
pub enum Material<'a> {
    /// An API key, and the key's extra secret parts if any.
    ApiKey {
        key: &'a SecretString,
        extra: Option<&'a OwnedClient>,
    },
    /// A client-credentials client, with the token it was granted when checked.
    ClientCredentials {
        client: &'a OwnedClient,
        tokens: Option<&'a TokenSet>,
    },
    /// A refresh-token client and its grant.
    RefreshClient {
        client: &'a OwnedClient,
        tokens: &'a TokenSet,
    },
}

impl Material<'_> {
    fn kind(&self) -> CredentialKind {
        match self {
            Material::ApiKey { .. } => CredentialKind::ApiKey,
            Material::ClientCredentials { .. } => CredentialKind::OAuthClientCredentials,
            Material::RefreshClient { .. } => CredentialKind::OAuthRefreshClient,
        }
    }
}

/// A new connection of an owner with a provider, by a credential of its own.
pub struct NewCredential<'a> {
    pub provider: Provider,
    pub owner: &'a ConnectionOwner,
    pub account_id: Option<&'a str>,
    pub material: Material<'a>,
    /// The secret the provider signs its webhooks to us with.
    pub webhook_secret: Option<&'a SecretString>,
}

impl OAuthCore {
    /// Stores a connection holding a credential of its own (inside the
    /// caller's transaction); a second one of the same owner and provider
    /// replaces the first's credentials in place. Returns the connection id.
    pub async fn save_credential_in(
        &self,
        txn: &impl ConnectionTrait,
        new: NewCredential<'_>,
    ) -> Result<String, OAuthError> {
        let owner_key = new.owner.key();
        let existing = credentials::find_by_owner(txn, new.provider, &new.owner.owner()).await?;
        if let Some(row) = existing {
            credentials::delete(txn, &row.id).await?;
        }
        let id = uuid::Uuid::now_v7().to_string();
        let keyring = &self.keyring;
        let seal =
            |bytes: &[u8], column: &'static str| keyring.seal(bytes, &aad(&id, &owner_key, column));
        let seal_client = |client: &OwnedClient| -> Result<Vec<u8>, OAuthError> {
            let json = serde_json::to_vec(client)
                .map_err(|_| OAuthError::Protocol("unstorable client".to_owned()))?;
            Ok(seal(&json, "secret")?)
        };
        let (access, refresh, secret, expires, refresh_expires) = match &new.material {
            Material::ApiKey { key, extra } => (
                seal(key.expose_secret().as_bytes(), "access_token")?,
                None,
                extra.map(seal_client).transpose()?,
                None,
                None,
            ),
            Material::ClientCredentials { client, tokens } => {
                let (access, expires) = match tokens {
                    Some(tokens) => (
                        seal_tokens(keyring, &id, &owner_key, tokens)?.0,
                        tokens.expires_at,
                    ),
                    // no token yet: an expired empty one, fetched on first use
                    None => (seal(b"", "access_token")?, Some(Utc::now())),
                };
                (access, None, Some(seal_client(client)?), expires, None)
            }
            Material::RefreshClient { client, tokens } => {
                let (access, refresh) = seal_tokens(keyring, &id, &owner_key, tokens)?;
                (
                    access,
                    refresh,
                    Some(seal_client(client)?),
                    tokens.expires_at,
                    tokens.refresh_expires_at,
                )
            }
        };
        let webhook = new
            .webhook_secret
            .map(|s| seal(s.expose_secret().as_bytes(), "webhook_secret"))
            .transpose()?;
        credentials::insert(
            txn,
            Credential {
                account_id: new.account_id.map(str::to_owned),
                refresh_token: refresh,
                token_expires_at: expires,
                refresh_token_expires_at: refresh_expires,
                secret,
                webhook_secret: webhook,
                ..new_row(
                    &id,
                    new.provider,
                    new.owner,
                    new.material.kind(),
                    access,
                    keyring.primary_kid(),
                )
            },
        )
        .await?;
        Ok(id)
    }

    /// The API key of an [`CredentialKind::ApiKey`] connection.
    pub fn open_api_key(&self, row: &Credential) -> Result<SecretString, OAuthError> {
        if row.credential_kind != CredentialKind::ApiKey {
            return Err(OAuthError::Protocol("not an API key connection".to_owned()));
        }
        self.open_access(row)
    }

    /// The owner's own client of a connection, when it holds one.
    pub fn open_client(&self, row: &Credential) -> Result<Option<OwnedClient>, OAuthError> {
        let Some(sealed) = &row.secret else {
            return Ok(None);
        };
        let json = self
            .keyring
            .open_string(sealed, &aad(&row.id, &row.owner.key(), "secret"))?;
        serde_json::from_str(json.expose_secret())
            .map(Some)
            .map_err(|_| OAuthError::Protocol("unreadable stored client".to_owned()))
    }

    /// The webhook secrets that verify a delivery at `now`: the current one,
    /// and the previous one while its grace period lasts.
    pub fn open_webhook_secrets(
        &self,
        row: &Credential,
        now: DateTime<Utc>,
    ) -> Result<Vec<SecretString>, OAuthError> {
        let mut secrets = Vec::new();
        if let Some(sealed) = &row.webhook_secret {
            secrets.push(
                self.keyring
                    .open_string(sealed, &aad(&row.id, &row.owner.key(), "webhook_secret"))?,
            );
        }
        let in_grace = row.previous_webhook_secret_until.is_some_and(|t| t > now);
        if let (Some(sealed), true) = (&row.previous_webhook_secret, in_grace) {
            secrets.push(self.keyring.open_string(
                sealed,
                &aad(&row.id, &row.owner.key(), "previous_webhook_secret"),
            )?);
        }
        Ok(secrets)
    }

    /// Replaces a connection's webhook secret; the old one keeps verifying
    /// for `grace`. Fails when the row changed meanwhile (try again).
    pub async fn rotate_webhook_secret(
        &self,
        db: &impl ConnectionTrait,
        connection_id: &str,
        new_secret: &SecretString,
        grace: Duration,
    ) -> Result<(), OAuthError> {
        let mut row = credentials::find(db, connection_id)
            .await?
            .ok_or(OAuthError::UnknownConnection)?;
        if row.key_id != self.keyring.primary_kid() {
            // every column of a row is sealed with one key
            self.rewrap_row(db, &row).await?;
            row = credentials::find(db, connection_id)
                .await?
                .ok_or(OAuthError::UnknownConnection)?;
        }
        let seal = |bytes: &[u8], column: &'static str| {
            self.keyring
                .seal(bytes, &aad(&row.id, &row.owner.key(), column))
        };
        let current = seal(new_secret.expose_secret().as_bytes(), "webhook_secret")?;
        let previous = match &row.webhook_secret {
            Some(old) => {
                let plain = self
                    .keyring
                    .open(old, &aad(&row.id, &row.owner.key(), "webhook_secret"))?;
                Some(seal(&plain, "previous_webhook_secret")?)
            }
            None => None,
        };
        let until = previous.as_ref().map(|_| Utc::now() + grace);
        let stored = credentials::replace_webhook_secrets(
            db,
            &row,
            current,
            previous,
            until,
            self.keyring.primary_kid(),
        )
        .await?;
        if stored {
            Ok(())
        } else {
            Err(OAuthError::Protocol(
                "connection changed concurrently, try again".to_owned(),
            ))
        }
    }
}
