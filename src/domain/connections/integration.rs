//! What differs between the OAuth integrations: which providers each serves,
//! where its browser pages live, and where the browser goes afterwards.

use crate::{
    config::Config,
    domain::types::{IntegrationKind, Provider},
    oauth::{OAuthEndpoints, CALENDAR_CALLBACK_PATH, LINKEDIN_CALLBACK_PATH},
};

/// An integration whose connections are made through an OAuth flow in the
/// user's browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integration {
    /// LinkedIn profile sync.
    LinkedIn,
    /// Google Calendar and Microsoft Outlook.
    Calendar,
}

impl Integration {
    /// Every OAuth integration.
    pub const ALL: [Integration; 2] = [Integration::LinkedIn, Integration::Calendar];

    /// The integration kind.
    pub fn kind(self) -> IntegrationKind {
        match self {
            Integration::LinkedIn => IntegrationKind::LinkedIn,
            Integration::Calendar => IntegrationKind::Calendar,
        }
    }

    /// The integration a provider's connections belong to.
    pub fn of(provider: Provider) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|i| i.providers().contains(&provider))
    }

    /// The providers whose flows this integration's pages accept: a flow of
    /// another provider is refused on them.
    pub fn providers(self) -> &'static [Provider] {
        match self {
            Integration::LinkedIn => &[Provider::LinkedIn],
            Integration::Calendar => &[Provider::Google, Provider::Microsoft],
        }
    }

    /// The path of the start page the RPCs hand out.
    pub fn start_path(self) -> &'static str {
        match self {
            Integration::LinkedIn => "/api/v1/integrations/linkedin/auth",
            Integration::Calendar => "/api/v1/integrations/calendar/auth",
        }
    }

    /// The path the providers send the browser back to.
    pub fn callback_path(self) -> &'static str {
        match self {
            Integration::LinkedIn => LINKEDIN_CALLBACK_PATH,
            Integration::Calendar => CALENDAR_CALLBACK_PATH,
        }
    }

    /// Where the browser goes after a connect.
    pub fn success_redirect(self, config: &Config) -> &str {
        match self {
            Integration::LinkedIn => &config.linkedin.linkedin_success_redirect,
            Integration::Calendar => &config.calendar.calendar_success_redirect,
        }
    }

    /// Where the browser goes after a failure; `error=<code>` is added.
    pub fn failure_redirect(self, config: &Config) -> &str {
        match self {
            Integration::LinkedIn => &config.linkedin.linkedin_failure_redirect,
            Integration::Calendar => &config.calendar.calendar_failure_redirect,
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
            Integration::Calendar => config.calendar.enable_calendar_integration,
        }
    }

    /// The flag's name, for errors.
    pub fn flag(self) -> &'static str {
        match self {
            Integration::LinkedIn => "ENABLE_LINKEDIN_INTEGRATION",
            Integration::Calendar => "ENABLE_CALENDAR_INTEGRATION",
        }
    }
}
