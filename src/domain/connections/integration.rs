//! What differs between the OAuth integrations: which providers each serves,
//! where its browser pages live, and where the browser goes afterwards.

use crate::{
    config::Config,
    domain::types::{IntegrationKind, Provider},
    oauth::{OAuthEndpoints, LINKEDIN_CALLBACK_PATH},
};

/// An integration whose connections are made through an OAuth flow in the
/// user's browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integration {
    /// LinkedIn profile sync.
    LinkedIn,
}

impl Integration {
    /// The integration kind.
    pub fn kind(self) -> IntegrationKind {
        match self {
            Integration::LinkedIn => IntegrationKind::LinkedIn,
        }
    }

    /// The providers whose flows this integration's pages accept: a flow of
    /// another provider is refused on them.
    pub fn providers(self) -> &'static [Provider] {
        match self {
            Integration::LinkedIn => &[Provider::LinkedIn],
        }
    }

    /// The path of the start page the RPCs hand out.
    pub fn start_path(self) -> &'static str {
        match self {
            Integration::LinkedIn => "/api/v1/integrations/linkedin/auth",
        }
    }

    /// The path the providers send the browser back to.
    pub fn callback_path(self) -> &'static str {
        match self {
            Integration::LinkedIn => LINKEDIN_CALLBACK_PATH,
        }
    }

    /// Where the browser goes after a failure; `error=<code>` is added.
    pub fn failure_redirect(self, config: &Config) -> &str {
        match self {
            Integration::LinkedIn => &config.linkedin.linkedin_failure_redirect,
        }
    }

    /// The failure page with its code.
    pub fn failure_url(self, config: &Config, code: &str) -> String {
        let base = self.failure_redirect(config);
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}error={code}")
    }

    /// The OAuth registration of one of its providers.
    pub fn endpoints(self, config: &Config, provider: Provider) -> Option<OAuthEndpoints> {
        self.providers()
            .contains(&provider)
            .then(|| OAuthEndpoints::for_provider(config, provider))
            .flatten()
    }

    /// Whether its feature flag is on.
    pub fn enabled(self, config: &Config) -> bool {
        match self {
            Integration::LinkedIn => config.linkedin.enable_linkedin_integration,
        }
    }
}
