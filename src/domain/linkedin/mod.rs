//! LinkedIn profile sync: connect (OpenID Connect, plus the Member Data
//! Portability API when the app has it), sync under the user's privacy
//! choices on their schedule or on demand, and disconnect with deletion.
//!
//! The connection itself (start, callback, fresh tokens, health, disconnect,
//! expiry warnings, the due-rows sweep) is the shared lifecycle of
//! [`crate::domain::connections`]; this module holds only LinkedIn's parts.
//!
//! Layout: `settings` (frequency, privacy), `profile` (sections, privacy at
//! ingestion, changes, completeness), `connect` (start, and LinkedIn's
//! [`LinkedInConnector`]), `sync`, `manage` (read, settings, disconnect),
//! `jobs` (the scheduled sweep and the sync job).

mod connect;
pub mod jobs;
mod manage;
pub mod profile;
pub mod settings;
mod sync;

use secrecy::SecretString;

use crate::{
    config::Config,
    context::AppContext,
    error::{AppError, Result},
    providers::linkedin::LinkedInClient,
};

pub use self::{
    connect::{start_auth, LinkedInConnector},
    manage::{disconnect, get_profile, update_settings, ProfileView, SettingsView},
    sync::{sync_now, sync_user, SyncReport, Trigger},
};

/// Scope of the Member Data Portability API for third-party apps.
pub const PORTABILITY_SCOPE: &str = "r_dma_portability_3rd_party";

/// The scopes a connect asks for.
pub fn scopes(config: &Config) -> Vec<&'static str> {
    let mut scopes = vec!["openid", "profile", "email"];
    if config.linkedin.linkedin_portability_enabled {
        scopes.push(PORTABILITY_SCOPE);
    }
    scopes
}

/// `FAILED_PRECONDITION` naming the flag when LinkedIn is switched off.
pub fn ensure_enabled(config: &Config) -> Result<()> {
    if config.linkedin.enable_linkedin_integration {
        Ok(())
    } else {
        Err(AppError::FailedPrecondition(
            "the LinkedIn integration is disabled (ENABLE_LINKEDIN_INTEGRATION=false)".to_owned(),
        ))
    }
}

/// The LinkedIn API client of this process.
pub fn client(ctx: &AppContext) -> LinkedInClient {
    let config = &ctx.config;
    LinkedInClient {
        outbound: ctx.outbound.clone(),
        api_base: config.providers.linkedin_api_base_url.clone(),
        oauth_base: config.providers.linkedin_oauth_base_url.clone(),
        api_version: config.linkedin.linkedin_api_version.clone(),
        client_id: config.providers.linkedin_client_id.clone(),
        client_secret: config
            .providers
            .linkedin_client_secret
            .as_ref()
            .map(|s| SecretString::from(secrecy::ExposeSecret::expose_secret(s).to_owned())),
    }
}
