//! Starting an authorization-code flow and taking it back at the callback.
//!
//! The `state` is 256 random bits, stored only as its SHA-256, bound to the
//! user, the organization and the provider, single use and valid for
//! [`STATE_TTL`]. The PKCE verifier is sealed in the same row.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Duration, Utc};
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::{tokens::build_client, OAuthCore, OAuthEndpoints, OAuthError};
use sea_orm::TransactionTrait;

use crate::{
    crypto::Aad,
    store::{oauth_states, rate_windows},
    vocab::Provider,
};

/// How long a user has to come back from the provider.
pub const STATE_TTL: Duration = Duration::minutes(10);

const TABLE: &str = "oauth_states";
const VERIFIER_COLUMN: &str = "pkce_verifier";

/// How many flows one user may start, and keep pending. Every replica shares
/// the count, which lives in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLimits {
    /// Flows one user may start per `window` (0: no limit).
    pub starts_per_window: u32,
    /// The length of that window.
    pub window: std::time::Duration,
    /// Pending flows kept per user; starting another drops the oldest.
    pub max_pending: u32,
}

impl Default for FlowLimits {
    fn default() -> Self {
        Self {
            starts_per_window: 10,
            window: std::time::Duration::from_secs(60),
            max_pending: 5,
        }
    }
}

/// Who starts a flow, for which provider, asking for what.
pub struct FlowRequest<'a> {
    pub endpoints: &'a OAuthEndpoints,
    pub user_id: &'a str,
    /// Set when an organization admin connects an organization-wide integration.
    pub organization_id: Option<&'a str>,
    pub scopes: &'a [&'a str],
    /// Where the browser goes after the callback (a path or an allowed URL).
    pub return_to: &'a str,
}

/// A started flow: send the user's browser to `authorization_url`, or (to
/// bind the flow to that browser) to a start page that calls
/// [`OAuthCore::open_in_browser`] with `state`.
#[derive(Clone, Debug)]
pub struct StartedFlow {
    pub authorization_url: String,
    /// The flow's state, the handle of its start page.
    pub state: SecretString,
    pub expires_at: DateTime<Utc>,
}

/// A flow taken back at the callback, with its PKCE verifier opened.
pub struct PendingFlow {
    pub provider: Provider,
    pub user_id: String,
    pub organization_id: Option<String>,
    pub pkce_verifier: SecretString,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub return_to: String,
}

/// SHA-256 of a state, hex: what the table stores.
fn state_hash(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (hex) of a browser cookie: what a flow's row keeps of it.
pub fn browser_hash(cookie: &str) -> String {
    state_hash(cookie)
}

/// A fresh browser cookie value: 256 random bits.
pub fn new_browser_secret() -> String {
    random_state()
}

/// The provider's authorization URL of a flow: the same for the RPC and for
/// the start page, which rebuilds it from the stored verifier.
fn authorization_url<'s>(
    endpoints: &OAuthEndpoints,
    state: &str,
    verifier: &PkceCodeVerifier,
    scopes: impl Iterator<Item = &'s str>,
) -> Result<String, OAuthError> {
    let client = build_client(endpoints)?;
    let mut auth = client
        .authorize_url(|| CsrfToken::new(state.to_owned()))
        .add_scopes(scopes.map(|s| Scope::new(s.to_owned())));
    if endpoints.use_pkce {
        auth = auth.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(verifier));
    }
    for (name, value) in &endpoints.extra_authorize_params {
        auth = auth.add_extra_param(*name, *value);
    }
    Ok(auth.url().0.to_string())
}

fn random_state() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl OAuthCore {
    /// Stores a pending flow and returns the provider's authorization URL.
    pub async fn start_flow(&self, request: FlowRequest<'_>) -> Result<StartedFlow, OAuthError> {
        let endpoints = request.endpoints;
        if endpoints.client_id.is_empty() {
            return Err(OAuthError::NotConfigured(endpoints.provider.as_str()));
        }
        let state = random_state();
        let hash = state_hash(&state);
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        let url = authorization_url(endpoints, &state, &verifier, request.scopes.iter().copied())?;

        let sealed_verifier = self.keyring.seal(
            verifier.secret().as_bytes(),
            &Aad::new(TABLE, VERIFIER_COLUMN, &hash, request.user_id),
        )?;
        let now = Utc::now();
        let expires_at = now + STATE_TTL;
        let limits = self.limits;
        let window = Duration::from_std(limits.window)
            .unwrap_or(Duration::days(1))
            .min(Duration::days(1));
        let row = oauth_states::PendingFlow {
            state_hash: hash,
            provider: endpoints.provider,
            user_id: request.user_id.to_owned(),
            organization_id: request.organization_id.map(str::to_owned),
            pkce_verifier: sealed_verifier,
            redirect_uri: endpoints.redirect_uri.clone(),
            scopes: request.scopes.join(" "),
            return_to: request.return_to.to_owned(),
            expires_at,
            created_at: now,
            browser_hash: None,
        };
        let key = format!("oauth_start:{}", request.user_id);
        let txn = self.db.begin().await?;
        // the counter first: on SQLite it takes the write lock at once
        let counted = if limits.starts_per_window == 0 {
            None
        } else {
            Some(rate_windows::hit(&txn, &key, now, window).await?)
        };
        if let Some(counted) = counted.filter(|c| c.hits > limits.starts_per_window as i32) {
            let retry_after = (counted.started_at + window - now)
                .to_std()
                .unwrap_or_default()
                .max(std::time::Duration::from_secs(1));
            txn.rollback().await?;
            return Err(OAuthError::TooManyFlows { retry_after });
        }
        oauth_states::insert(&txn, row).await?;
        oauth_states::keep_newest(&txn, request.user_id, u64::from(limits.max_pending.max(1)))
            .await?;
        txn.commit().await?;
        Ok(StartedFlow {
            authorization_url: url,
            state: SecretString::from(state),
            expires_at,
        })
    }

    /// Takes the flow of `state` out of storage, once: a replay, an expired
    /// state, another provider's state or (when `expected_user` is given)
    /// another user's state is refused. A foreign state is left in place so
    /// its rightful owner can still finish.
    pub async fn take_flow(
        &self,
        state: &str,
        providers: &[Provider],
        expected_user: Option<&str>,
    ) -> Result<PendingFlow, OAuthError> {
        self.take_checked(state, providers, |row| {
            if expected_user.is_some_and(|u| u != row.user_id) {
                Err(OAuthError::ForeignState)
            } else {
                Ok(())
            }
        })
        .await
    }

    /// [`OAuthCore::take_flow`] at the callback: the flow must also have been
    /// opened in this browser ([`OAuthCore::open_in_browser`]), whose cookie is
    /// `browser`. A flow that was not, or was opened in another browser, is
    /// refused and left in place, so the browser that started it can finish.
    pub async fn take_flow_in_browser(
        &self,
        state: &str,
        providers: &[Provider],
        browser: Option<&str>,
    ) -> Result<PendingFlow, OAuthError> {
        let presented = browser.map(browser_hash);
        self.take_checked(state, providers, |row| {
            match (&row.browser_hash, &presented) {
                (Some(bound), Some(presented)) if bound == presented => Ok(()),
                _ => Err(OAuthError::ForeignBrowser),
            }
        })
        .await
    }

    /// Sends a browser on to the provider: binds the flow of `state` to this
    /// browser (its cookie `browser`; the first browser to open it wins) and
    /// answers the provider's authorization URL. `endpoints_of` gives the
    /// registration of the flow's provider.
    pub async fn open_in_browser(
        &self,
        state: &str,
        providers: &[Provider],
        browser: &str,
        endpoints_of: impl Fn(Provider) -> Option<OAuthEndpoints>,
    ) -> Result<String, OAuthError> {
        if state.is_empty() || state.len() > 256 || browser.len() > 256 {
            return Err(OAuthError::UnknownState);
        }
        let hash = state_hash(state);
        let now = Utc::now();
        let Some(row) =
            oauth_states::bind_browser(&self.db, &hash, &browser_hash(browser), now).await?
        else {
            return Err(match oauth_states::find(&self.db, &hash).await? {
                None => OAuthError::UnknownState,
                Some(row) if row.expires_at <= now => OAuthError::ExpiredState,
                Some(_) => OAuthError::ForeignBrowser,
            });
        };
        let provider = Some(row.provider)
            .filter(|p| providers.contains(p))
            .ok_or(OAuthError::ForeignState)?;
        let endpoints = endpoints_of(provider).ok_or(OAuthError::ForeignState)?;
        let verifier = self.keyring.open_string(
            &row.pkce_verifier,
            &Aad::new(TABLE, VERIFIER_COLUMN, &hash, &row.user_id),
        )?;
        let verifier = PkceCodeVerifier::new(verifier.expose_secret().to_owned());
        authorization_url(&endpoints, state, &verifier, row.scopes.split_whitespace())
    }

    async fn take_checked(
        &self,
        state: &str,
        providers: &[Provider],
        check: impl FnOnce(&oauth_states::PendingFlow) -> Result<(), OAuthError>,
    ) -> Result<PendingFlow, OAuthError> {
        if state.is_empty() || state.len() > 256 {
            return Err(OAuthError::UnknownState);
        }
        let hash = state_hash(state);
        let row = oauth_states::find(&self.db, &hash)
            .await?
            .ok_or(OAuthError::UnknownState)?;
        let provider = row.provider;
        if !providers.contains(&provider) {
            return Err(OAuthError::ForeignState);
        }
        check(&row)?;
        let row = oauth_states::take(&self.db, &hash)
            .await?
            .ok_or(OAuthError::UnknownState)?;
        if row.expires_at <= Utc::now() {
            return Err(OAuthError::ExpiredState);
        }
        let verifier = self.keyring.open_string(
            &row.pkce_verifier,
            &Aad::new(TABLE, VERIFIER_COLUMN, &hash, &row.user_id),
        )?;
        Ok(PendingFlow {
            provider,
            user_id: row.user_id,
            organization_id: row.organization_id,
            pkce_verifier: verifier,
            redirect_uri: row.redirect_uri,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            return_to: row.return_to,
        })
    }
}

impl PendingFlow {
    /// The verifier, for the token request only.
    pub(crate) fn verifier(&self) -> &str {
        self.pkce_verifier.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_long_random_and_hashed() {
        let a = random_state();
        let b = random_state();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(state_hash(&a).len(), 64);
        assert_ne!(state_hash(&a), a);
    }
}
