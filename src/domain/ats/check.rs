//! Credentials checked against the provider before they are stored: a
//! Greenhouse client gets a token for its `sub` user and lists one job (and
//! its Job Board is looked up when one is given); a Lever key lists its
//! users, which also gives the default `perform_as`.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{greenhouse_client, lever_base, lever_client};
use crate::{
    context::AppContext,
    error::{AppError, Result},
    oauth::{OAuthEndpoints, OAuthError, OwnedClient, TokenSet},
    providers::http::ProviderError,
    vocab::Provider,
};

/// A Greenhouse Harvest v3 client and, optionally, its Job Board.
pub struct GreenhouseInput {
    pub client_id: String,
    pub client_secret: SecretString,
    /// The numeric user id the client acts as (`sub`).
    pub user_id: String,
    pub job_board_token: String,
    pub job_board_api_key: Option<SecretString>,
}

/// A Lever API key.
pub struct LeverInput {
    pub api_key: SecretString,
    pub perform_as: String,
    pub eu_region: bool,
    /// The signature token Lever shows for its webhooks.
    pub webhook_signature_token: Option<SecretString>,
}

/// Credentials as an admin gives them.
pub enum CredentialsInput {
    Greenhouse(GreenhouseInput),
    Lever(LeverInput),
}

impl CredentialsInput {
    /// The provider they are for.
    pub fn provider(&self) -> Provider {
        match self {
            CredentialsInput::Greenhouse(_) => Provider::Greenhouse,
            CredentialsInput::Lever(_) => Provider::Lever,
        }
    }
}

/// What may be shown of stored credentials: never a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialSummary {
    #[serde(default)]
    pub client_id: String,
    /// Greenhouse's `sub`; Lever's `perform_as`.
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub job_board_token: String,
    #[serde(default)]
    pub has_job_board_api_key: bool,
    #[serde(default)]
    pub eu_region: bool,
}

/// Credentials that passed the check, ready to be sealed.
pub enum Checked {
    Greenhouse {
        client: OwnedClient,
        tokens: TokenSet,
        summary: CredentialSummary,
    },
    Lever {
        key: SecretString,
        summary: CredentialSummary,
        webhook_signature_token: Option<SecretString>,
    },
}

/// The name of the extra part of a Greenhouse client holding the Job Board key.
pub const JOB_BOARD_KEY: &str = "job_board_api_key";

fn invalid(field: &'static str, reason: &str) -> AppError {
    AppError::InvalidArgument {
        field,
        reason: reason.to_owned(),
    }
}

/// Checks the inputs' form: required parts present, ids of the right shape.
pub fn validate(input: &CredentialsInput) -> Result<()> {
    let text_ok = |s: &str, max: usize| !s.trim().is_empty() && s.len() <= max;
    match input {
        CredentialsInput::Greenhouse(g) => {
            if !text_ok(&g.client_id, 256) {
                return Err(invalid("credentials.greenhouse.client_id", "required"));
            }
            if !text_ok(g.client_secret.expose_secret(), 1024) {
                return Err(invalid("credentials.greenhouse.client_secret", "required"));
            }
            if g.user_id.is_empty()
                || g.user_id.len() > 20
                || !g.user_id.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(invalid(
                    "credentials.greenhouse.user_id",
                    "the numeric Greenhouse user id the client acts as",
                ));
            }
            if !g.job_board_token.is_empty()
                && (g.job_board_token.len() > 128
                    || !g
                        .job_board_token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            {
                return Err(invalid(
                    "credentials.greenhouse.job_board_token",
                    "not a board token",
                ));
            }
            if g.job_board_api_key.is_some() && g.job_board_token.is_empty() {
                return Err(invalid(
                    "credentials.greenhouse.job_board_token",
                    "a job board api key needs its board token",
                ));
            }
        }
        CredentialsInput::Lever(l) => {
            if !text_ok(l.api_key.expose_secret(), 1024) {
                return Err(invalid("credentials.lever.api_key", "required"));
            }
            if l.perform_as.len() > 128 {
                return Err(invalid("credentials.lever.perform_as", "too long"));
            }
        }
    }
    Ok(())
}

/// A provider's refusal as the admin reads it; trouble reaching it as
/// retryable.
fn refused(provider: &str, what: &str, err: &ProviderError) -> AppError {
    if err.is_retryable() {
        AppError::Unavailable(format!(
            "{provider} could not be reached to check the {what}: {err}"
        ))
    } else {
        AppError::FailedPrecondition(format!("{provider} refused the {what}: {err}"))
    }
}

/// Checks the credentials against the provider.
pub async fn check(ctx: &AppContext, input: CredentialsInput) -> Result<Checked> {
    validate(&input)?;
    match input {
        CredentialsInput::Greenhouse(g) => {
            let mut endpoints = OAuthEndpoints::greenhouse(&ctx.config);
            endpoints.client_id = g.client_id.clone();
            endpoints.client_secret = Some(g.client_secret.clone());
            let params = BTreeMap::from([("sub".to_owned(), g.user_id.clone())]);
            let tokens = ctx
                .oauth
                .client_credentials(&endpoints, &[], &params)
                .await
                .map_err(|err| match err {
                    OAuthError::Provider(p) => refused("greenhouse", "client credentials", &p),
                    // the protocol error's text is ours and secret-free
                    OAuthError::Protocol(why) => AppError::FailedPrecondition(format!(
                        "greenhouse refused the client credentials: {why}"
                    )),
                    other => AppError::FailedPrecondition(format!(
                        "greenhouse refused the client credentials: {}",
                        other.code()
                    )),
                })?;
            let client = greenhouse_client(ctx)?;
            let budget_key = format!("check:{}", g.client_id);
            client
                .jobs_page(&tokens.access_token, &budget_key, None, 1)
                .await
                .map_err(|e| refused("greenhouse", "harvest access (harvest:jobs:list)", &e))?;
            if !g.job_board_token.is_empty() {
                client
                    .board(&g.job_board_token)
                    .await
                    .map_err(|e| refused("greenhouse", "job board token", &e))?;
            }
            let mut extra = BTreeMap::new();
            if let Some(key) = &g.job_board_api_key {
                extra.insert(JOB_BOARD_KEY.to_owned(), key.expose_secret().to_owned());
            }
            let summary = CredentialSummary {
                client_id: g.client_id.clone(),
                user_id: g.user_id.clone(),
                job_board_token: g.job_board_token.clone(),
                has_job_board_api_key: g.job_board_api_key.is_some(),
                eu_region: false,
            };
            Ok(Checked::Greenhouse {
                client: OwnedClient {
                    client_id: g.client_id,
                    client_secret: g.client_secret.expose_secret().to_owned(),
                    extra,
                    token_params: params,
                },
                tokens,
                summary,
            })
        }
        CredentialsInput::Lever(l) => {
            let base = lever_base(ctx, l.eu_region)?;
            let budget_key = format!("check:{}", uuid::Uuid::new_v4());
            let users = lever_client(ctx)
                .users(&base, &l.api_key, &budget_key)
                .await
                .map_err(|e| refused("lever", "api key", &e))?;
            let perform_as = if l.perform_as.is_empty() {
                users.first().cloned().ok_or_else(|| {
                    AppError::FailedPrecondition(
                        "the lever api key sees no user to create candidates as".to_owned(),
                    )
                })?
            } else if users.contains(&l.perform_as) {
                l.perform_as.clone()
            } else {
                return Err(AppError::FailedPrecondition(
                    "perform_as is not a user of this lever account".to_owned(),
                ));
            };
            Ok(Checked::Lever {
                key: l.api_key,
                summary: CredentialSummary {
                    user_id: perform_as,
                    eu_region: l.eu_region,
                    ..CredentialSummary::default()
                },
                webhook_signature_token: l.webhook_signature_token,
            })
        }
    }
}
