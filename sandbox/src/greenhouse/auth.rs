//! `POST /token` (auth.greenhouse.io): Harvest v3's client-credentials
//! grant, and the bearer tokens it hands out.
//!
//! Request (verified, HV3 authentication): HTTP Basic `client_id:client_secret`,
//! form `grant_type=client_credentials&sub=<numeric user id>`. Answer: `200
//! {"access_token", "token_type": "Bearer", "expires_in", "expires_at"}`;
//! the shape is NOT verified (one third-party client reads `expires_at`,
//! another `expires_in`), so both are sent. Errors are NOT verified either:
//! `401 {"error": "invalid_client"}` for a bad client, `400 {"error":
//! "invalid_request", "error_description"}` for a missing, non-numeric or
//! unknown `sub` (a third-party guide says a missing `sub` gives a
//! service-account token; the sandbox refuses it), `400 {"error":
//! "unsupported_grant_type"}` for another grant.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{SecondsFormat, Utc};
use parking_lot::Mutex;
use serde_json::json;

use super::GreenhouseSandbox;
use crate::random_token;
use crate::request::{basic_credentials, bearer};

/// What a bearer token stands for.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// The client it was issued to (the rate limit is per client).
    pub(crate) client_id: String,
    /// `sub`: the user the integration acts as.
    pub(crate) user_id: u64,
    /// The client's scopes.
    pub(crate) scopes: Arc<[String]>,
    expires: Instant,
}

impl Grant {
    /// Whether the grant holds `scope`.
    pub(crate) fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Issued tokens and the switches tests flip on them.
#[derive(Default)]
pub(crate) struct Tokens {
    map: Mutex<HashMap<String, Grant>>,
    issued: AtomicU64,
    lifetime: Mutex<Option<Duration>>,
}

impl Tokens {
    pub(crate) fn new(lifetime: Option<Duration>) -> Self {
        Self {
            lifetime: Mutex::new(lifetime),
            ..Self::default()
        }
    }

    pub(crate) fn set_lifetime(&self, lifetime: Option<Duration>) {
        *self.lifetime.lock() = lifetime;
    }

    pub(crate) fn revoke_all(&self) {
        self.map.lock().clear();
    }

    pub(crate) fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    pub(crate) fn active(&self) -> usize {
        let now = Instant::now();
        self.map.lock().values().filter(|g| g.expires > now).count()
    }

    /// Issue a token; it really lives `min(advertised, lifetime switch)`.
    pub(crate) fn issue(
        &self,
        client_id: &str,
        user_id: u64,
        scopes: Arc<[String]>,
        advertised: Duration,
    ) -> String {
        let lives = self
            .lifetime
            .lock()
            .map_or(advertised, |l| l.min(advertised));
        let token = random_token();
        self.issued.fetch_add(1, Ordering::Relaxed);
        let mut map = self.map.lock();
        let now = Instant::now();
        map.retain(|_, g| g.expires > now);
        map.insert(
            token.clone(),
            Grant {
                client_id: client_id.to_owned(),
                user_id,
                scopes,
                expires: now + lives,
            },
        );
        token
    }

    /// The live grant of a bearer token.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Option<Grant> {
        let token = bearer(headers)?;
        let map = self.map.lock();
        map.get(token)
            .filter(|g| g.expires > Instant::now())
            .cloned()
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /token`.
pub(crate) async fn token(
    State(gh): State<GreenhouseSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((id, secret)) = basic_credentials(&headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    let Some(client) = gh
        .config()
        .clients
        .iter()
        .find(|c| c.client_id == id && c.client_secret == secret)
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let Some(sub) = form.get("sub").filter(|s| !s.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "sub is required",
        );
    };
    let Ok(user_id) = sub.parse::<u64>() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "sub must be a numeric user id",
        );
    };
    if !gh.config().user_ids.contains(&user_id) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "unknown user");
    }
    let ttl = gh.config().token_ttl;
    let scopes: Arc<[String]> = client.scopes.clone().into();
    let token = gh
        .inner
        .tokens
        .issue(&client.client_id, user_id, scopes, ttl);
    let expires_at = (Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_default())
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
        "expires_at": expires_at,
    }))
    .into_response()
}
