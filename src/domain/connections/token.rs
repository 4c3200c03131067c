//! A provider call with a fresh credential: the access token (refreshed
//! first when it expires soon), or the API key; on a 401, one refresh where
//! the connection can refresh and one retry; otherwise the connection needs
//! its owner to reconnect. Every provider client gets this for free.

use std::future::Future;

use secrecy::SecretString;

use super::health;
use crate::{
    context::AppContext,
    error::AppError,
    oauth::{OAuthEndpoints, OAuthError, RefreshWhen},
    providers::http::ProviderError,
    store::credentials::{Credential, CredentialKind},
};

/// Why a call with a connection's credential did not succeed.
#[derive(Debug)]
pub enum CallError {
    /// The provider no longer accepts the connection: the owner must
    /// reconnect (the connection is marked `needs_reauth`).
    Reauth,
    /// The provider's answer, classified.
    Provider(ProviderError),
    /// Our side (database, keys).
    App(AppError),
}

impl CallError {
    fn from_oauth(err: OAuthError) -> Self {
        match err {
            err if err.needs_reauth() => CallError::Reauth,
            OAuthError::Provider(provider) => CallError::Provider(provider),
            err => CallError::App(err.into()),
        }
    }
}

/// Calls `call` with the connection's credential, refreshing and retrying
/// once on a 401 where the connection can refresh. A refusal the refresh
/// cannot cure marks the connection `needs_reauth` and answers
/// [`CallError::Reauth`].
pub async fn with_fresh_token<T, F, Fut>(
    ctx: &AppContext,
    endpoints: &OAuthEndpoints,
    connection: &Credential,
    call: F,
) -> Result<T, CallError>
where
    F: Fn(SecretString) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let outcome = call_with_fresh_token(ctx, endpoints, connection, call).await;
    if let Err(CallError::Reauth) = &outcome {
        reauth_notice(ctx, connection).await;
    }
    outcome
}

/// Tells the owner, once per connection, that it must be reconnected (the
/// provider's connector decides how: an in-app notification, an email).
pub async fn reauth_notice(ctx: &AppContext, connection: &Credential) {
    if let Some(own) = crate::domain::connectors::connector(connection.provider) {
        own.needs_reauth(ctx, connection).await;
    }
}

async fn call_with_fresh_token<T, F, Fut>(
    ctx: &AppContext,
    endpoints: &OAuthEndpoints,
    connection: &Credential,
    call: F,
) -> Result<T, CallError>
where
    F: Fn(SecretString) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let oauth = &ctx.oauth;
    let token = match connection.credential_kind {
        CredentialKind::ApiKey => oauth.open_api_key(connection),
        _ => oauth.access_token_of(endpoints, connection).await,
    }
    .map_err(CallError::from_oauth)?;
    let refused = match call(token).await {
        Ok(value) => return Ok(value),
        Err(err) if err.is_reauth() => err,
        Err(err) => return Err(CallError::Provider(err)),
    };
    let renewable = match connection.credential_kind {
        CredentialKind::ApiKey => false,
        CredentialKind::OAuthClientCredentials => true,
        CredentialKind::OAuthUserToken | CredentialKind::OAuthRefreshClient => {
            connection.refresh_token.is_some()
        }
    };
    if !renewable {
        reauth(ctx, connection, &refused).await?;
        return Err(CallError::Reauth);
    }
    // the token was refused: refresh once (unless somebody just did) and retry
    let token = oauth
        .refresh(
            endpoints,
            &connection.id,
            RefreshWhen::VersionIs(connection.token_version),
        )
        .await
        .map_err(CallError::from_oauth)?;
    match call(token).await {
        Ok(value) => Ok(value),
        Err(err) if err.is_reauth() => {
            reauth(ctx, connection, &err).await?;
            Err(CallError::Reauth)
        }
        Err(err) => Err(CallError::Provider(err)),
    }
}

async fn reauth(
    ctx: &AppContext,
    connection: &Credential,
    err: &ProviderError,
) -> Result<(), CallError> {
    health::needs_reauth(
        ctx,
        &connection.id,
        &format!("{} refused the credential: {err}", connection.provider),
    )
    .await
    .map_err(|e| CallError::App(e.into()))
}
