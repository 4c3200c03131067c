//! Starting a connection: an authorization flow with PKCE S256 and a
//! single-use state, bound to the browser that opens its start page.

use chrono::{DateTime, Utc};

use super::{start_page_url, Integration};
use crate::{
    context::AppContext,
    domain::types::Provider,
    error::{AppError, Result},
    oauth::{ConnectionOwner, FlowRequest},
};

/// A started connect.
pub struct StartedAuth {
    /// Our start page, which sends the browser on to the provider.
    pub authorization_url: String,
    pub expires_at: DateTime<Utc>,
    pub scopes: Vec<String>,
}

/// Starts connecting `owner` to `provider` with `scopes`.
pub async fn start_auth(
    ctx: &AppContext,
    owner: &ConnectionOwner,
    provider: Provider,
    scopes: &[&str],
) -> Result<StartedAuth> {
    let integration = Integration::of(provider)
        .ok_or_else(|| AppError::invalid("provider", "not an OAuth provider"))?;
    if !integration.enabled(&ctx.config) {
        return Err(AppError::FailedPrecondition(format!(
            "the {} integration is disabled ({}=false)",
            integration.kind(),
            integration.flag()
        )));
    }
    let endpoints = integration
        .endpoints(&ctx.config, provider)
        .ok_or_else(|| AppError::invalid("provider", "not an OAuth provider"))?;
    let (user_id, organization_id) = match owner {
        ConnectionOwner::User { user_id } => (user_id.as_str(), None),
        ConnectionOwner::Organization { org_id, user_id } => {
            (user_id.as_str(), Some(org_id.as_str()))
        }
    };
    let started = ctx
        .oauth
        .start_flow(FlowRequest {
            endpoints: &endpoints,
            user_id,
            organization_id,
            scopes,
            return_to: integration.success_redirect(&ctx.config),
        })
        .await?;
    Ok(StartedAuth {
        authorization_url: start_page_url(ctx, integration, &started),
        expires_at: started.expires_at,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    })
}
