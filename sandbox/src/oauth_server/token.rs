//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; PKCE RFC 7636 §4.6)
//! and the revocation endpoint (RFC 7009).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;

use super::{
    is_pkce_string, parse_params, parse_scopes, pkce_s256, random_token, AccessRecord, ClientAuth,
    OAuthClient, OAuthServer, PkceMode, RefreshRecord, State as ServerState, TokenInfo,
};

/// An RFC 6749 §5.2 error answer.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    /// Add `WWW-Authenticate: Basic` (the client tried HTTP Basic and failed).
    basic_challenge: bool,
}

impl OAuthError {
    fn bad(error: &'static str, description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description,
            basic_challenge: false,
        }
    }

    fn invalid_request(description: &'static str) -> Self {
        Self::bad("invalid_request", description)
    }

    fn invalid_grant(description: &'static str) -> Self {
        Self::bad("invalid_grant", description)
    }

    fn invalid_client(description: &'static str, basic_challenge: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description,
            basic_challenge,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        });
        let mut resp = (self.status, no_store(), Json(body)).into_response();
        if self.basic_challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"sandbox\""),
            );
        }
        resp
    }
}

fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

/// A successful token answer (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_in: Option<u64>,
}

type Params = HashMap<String, String>;

/// `POST token_path`.
pub(super) async fn token(
    State(server): State<OAuthServer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = parse_form(&headers, &body).and_then(|params| {
        let grant_type = params.get("grant_type").cloned().unwrap_or_default();
        *server
            .state
            .lock()
            .token_requests
            .entry(grant_type.clone())
            .or_default() += 1;
        let client = authenticate(&server, &headers, &params)?;
        match grant_type.as_str() {
            "authorization_code" => authorization_code(&server, client, &params),
            "refresh_token" => refresh_token(&server, client, &params),
            "client_credentials" => client_credentials(&server, client, &params),
            "" => Err(OAuthError::invalid_request("grant_type is required")),
            _ => Err(OAuthError::bad(
                "unsupported_grant_type",
                "grant_type is not supported",
            )),
        }
    });
    match result {
        Ok(tokens) => (StatusCode::OK, no_store(), Json(tokens)).into_response(),
        Err(e) => {
            tracing::debug!(error = e.error, "sandbox token request refused");
            e.into_response()
        }
    }
}

/// `POST revoke_path` (RFC 7009): unknown tokens are answered 200 as well.
pub(super) async fn revoke(
    State(server): State<OAuthServer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = parse_form(&headers, &body).and_then(|params| {
        // Without client authentication (Google), any client's token is revoked.
        let client_id = if server.config.revoke_requires_client_auth {
            Some(authenticate(&server, &headers, &params)?.client_id.clone())
        } else {
            None
        };
        let ours = |id: &str| client_id.as_deref().is_none_or(|c| c == id);
        let token = params
            .get("token")
            .ok_or(OAuthError::invalid_request("token is required"))?;
        let mut st = server.state.lock();
        let grant = st
            .access
            .get(token)
            .filter(|r| ours(&r.info.client_id))
            .map(|r| (r.grant_id, false))
            .or_else(|| {
                st.refresh
                    .get(token)
                    .filter(|r| ours(&r.client_id))
                    .map(|r| (r.grant_id, true))
            });
        match grant {
            // Revoking a refresh token ends the whole grant (RFC 7009 §2.1).
            Some((grant_id, true)) => st.revoke_grant(grant_id),
            Some((grant_id, false)) if server.config.revoke_access_ends_grant => {
                st.revoke_grant(grant_id)
            }
            Some((_, false)) => st.revoke_access(token),
            None => {}
        }
        Ok(())
    });
    match result {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => e.into_response(),
    }
}

fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::invalid_request(
            "content-type must be application/x-www-form-urlencoded",
        ));
    }
    let raw =
        std::str::from_utf8(body).map_err(|_| OAuthError::invalid_request("body is not utf-8"))?;
    parse_params(raw).map_err(|_| OAuthError::invalid_request("a parameter is repeated"))
}

/// Client authentication (RFC 6749 §2.3), as allowed by the configuration.
fn authenticate<'a>(
    server: &'a OAuthServer,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'a OAuthClient, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .map(|v| {
            parse_basic(v).ok_or(OAuthError::invalid_client(
                "malformed authorization header",
                true,
            ))
        })
        .transpose()?;
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let mode = server.config.client_auth;

    let (client_id, secret, used_basic) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use only one client authentication method",
            ))
        }
        (Some((id, secret)), None) => {
            if mode == ClientAuth::Body {
                return Err(OAuthError::invalid_client(
                    "http basic client authentication is not accepted",
                    false,
                ));
            }
            if body_id.is_some_and(|b| *b != id) {
                return Err(OAuthError::invalid_request("client_id does not match"));
            }
            (id, Some(secret), true)
        }
        (None, Some(secret)) => {
            if mode == ClientAuth::Basic {
                return Err(OAuthError::invalid_client(
                    "client credentials in the body are not accepted",
                    false,
                ));
            }
            let id = body_id.ok_or(OAuthError::invalid_request("client_id is required"))?;
            (id.clone(), Some(secret.clone()), false)
        }
        (None, None) => {
            let id = body_id.ok_or(OAuthError::invalid_client(
                "client authentication required",
                false,
            ))?;
            (id.clone(), None, false)
        }
    };
    let client = server
        .client(&client_id)
        .ok_or(OAuthError::invalid_client("unknown client", used_basic))?;
    if client.client_secret != secret {
        return Err(OAuthError::invalid_client(
            "client authentication failed",
            used_basic,
        ));
    }
    Ok(client)
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

/// Undo `application/x-www-form-urlencoded` encoding of one component.
fn form_decode(s: &str) -> String {
    let encoded = s.replace('&', "%26").replace('=', "%3D");
    url::form_urlencoded::parse(format!("x={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn authorization_code(
    server: &OAuthServer,
    client: &OAuthClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .get("code")
        .ok_or(OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or(OAuthError::invalid_request("redirect_uri is required"))?;
    let verifier = params.get("code_verifier");
    match server.config.pkce {
        PkceMode::Required if verifier.is_none() => {
            return Err(OAuthError::invalid_request("code_verifier is required"));
        }
        // LinkedIn's web flow fails client authentication on a verifier.
        PkceMode::Rejected if verifier.is_some() => {
            return Err(OAuthError::invalid_client(
                "client authentication failed",
                false,
            ));
        }
        _ => {}
    }

    let mut st = server.state.lock();
    let rec = st
        .codes
        .get_mut(code)
        .ok_or(OAuthError::invalid_grant("authorization code is invalid"))?;
    if rec.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    if rec.used {
        // A replayed code revokes what it granted (RFC 6749 §4.1.2).
        let grant_id = rec.grant_id;
        st.revoke_grant(grant_id);
        return Err(OAuthError::invalid_grant(
            "authorization code was already used",
        ));
    }
    // Any attempt consumes the code, successful or not.
    rec.used = true;
    if rec.expires_at <= SystemTime::now() {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    if rec.redirect_uri != *redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (rec.challenge.as_deref(), verifier) {
        (Some(challenge), Some(verifier)) => {
            if !is_pkce_string(verifier) {
                return Err(OAuthError::invalid_request("code_verifier is malformed"));
            }
            if pkce_s256(verifier) != challenge {
                return Err(OAuthError::invalid_grant("pkce verification failed"));
            }
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_request("code_verifier is required"));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent but the authorization request had no code_challenge",
            ));
        }
        (None, None) => {}
    }
    let (subject, scopes, grant_id) = (rec.subject.clone(), rec.scopes.clone(), rec.grant_id);
    let with_refresh = server.config.issue_refresh_tokens && rec.refresh_allowed;
    let refresh = with_refresh.then(|| RefreshRecord {
        subject: subject.clone(),
        client_id: client.client_id.clone(),
        scopes: scopes.clone(),
        expires_at: server
            .config
            .refresh_token_ttl
            .map(|ttl| SystemTime::now() + ttl),
        grant_id,
    });
    Ok(issue(
        server, &mut st, &subject, client, scopes, grant_id, refresh,
    ))
}

fn refresh_token(
    server: &OAuthServer,
    client: &OAuthClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let token = params
        .get("refresh_token")
        .ok_or(OAuthError::invalid_request("refresh_token is required"))?;
    let mut st = server.state.lock();
    let rec = st
        .refresh
        .get(token)
        .cloned()
        .ok_or(OAuthError::invalid_grant("refresh token is invalid"))?;
    if rec.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "refresh token was issued to another client",
        ));
    }
    if rec.expires_at.is_some_and(|e| e <= SystemTime::now()) {
        st.refresh.remove(token);
        return Err(OAuthError::invalid_grant("refresh token expired"));
    }
    let scopes = match params.get("scope") {
        None => rec.scopes.clone(),
        Some(s) => {
            let asked = parse_scopes(Some(s));
            if asked.iter().any(|s| !rec.scopes.contains(s)) {
                return Err(OAuthError::bad(
                    "invalid_scope",
                    "scope exceeds the original grant",
                ));
            }
            asked
        }
    };
    let next = if server.config.rotate_refresh_tokens {
        st.refresh.remove(token);
        Some(rec.clone())
    } else {
        None
    };
    Ok(issue(
        server,
        &mut st,
        &rec.subject,
        client,
        scopes,
        rec.grant_id,
        next,
    ))
}

fn client_credentials(
    server: &OAuthServer,
    client: &OAuthClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    if client.client_secret.is_none() {
        return Err(OAuthError::bad(
            "unauthorized_client",
            "public clients cannot use client_credentials",
        ));
    }
    let scopes = parse_scopes(params.get("scope").map(String::as_str));
    if let Some(allowed) = &server.config.allowed_scopes {
        if scopes.iter().any(|s| !allowed.contains(s)) {
            return Err(OAuthError::bad(
                "invalid_scope",
                "a requested scope is not allowed",
            ));
        }
    }
    let mut st = server.state.lock();
    let grant_id = st.new_grant();
    let subject = client.client_id.clone();
    Ok(issue(
        server, &mut st, &subject, client, scopes, grant_id, None,
    ))
}

/// Store a new access token (and refresh token, if `refresh` is given) and
/// build the answer.
fn issue(
    server: &OAuthServer,
    st: &mut ServerState,
    subject: &str,
    client: &OAuthClient,
    scopes: Vec<String>,
    grant_id: u64,
    refresh: Option<RefreshRecord>,
) -> TokenResponse {
    let ttl = server.config.access_token_ttl;
    let access_token = random_token();
    let mut scopes = scopes;
    if server.config.sort_response_scopes {
        scopes.sort();
    }
    let scope = scopes.join(&server.config.response_scope_separator);
    st.access.insert(
        access_token.clone(),
        AccessRecord {
            info: TokenInfo {
                subject: subject.to_owned(),
                client_id: client.client_id.clone(),
                scopes,
                expires_at: SystemTime::now() + ttl,
            },
            grant_id,
        },
    );
    let mut refresh_token = None;
    let mut refresh_token_expires_in = None;
    if let Some(rec) = refresh {
        let token = random_token();
        refresh_token_expires_in = rec.expires_at.map(|e| {
            e.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
                .as_secs()
        });
        st.refresh.insert(token.clone(), rec);
        refresh_token = Some(token);
    }
    TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
        scope,
        refresh_token,
        refresh_token_expires_in,
    }
}
