//! Binding a flow to the browser that starts it (RFC 9700 §4.7.1).
//!
//! `Start*Auth` answers a URL of our own start page, not the provider's. The
//! start page sets a short-lived browser cookie ([`BROWSER_COOKIE`]), records
//! its hash in the flow, and sends the browser on to the provider. The
//! callback completes the flow only in a browser presenting that cookie, so a
//! provider URL that an attacker obtained for their own user and sent to
//! somebody else links nothing: the victim's browser lacks the cookie.

use secrecy::ExposeSecret;

use super::Integration;
use crate::{context::AppContext, oauth::StartedFlow};

/// Name of the cookie that identifies the browser of a flow.
pub const BROWSER_COOKIE: &str = "nextke_oauth_browser";

/// The start page URL of a started flow: what `Start*Auth` answers.
pub fn start_page_url(ctx: &AppContext, integration: Integration, flow: &StartedFlow) -> String {
    let mut url = format!("{}{}", ctx.config.public_base(), integration.start_path());
    url.push_str("?flow=");
    // the state is base64url: nothing to escape
    url.push_str(flow.state.expose_secret());
    url
}

/// Opens the flow `state` in the browser whose cookie is `browser`: on success
/// the provider's authorization URL, else the failure page to send it to.
pub async fn open_flow(
    ctx: &AppContext,
    integration: Integration,
    state: &str,
    browser: &str,
) -> Result<String, String> {
    let config = &ctx.config;
    if !integration.enabled(config) {
        return Err(integration.failure_url(config, "disabled"));
    }
    ctx.oauth
        .open_in_browser(state, integration.providers(), browser, |provider| {
            integration.endpoints(config, provider)
        })
        .await
        .map_err(|err| {
            tracing::info!(reason = %err, kind = %integration.kind(), "start page refused a flow");
            integration.failure_url(config, err.code())
        })
}
