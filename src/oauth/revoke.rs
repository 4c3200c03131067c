//! Revoking a connection's grant at the provider (RFC 7009), through the
//! `oauth2` crate's revocation request and the provider's `revoke_url`.

use oauth2::{AccessToken, RefreshToken, RevocationUrl, StandardRevocableToken};
use secrecy::ExposeSecret;

use super::{
    tokens::build_client,
    transport::{is_loopback, OAuthTransport},
    OAuthCore, OAuthEndpoints,
};
use crate::store::credentials::Credential;

/// What a revocation came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// The provider confirmed it.
    Confirmed,
    /// The provider has no revocation endpoint.
    Unsupported,
    /// The provider refused or could not be reached; our copy goes anyway.
    NotConfirmed,
}

impl Revocation {
    /// Whether the provider confirmed it.
    pub fn confirmed(self) -> bool {
        self == Revocation::Confirmed
    }
}

impl OAuthCore {
    /// Revokes a connection's grant: its refresh token when it has one (which
    /// ends the whole grant, RFC 7009 §2.1), else its access token. Never
    /// fails: a revocation that does not go through is `NotConfirmed`, and
    /// the caller deletes its copy anyway.
    pub async fn revoke(&self, endpoints: &OAuthEndpoints, row: &Credential) -> Revocation {
        let Some(revoke_url) = endpoints.revoke_url.as_deref() else {
            return Revocation::Unsupported;
        };
        let token = match self.open_refresh(row) {
            Ok(Some(refresh)) => StandardRevocableToken::RefreshToken(RefreshToken::new(
                refresh.expose_secret().to_owned(),
            )),
            Ok(None) => match self.open_access(row) {
                Ok(access) => StandardRevocableToken::AccessToken(AccessToken::new(
                    access.expose_secret().to_owned(),
                )),
                Err(_) => return Revocation::NotConfirmed,
            },
            Err(_) => return Revocation::NotConfirmed,
        };
        // the crate sends revocations only to https URLs; the simulated
        // providers on loopback speak http, which the transport restores
        let loopback = is_loopback_http(revoke_url);
        let url = if loopback {
            revoke_url.replacen("http://", "https://", 1)
        } else {
            revoke_url.to_owned()
        };
        let Ok(url) = RevocationUrl::new(url) else {
            return Revocation::NotConfirmed;
        };
        let client = match build_client(endpoints) {
            Ok(client) => client.set_revocation_url(url),
            Err(_) => return Revocation::NotConfirmed,
        };
        let transport = OAuthTransport {
            outbound: &self.outbound,
            provider: endpoints.provider.as_str(),
            operation: "token.revoke",
            credential_key: Some(&row.id),
            loopback_plain_http: loopback,
        };
        let request = match client.revoke_token(token) {
            Ok(request) => request,
            Err(_) => return Revocation::NotConfirmed,
        };
        match request.request_async(&transport).await {
            Ok(()) => Revocation::Confirmed,
            Err(err) => {
                tracing::warn!(
                    provider = endpoints.provider.as_str(),
                    error = %super::tokens::revocation_error(&err),
                    "revocation not confirmed; deleting our copy anyway"
                );
                Revocation::NotConfirmed
            }
        }
    }
}

/// Whether `url` is a plain `http` URL of a loopback host.
fn is_loopback_http(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.scheme() == "http" && is_loopback(&u))
}
