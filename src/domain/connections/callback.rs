//! The one OAuth callback of every provider: the state, the provider's
//! `error`, the RFC 9207 issuer check, the code exchange and the activity
//! row live here once; the provider's [`Connector`] adds what it fetches and
//! stores. Each integration's callback path lands here: a flow is completed
//! only on the path of its own integration, and only in the browser that
//! opened it.

use std::time::Instant;

use super::{
    connector::{ConnectFailure, Connecting},
    Integration,
};
use crate::vocab::ActivityName;
use crate::{
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        connectors::connector,
        types::ActivityStatus,
    },
    oauth::{CallbackParams, PendingFlow},
    providers::http::is_safe_code,
};

/// Completes a connect from the callback's raw query on `integration`'s
/// path; always answers where to send the browser (the success page, or the
/// failure page with a code). A query whose parameters come twice or do not
/// decode is `invalid_request`. `browser` is the flow cookie the browser
/// presented ([`super::BROWSER_COOKIE`]): a flow opened in another browser is
/// refused with `wrong_browser`, and a flow of another integration with
/// `invalid_state`, both unconsumed.
pub async fn complete_callback(
    ctx: &AppContext,
    integration: Integration,
    raw_query: Option<&str>,
    browser: Option<&str>,
) -> String {
    let config = &ctx.config;
    let failure = |code: &str| integration.failure_url(config, code);
    if !integration.enabled(config) {
        return failure("disabled");
    }
    let params = match CallbackParams::parse_query(raw_query) {
        Ok(params) => params,
        Err(err) => {
            tracing::info!(reason = %err, kind = %integration.kind(), "callback with a bad query");
            return failure("invalid_request");
        }
    };
    let started = Instant::now();
    let Some(state) = params.state.as_deref() else {
        return failure("invalid_state");
    };
    let flow = match ctx
        .oauth
        .take_flow_in_browser(state, integration.providers(), browser)
        .await
    {
        Ok(flow) => flow,
        Err(err) => {
            tracing::info!(reason = %err, kind = %integration.kind(), "callback with a bad state");
            return failure(err.code());
        }
    };
    match complete(ctx, integration, &flow, &params, started).await {
        Ok(()) => integration.success_redirect(config).to_owned(),
        Err(failed) => {
            let _ = record(
                &ctx.db,
                ActivityEvent {
                    provider: flow.provider,
                    activity: ActivityName::OAuthConnect,
                    status: ActivityStatus::Failure,
                    duration: started.elapsed(),
                    message: failed.message,
                    user_id: Some(&flow.user_id),
                    organization_id: flow.organization_id.as_deref(),
                    connection_id: None,
                },
            )
            .await;
            failure(failed.code)
        }
    }
}

async fn complete(
    ctx: &AppContext,
    integration: Integration,
    flow: &PendingFlow,
    params: &CallbackParams,
    started: Instant,
) -> Result<(), ConnectFailure> {
    let provider = flow.provider;
    let Some(connector) = connector(provider) else {
        return Err(ConnectFailure::new(
            "unsupported_provider",
            format!("{provider} connections are not supported yet"),
        ));
    };
    if let Some(error) = params.error.as_deref() {
        let code = if connector.denied_codes().contains(&error) {
            "access_denied"
        } else {
            "provider_error"
        };
        return Err(ConnectFailure::new(
            code,
            format!("{provider} answered {}", sanitize(error)),
        ));
    }
    let Some(endpoints) = integration.endpoints(&ctx.config, provider) else {
        return Err(ConnectFailure::new(
            "unsupported_provider",
            format!("{provider} has no OAuth registration"),
        ));
    };
    if let Some(iss) = params.iss.as_deref() {
        if !endpoints.issuer_matches(iss) {
            return Err(ConnectFailure::new(
                "invalid_issuer",
                "callback from an unexpected issuer",
            ));
        }
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(ConnectFailure::new(
            "invalid_request",
            "callback without a code",
        ));
    };
    let tokens = ctx
        .oauth
        .exchange_code(&endpoints, flow, code)
        .await
        .map_err(|err| {
            ConnectFailure::new(err.code(), format!("code exchange failed: {}", err.code()))
        })?;
    connector
        .connect(Connecting {
            ctx,
            provider,
            flow,
            tokens,
            started,
        })
        .await
}

/// A provider's error code as kept in rows: itself when it is a short machine
/// code, else a fixed word (the callback's `error` is whatever the URL says).
fn sanitize(code: &str) -> &str {
    if is_safe_code(code) {
        code
    } else {
        "an unrecognized error"
    }
}
