//! Connecting: the authorization URL, and the callback that exchanges the
//! code, fetches and stores the profile, and sends the browser on.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, TransactionTrait};

use super::{
    client,
    profile::{Capability, Profile, Section, SectionTimes},
    scopes,
    settings::{Frequency, Privacy},
    sync::privacy_of,
    PORTABILITY_SCOPE,
};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        connections::{start_page_url, Integration},
        types::{ActivityStatus, Provider},
    },
    error::Result,
    oauth::{CallbackParams, ConnectionOwner, FlowRequest, OAuthEndpoints, OAuthError},
    providers::{
        http::is_safe_code,
        profile::{FetchPlan, ProfileProvider},
    },
    store::linkedin_profiles::{self, ProfileChange},
};

/// A started connect.
pub struct StartedAuth {
    pub authorization_url: String,
    pub expires_at: DateTime<Utc>,
    pub scopes: Vec<String>,
}

/// Starts connecting the caller's LinkedIn account.
pub async fn start_auth(ctx: &AppContext, caller: &Identity) -> Result<StartedAuth> {
    super::ensure_enabled(&ctx.config)?;
    let endpoints = OAuthEndpoints::linkedin(&ctx.config);
    let scopes = scopes(&ctx.config);
    let started = ctx
        .oauth
        .start_flow(FlowRequest {
            endpoints: &endpoints,
            user_id: &caller.user_id,
            organization_id: None,
            scopes: &scopes,
            return_to: &ctx.config.linkedin.linkedin_success_redirect,
        })
        .await?;
    Ok(StartedAuth {
        authorization_url: start_page_url(ctx, Integration::LinkedIn, &started),
        expires_at: started.expires_at,
        scopes: scopes.into_iter().map(str::to_owned).collect(),
    })
}

fn with_error(base: &str, code: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}error={code}")
}

/// Whether `iss` names the configured authorization server: exactly
/// `LINKEDIN_ISSUER` when set, else any issuer on the OAuth host's origin.
fn issuer_matches(ctx: &AppContext, iss: &str) -> bool {
    if let Some(expected) = &ctx.config.linkedin.linkedin_issuer {
        return iss == expected;
    }
    let origin = |u: &str| {
        url::Url::parse(u)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    };
    let expected = origin(&ctx.config.providers.linkedin_oauth_base_url);
    expected.is_some() && origin(iss) == expected
}

/// Completes a connect from the callback's raw query; always answers where
/// to send the browser (the success page, or the failure page with a code).
/// A query whose parameters come twice or do not decode is `invalid_request`.
/// `browser` is the flow cookie the browser presented ([`BROWSER_COOKIE`]):
/// a flow opened in another browser is refused with `wrong_browser`, unconsumed.
///
/// [`BROWSER_COOKIE`]: crate::domain::connections::BROWSER_COOKIE
pub async fn complete_callback(
    ctx: &AppContext,
    raw_query: Option<&str>,
    browser: Option<&str>,
) -> String {
    let settings = &ctx.config.linkedin;
    let failure = |code: &str| with_error(&settings.linkedin_failure_redirect, code);
    if super::ensure_enabled(&ctx.config).is_err() {
        return failure("disabled");
    }
    let params = match CallbackParams::parse_query(raw_query) {
        Ok(params) => params,
        Err(err) => {
            tracing::info!(reason = %err, "linkedin callback with a bad query");
            return failure("invalid_request");
        }
    };
    let started = Instant::now();
    let Some(state) = params.state.as_deref() else {
        return failure("invalid_state");
    };
    let flow = match ctx
        .oauth
        .take_flow_in_browser(state, &[Provider::LinkedIn], browser)
        .await
    {
        Ok(flow) => flow,
        Err(err) => {
            tracing::info!(reason = %err, "linkedin callback with a bad state");
            return failure(err.code());
        }
    };
    let user = flow.user_id.clone();
    let fail = |code: &'static str, message: String| {
        let user = user.clone();
        async move {
            let _ = record(
                &ctx.db,
                ActivityEvent {
                    provider: Provider::LinkedIn,
                    activity: "oauth.connect",
                    status: ActivityStatus::Failure,
                    duration: started.elapsed(),
                    message,
                    user_id: Some(&user),
                    organization_id: None,
                    connection_id: None,
                },
            )
            .await;
            failure(code)
        }
    };
    if let Some(error) = params.error.as_deref() {
        let denied = matches!(
            error,
            "user_cancelled_login" | "user_cancelled_authorize" | "access_denied"
        );
        let code = if denied {
            "access_denied"
        } else {
            "provider_error"
        };
        return fail(code, format!("linkedin answered {}", sanitize(error))).await;
    }
    if let Some(iss) = params.iss.as_deref() {
        if !issuer_matches(ctx, iss) {
            return fail(
                "invalid_issuer",
                "callback from an unexpected issuer".to_owned(),
            )
            .await;
        }
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return fail("invalid_request", "callback without a code".to_owned()).await;
    };
    let endpoints = OAuthEndpoints::linkedin(&ctx.config);
    let tokens = match ctx.oauth.exchange_code(&endpoints, &flow, code).await {
        Ok(tokens) => tokens,
        Err(err) => return fail(err.code(), format!("code exchange failed: {}", err.code())).await,
    };
    match store_connection(ctx, &flow.user_id, &flow.scopes, tokens, started).await {
        Ok(()) => settings.linkedin_success_redirect.clone(),
        Err((code, message)) => fail(code, message).await,
    }
}

/// Error code and secret-free message of a failed connect.
type ConnectFailure = (&'static str, String);

async fn store_connection(
    ctx: &AppContext,
    user_id: &str,
    requested: &[String],
    tokens: crate::oauth::TokenSet,
    started: Instant,
) -> std::result::Result<(), ConnectFailure> {
    let granted: Vec<String> = tokens.scopes.clone().unwrap_or_else(|| requested.to_vec());
    let wants_portability = granted.iter().any(|s| s == PORTABILITY_SCOPE);
    // what to fetch follows the settings as they are now; what is stored
    // follows them as they are when it is stored (they may change meanwhile)
    let existing = linkedin_profiles::find(&ctx.db, user_id)
        .await
        .map_err(|_| ("internal_error", "database error".to_owned()))?;
    let privacy = existing.as_ref().map(privacy_of).unwrap_or_default();
    let plan = FetchPlan {
        portability: wants_portability,
        experience: privacy.experience,
        education: privacy.education,
        skills: privacy.skills,
    };
    let fetched = client(ctx)
        .fetch_profile(&tokens.access_token, plan)
        .await
        .map_err(|err| {
            let code = if err.is_retryable() {
                "provider_unavailable"
            } else {
                "provider_error"
            };
            (code, format!("profile fetch failed: {err}"))
        })?;
    let capability = if wants_portability && !fetched.portability_refused {
        Capability::Portability
    } else {
        Capability::OpenIdConnect
    };
    let member_id = fetched.member_id.clone();
    let now = Utc::now();
    let owner = ConnectionOwner::User {
        user_id: user_id.to_owned(),
    };
    let db_error = |_| ("internal_error", "database error".to_owned());
    let txn = ctx.db.begin().await.map_err(db_error)?;
    // a first connect gets the default settings; a reconnect keeps the
    // user's, read under the row lock that UpdateLinkedInSettings takes too
    linkedin_profiles::insert_if_absent(&txn, new_row(user_id, now))
        .await
        .map_err(db_error)?;
    let row = linkedin_profiles::lock(&txn, user_id)
        .await
        .map_err(db_error)?
        .ok_or(("internal_error", "database error".to_owned()))?;
    let privacy = privacy_of(&row);
    let frequency = Frequency::parse(&row.frequency).unwrap_or(Frequency::Weekly);
    let profile = Profile::from_fetched(fetched, privacy, capability);
    let times: SectionTimes = Section::ALL
        .into_iter()
        .filter(|s| profile.has(*s))
        .map(|s| (s.as_str().to_owned(), now))
        .collect();
    let connection_id = ctx
        .oauth
        .save_connection_in(
            &txn,
            Provider::LinkedIn,
            &owner,
            Some(&member_id),
            &tokens,
            requested,
        )
        .await
        .map_err(|err: OAuthError| (err.code(), "storing the connection failed".to_owned()))?;
    linkedin_profiles::update(
        &txn,
        user_id,
        ProfileChange {
            connection_id: Set(connection_id.clone()),
            capability: Set(capability.as_str().to_owned()),
            basic: Set(json(&profile.basic)),
            experience: Set(profile.experience.as_ref().map(json)),
            education: Set(profile.education.as_ref().map(json)),
            skills: Set(profile.skills.as_ref().map(json)),
            sections_synced_at: Set(json(&times)),
            last_synced_at: Set(Some(now)),
            last_changed_at: Set(Some(now)),
            next_sync_at: Set(frequency.next_after(now)),
            last_manual_sync_at: Set(None),
            expiry_notified_at: Set(None),
            ..Default::default()
        },
    )
    .await
    .map_err(db_error)?;
    let sections: Vec<&str> = times.keys().map(String::as_str).collect();
    record(
        &txn,
        ActivityEvent {
            provider: Provider::LinkedIn,
            activity: "oauth.connect",
            status: ActivityStatus::Success,
            duration: started.elapsed(),
            message: format!(
                "connected ({}); synced: {}",
                capability.as_str(),
                sections.join(", ")
            ),
            user_id: Some(user_id),
            organization_id: None,
            connection_id: Some(&connection_id),
        },
    )
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    ctx.connections
        .invalidate(&crate::store::credentials::user_owner(user_id));
    Ok(())
}

/// The row of a first connect: default settings, nothing synced yet.
fn new_row(user_id: &str, now: DateTime<Utc>) -> linkedin_profiles::ProfileRow {
    let privacy = Privacy::default();
    linkedin_profiles::ProfileRow {
        user_id: user_id.to_owned(),
        connection_id: String::new(),
        capability: Capability::OpenIdConnect.as_str().to_owned(),
        sync_picture: privacy.picture,
        sync_experience: privacy.experience,
        sync_education: privacy.education,
        sync_skills: privacy.skills,
        frequency: Frequency::Weekly.as_str().to_owned(),
        basic: json(&serde_json::Map::new()),
        experience: None,
        education: None,
        skills: None,
        sections_synced_at: json(&SectionTimes::new()),
        last_synced_at: None,
        last_changed_at: None,
        next_sync_at: None,
        last_manual_sync_at: None,
        expiry_notified_at: None,
        created_at: now,
        updated_at: now,
    }
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

/// A stored section as JSON.
pub(super) fn json<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
