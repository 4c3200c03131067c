//! Where each provider's OAuth endpoints live: real hosts by default, any
//! standards-conforming server (the sandbox, a staging provider) by configuration.

use secrecy::SecretString;

use crate::{config::Config, vocab::Provider};

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    RequestBody,
    /// HTTP Basic authentication.
    Basic,
}

/// One provider's OAuth client registration and endpoints.
#[derive(Clone, Debug)]
pub struct OAuthEndpoints {
    /// The provider.
    pub provider: Provider,
    /// Our client id at the provider.
    pub client_id: String,
    /// Our client secret, if the provider issued one.
    pub client_secret: Option<SecretString>,
    /// The authorization endpoint.
    pub authorize_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The revocation endpoint, if the provider has one.
    pub revoke_url: Option<String>,
    /// Where the provider sends the browser back: `PUBLIC_BASE_URL` + callback path,
    /// byte-identical in the authorization and token requests.
    pub redirect_uri: String,
    /// Client authentication at the token endpoint.
    pub client_auth: ClientAuth,
    /// Extra authorization parameters (e.g. Google's `access_type=offline`).
    pub extra_authorize_params: Vec<(&'static str, &'static str)>,
    /// Whether the flow uses PKCE (S256).
    pub use_pkce: bool,
    /// The `iss` its callback must carry when it carries one (RFC 9207);
    /// `None`: any issuer on the authorization endpoint's origin.
    pub issuer: Option<String>,
}

/// The OAuth redirect path of LinkedIn.
pub const LINKEDIN_CALLBACK_PATH: &str = "/api/v1/integrations/linkedin/callback";
/// The OAuth redirect path of both calendar providers.
pub const CALENDAR_CALLBACK_PATH: &str = "/api/v1/integrations/calendar/callback";

fn join(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

impl OAuthEndpoints {
    /// Whether a callback's `iss` names this authorization server (RFC 9207):
    /// exactly [`OAuthEndpoints::issuer`] when configured, else any issuer on
    /// the origin of the authorization endpoint.
    pub fn issuer_matches(&self, iss: &str) -> bool {
        if let Some(expected) = &self.issuer {
            return iss == expected;
        }
        let origin = |u: &str| {
            url::Url::parse(u)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        };
        let expected = origin(&self.authorize_url);
        expected.is_some() && origin(iss) == expected
    }

    /// The registration of `provider`, for the providers that use our OAuth client.
    pub fn for_provider(config: &Config, provider: Provider) -> Option<Self> {
        match provider {
            Provider::LinkedIn => Some(Self::linkedin(config)),
            Provider::Google => Some(Self::google(config)),
            Provider::Microsoft => Some(Self::microsoft(config)),
            Provider::Greenhouse => Some(Self::greenhouse(config)),
            _ => None,
        }
    }

    /// Greenhouse Harvest v3's token endpoint for an organization's own
    /// client (client credentials, HTTP Basic; the client and its `sub` are
    /// the connection's, not ours). No browser flow, no revocation endpoint.
    pub fn greenhouse(config: &Config) -> Self {
        Self {
            provider: Provider::Greenhouse,
            client_id: String::new(),
            client_secret: None,
            // the partner flow's page; unused by client credentials
            authorize_url: join(&config.ats.greenhouse_auth_base_url, "/authorize"),
            token_url: join(&config.ats.greenhouse_auth_base_url, "/token"),
            revoke_url: None,
            redirect_uri: String::new(),
            client_auth: ClientAuth::Basic,
            extra_authorize_params: Vec::new(),
            use_pkce: false,
            issuer: None,
        }
    }

    /// LinkedIn ("Sign In with LinkedIn using OpenID Connect"): client credentials in the body.
    pub fn linkedin(config: &Config) -> Self {
        let p = &config.providers;
        Self {
            provider: Provider::LinkedIn,
            client_id: p.linkedin_client_id.clone(),
            client_secret: p.linkedin_client_secret.clone(),
            authorize_url: join(&p.linkedin_oauth_base_url, "/oauth/v2/authorization"),
            token_url: join(&p.linkedin_oauth_base_url, "/oauth/v2/accessToken"),
            revoke_url: Some(join(&p.linkedin_oauth_base_url, "/oauth/v2/revoke")),
            redirect_uri: join(config.public_base(), LINKEDIN_CALLBACK_PATH),
            client_auth: ClientAuth::RequestBody,
            extra_authorize_params: Vec::new(),
            use_pkce: config.linkedin.linkedin_pkce,
            issuer: config.linkedin.linkedin_issuer.clone(),
        }
    }

    /// Google: offline access with a consent prompt, so a refresh token is issued.
    pub fn google(config: &Config) -> Self {
        let p = &config.providers;
        Self {
            provider: Provider::Google,
            client_id: p.google_client_id.clone(),
            client_secret: p.google_client_secret.clone(),
            authorize_url: join(&p.google_oauth_base_url, "/o/oauth2/v2/auth"),
            token_url: join(&p.google_token_base_url, "/token"),
            revoke_url: Some(join(&p.google_token_base_url, "/revoke")),
            redirect_uri: join(config.public_base(), CALENDAR_CALLBACK_PATH),
            client_auth: ClientAuth::RequestBody,
            extra_authorize_params: vec![("access_type", "offline"), ("prompt", "consent")],
            use_pkce: true,
            issuer: None,
        }
    }

    /// Microsoft identity platform v2.0 for the configured tenant.
    pub fn microsoft(config: &Config) -> Self {
        let p = &config.providers;
        let tenant = p.microsoft_tenant.trim_matches('/');
        Self {
            provider: Provider::Microsoft,
            client_id: p.microsoft_client_id.clone(),
            client_secret: p.microsoft_client_secret.clone(),
            authorize_url: join(
                &p.microsoft_oauth_base_url,
                &format!("/{tenant}/oauth2/v2.0/authorize"),
            ),
            token_url: join(
                &p.microsoft_oauth_base_url,
                &format!("/{tenant}/oauth2/v2.0/token"),
            ),
            revoke_url: None,
            redirect_uri: join(config.public_base(), CALENDAR_CALLBACK_PATH),
            client_auth: ClientAuth::RequestBody,
            extra_authorize_params: Vec::new(),
            use_pkce: true,
            issuer: None,
        }
    }
}
