//! The authorization endpoint (RFC 6749 §4.1.1, PKCE RFC 7636 §4.3).
//!
//! Errors about the client or the redirect URI are answered with a 400 page,
//! never a redirect (§4.1.2.1: redirecting to an unverified URI would make the
//! server an open redirector). Every other error goes back to the client as a
//! redirect with `error`, `error_description` and `state`.

use std::time::SystemTime;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::{
    is_pkce_string, parse_params, parse_scopes, random_token, CodeRecord, Consent, OAuthServer,
    PkceMode, RefreshTokenRule,
};

/// `GET authorize_path`.
pub(super) async fn authorize(
    State(server): State<OAuthServer>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match parse_params(query.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(_) => return error_page("a parameter is repeated"),
    };
    let get = |name: &str| params.get(name).map(String::as_str);

    let Some(client) = get("client_id").and_then(|id| server.client(id)) else {
        return error_page("unknown or missing client_id");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return error_page("missing redirect_uri");
    };
    if !client.allows_redirect(redirect_uri) {
        return error_page("redirect_uri is not registered for this client");
    }

    // From here on the redirect URI is trusted: errors go back to the client.
    let issuer = server.callback_issuer();
    let back = Callback {
        redirect_uri,
        state: get("state"),
        iss: issuer.as_deref(),
    };
    if get("response_type") != Some("code") {
        return back.error(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let challenge = match (server.config.pkce, get("code_challenge")) {
        (PkceMode::Rejected, _) | (PkceMode::Optional, None) => None,
        (PkceMode::Required, None) => {
            return back.error("invalid_request", "code_challenge is required (PKCE)");
        }
        (PkceMode::Required | PkceMode::Optional, Some(challenge)) => {
            if get("code_challenge_method") != Some("S256") {
                return back.error("invalid_request", "code_challenge_method must be S256");
            }
            if !is_pkce_string(challenge) {
                return back.error("invalid_request", "code_challenge is malformed");
            }
            Some(challenge.to_owned())
        }
    };
    let scopes = parse_scopes(get("scope"));
    if let Some(allowed) = &server.config.allowed_scopes {
        if scopes.iter().any(|s| !allowed.contains(s)) {
            return back.error(
                &server.config.scope_error,
                "a requested scope is not allowed",
            );
        }
    }
    if server.consent() == Consent::Deny {
        return back.error(
            &server.config.denied_error,
            &server.config.denied_error_description,
        );
    }

    let refresh_allowed = match &server.config.refresh_token_rule {
        RefreshTokenRule::Always => true,
        RefreshTokenRule::WithScope(scope) => scopes.iter().any(|s| s == scope),
        RefreshTokenRule::WithParams(pairs) => pairs.iter().all(|(k, v)| get(k) == Some(v)),
    };
    let code = random_token();
    let subject = server.subject();
    {
        let mut st = server.state.lock();
        let grant_id = st.new_grant();
        st.codes.insert(
            code.clone(),
            CodeRecord {
                subject,
                client_id: client.client_id.clone(),
                redirect_uri: redirect_uri.to_owned(),
                scopes,
                challenge,
                expires_at: SystemTime::now() + server.config.code_ttl,
                used: false,
                grant_id,
                refresh_allowed,
            },
        );
    }
    tracing::debug!(client_id = %client.client_id, "sandbox issued an authorization code");
    back.redirect(&[("code", &code)])
}

/// Where and how to send the member back to the client.
struct Callback<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    iss: Option<&'a str>,
}

impl Callback<'_> {
    fn error(&self, error: &str, description: &str) -> Response {
        self.redirect(&[("error", error), ("error_description", description)])
    }

    fn redirect(&self, pairs: &[(&str, &str)]) -> Response {
        // The URI was validated as an absolute URL (or registered exactly) before.
        let Ok(mut url) = url::Url::parse(self.redirect_uri) else {
            return error_page("redirect_uri is not an absolute URL");
        };
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
            if let Some(state) = self.state {
                q.append_pair("state", state);
            }
            if let Some(iss) = self.iss {
                q.append_pair("iss", iss);
            }
        }
        (
            StatusCode::FOUND,
            [
                (header::LOCATION, url.to_string()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response()
    }
}

/// The 400 page for errors that must not redirect. `message` is a fixed text,
/// never an echo of the request.
fn error_page(message: &'static str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>invalid request</title><h1>invalid request</h1><p>{message}</p>"
        )),
    )
        .into_response()
}
