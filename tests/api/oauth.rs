//! The OAuth core against the sandbox authorization server: PKCE, single-use
//! state, code exchange, sealed storage and single-flight refresh.

use std::sync::Arc;

use nextke_integrations::{
    domain::types::Provider,
    oauth::{ConnectionOwner, FlowRequest, OAuthEndpoints, OAuthError, PendingFlow},
    proto::{self, GetIntegrationStatusRequest},
    store::credentials,
};
use nextke_sandbox::oauth_server::{OAuthServer, DEFAULT_SUBJECT};
use secrecy::ExposeSecret;
use url::Url;

use crate::{
    db_tests,
    helpers::{
        authed, fresh_database, no_redirect_client, oauth_sandbox, spawn_app_with, sql,
        test_config, token, Backend, TestApp,
    },
};

const SCOPES: &[&str] = &["openid", "profile", "email"];

/// A server whose LinkedIn OAuth host is a sandbox authorization server.
pub struct Rig {
    pub app: TestApp,
    pub sandbox: OAuthServer,
    pub _handle: nextke_sandbox::SandboxHandle,
    pub endpoints: OAuthEndpoints,
}

async fn rig(backend: Backend) -> Rig {
    rig_with(backend, |_| {}).await
}

/// A rig whose server configuration `edit` adjusts first.
pub async fn rig_with(
    backend: Backend,
    edit: impl FnOnce(&mut nextke_integrations::config::Config),
) -> Rig {
    rig_of(backend, |_| {}, edit).await
}

/// A rig whose sandbox and server configurations are adjusted first.
async fn rig_of(
    backend: Backend,
    sandbox: impl FnOnce(&mut nextke_sandbox::oauth_server::OAuthServerConfig),
    edit: impl FnOnce(&mut nextke_integrations::config::Config),
) -> Rig {
    let (sandbox, handle) = oauth_sandbox(sandbox).await;
    let mut config = test_config(&fresh_database(backend).await);
    config.providers.linkedin_oauth_base_url = handle.base_url();
    edit(&mut config);
    let app = spawn_app_with(backend, config).await;
    let endpoints = OAuthEndpoints::linkedin(&app.ctx.config);
    Rig {
        app,
        sandbox,
        _handle: handle,
        endpoints,
    }
}

impl Rig {
    /// Starts a flow for `user` and lets the sandbox consent: returns (code, state).
    pub async fn authorize(&self, user: &str) -> (String, String) {
        let started = self
            .app
            .ctx
            .oauth
            .start_flow(FlowRequest {
                endpoints: &self.endpoints,
                user_id: user,
                organization_id: None,
                scopes: SCOPES,
                return_to: "/settings",
            })
            .await
            .expect("start flow");
        let url = Url::parse(&started.authorization_url).expect("url");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(
            query.get("code_challenge_method").map(String::as_str),
            Some("S256")
        );
        assert_eq!(query.get("response_type").map(String::as_str), Some("code"));
        assert_eq!(
            query.get("redirect_uri").map(String::as_str),
            Some(
                format!(
                    "{}/api/v1/integrations/linkedin/callback",
                    self.app.base_url
                )
                .as_str()
            )
        );
        let state = query.get("state").expect("state").clone();
        assert!(state.len() >= 22, "state carries at least 128 bits");

        let response = no_redirect_client()
            .get(started.authorization_url)
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), 302);
        let location = Url::parse(
            response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .expect("location"),
        )
        .expect("redirect url");
        let back: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(back.get("state"), Some(&state));
        (back.get("code").expect("code").clone(), state)
    }

    pub async fn take(&self, state: &str, user: Option<&str>) -> Result<PendingFlow, OAuthError> {
        self.app
            .ctx
            .oauth
            .take_flow(state, &[Provider::LinkedIn], user)
            .await
    }

    /// A full connect for `user`; returns the connection id.
    pub async fn connect(&self, user: &str) -> String {
        let (code, state) = self.authorize(user).await;
        let flow = self.take(&state, Some(user)).await.expect("take flow");
        let tokens = self
            .app
            .ctx
            .oauth
            .exchange_code(&self.endpoints, &flow, &code)
            .await
            .expect("exchange");
        self.app
            .ctx
            .oauth
            .save_connection(
                Provider::LinkedIn,
                &ConnectionOwner::User {
                    user_id: user.into(),
                },
                Some(DEFAULT_SUBJECT),
                &tokens,
                &flow.scopes,
            )
            .await
            .expect("save")
    }

    pub async fn expire_access_token(&self, id: &str) {
        sql(
            &self.app,
            &format!(
                "UPDATE oauth_credentials SET token_expires_at = '2000-01-01 00:00:00+00:00' WHERE id = '{id}'"
            ),
        )
        .await;
    }
}

async fn connect_exchanges_code_with_pkce_and_stores_tokens(backend: Backend) {
    let rig = rig(backend).await;
    let id = rig.connect("u1").await;
    let access = rig
        .app
        .ctx
        .oauth
        .access_token(&rig.endpoints, &id)
        .await
        .expect("access token");
    let info = rig
        .sandbox
        .validate_access_token(access.expose_secret())
        .expect("the sandbox issued this token");
    assert_eq!(info.subject, DEFAULT_SUBJECT);
    assert_eq!(rig.sandbox.token_requests("authorization_code"), 1);
    let row = credentials::find(&rig.app.ctx.db, &id)
        .await
        .expect("db")
        .expect("row");
    assert!(row.refresh_token.is_some());
    assert!(row.token_expires_at.is_some());
    assert_eq!(row.scopes, "openid profile email");

    // the client's credentials travel in the form body, per LinkedIn's docs
    let token_request = rig
        ._handle
        .log
        .matching(http::Method::POST, "/oauth/v2/accessToken")
        .into_iter()
        .next()
        .expect("token request logged");
    assert_eq!(
        token_request.form_field("client_id").as_deref(),
        Some(crate::helpers::CLIENT_ID)
    );
    assert!(token_request.form_field("client_secret").is_some());
    assert!(token_request.form_field("code_verifier").is_some());
    rig.app.stop().await;
}

async fn state_is_single_use_expires_and_belongs_to_its_user(backend: Backend) {
    let rig = rig(backend).await;

    // replay
    let (_, state) = rig.authorize("u1").await;
    rig.take(&state, Some("u1")).await.expect("first use");
    assert!(matches!(
        rig.take(&state, Some("u1")).await,
        Err(OAuthError::UnknownState)
    ));
    assert!(matches!(
        rig.take("made-up-state", None).await,
        Err(OAuthError::UnknownState)
    ));

    // another user's state is refused and left for its owner
    let (_, state) = rig.authorize("u1").await;
    assert!(matches!(
        rig.take(&state, Some("u2")).await,
        Err(OAuthError::ForeignState)
    ));
    let wrong_provider = rig
        .app
        .ctx
        .oauth
        .take_flow(&state, &[Provider::Google, Provider::Microsoft], None)
        .await;
    assert!(matches!(wrong_provider, Err(OAuthError::ForeignState)));
    rig.take(&state, Some("u1"))
        .await
        .expect("owner still completes");

    // expiry
    let (_, state) = rig.authorize("u1").await;
    sql(
        &rig.app,
        "UPDATE oauth_states SET expires_at = '2000-01-01 00:00:00+00:00'",
    )
    .await;
    assert!(matches!(
        rig.take(&state, Some("u1")).await,
        Err(OAuthError::ExpiredState)
    ));
    assert!(matches!(
        rig.take(&state, Some("u1")).await,
        Err(OAuthError::UnknownState)
    ));
    rig.app.stop().await;
}

async fn sandbox_checks_pkce_verifier(backend: Backend) {
    let rig = rig(backend).await;
    let (code_a, _state_a) = rig.authorize("u1").await;
    let (_code_b, state_b) = rig.authorize("u1").await;
    let flow_b = rig.take(&state_b, Some("u1")).await.expect("flow b");
    // code A with flow B's verifier: the challenge does not match
    let err = rig
        .app
        .ctx
        .oauth
        .exchange_code(&rig.endpoints, &flow_b, &code_a)
        .await
        .expect_err("wrong verifier refused");
    assert!(matches!(err, OAuthError::InvalidGrant), "{err:?}");
    rig.app.stop().await;
}

async fn fifty_concurrent_callers_cause_one_refresh(backend: Backend) {
    let rig = Arc::new(rig(backend).await);
    let id = rig.connect("u1").await;
    rig.expire_access_token(&id).await;

    let mut tasks = Vec::new();
    for _ in 0..50 {
        let rig = rig.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            rig.app
                .ctx
                .oauth
                .access_token(&rig.endpoints, &id)
                .await
                .map(|t| t.expose_secret().to_owned())
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.expect("join").expect("fresh token"));
    }
    assert_eq!(
        rig.sandbox.token_requests("refresh_token"),
        1,
        "exactly one refresh"
    );
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "everyone got the same new token");
    assert!(rig.sandbox.validate_access_token(&tokens[0]).is_some());

    // the rotated refresh token was stored: the next refresh works
    rig.expire_access_token(&id).await;
    rig.app
        .ctx
        .oauth
        .access_token(&rig.endpoints, &id)
        .await
        .expect("second refresh with the rotated token");
    assert_eq!(rig.sandbox.token_requests("refresh_token"), 2);
    assert_eq!(rig.sandbox.active_refresh_tokens(), 1);
    let rig = Arc::try_unwrap(rig).ok().expect("sole owner");
    rig.app.stop().await;
}

/// First connects of one owner racing each other leave one connection, and
/// none of them fails: the unique key turns the losers into updates.
async fn racing_first_connects_leave_one_connection(backend: Backend) {
    let rig = Arc::new(rig(backend).await);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let rig = rig.clone();
        tasks.push(tokio::spawn(async move {
            let tokens = nextke_integrations::oauth::TokenSet {
                access_token: secrecy::SecretString::from(format!("access-{n}")),
                refresh_token: None,
                expires_at: None,
                refresh_expires_at: None,
                scopes: None,
            };
            rig.app
                .ctx
                .oauth
                .save_connection(
                    Provider::LinkedIn,
                    &ConnectionOwner::User {
                        user_id: "racer".into(),
                    },
                    None,
                    &tokens,
                    &[],
                )
                .await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("join").expect("every connect succeeds"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one connection: {ids:?}");
    let endpoints = rig.endpoints.clone();
    let token = rig
        .app
        .ctx
        .oauth
        .access_token(&endpoints, &ids[0])
        .await
        .expect("the stored token opens");
    assert!(token.expose_secret().starts_with("access-"));
    let rig = Arc::try_unwrap(rig).ok().expect("sole owner");
    rig.app.stop().await;
}

/// A provider that does not rotate refresh tokens answers a refresh without
/// one: the stored refresh token stays, and the next refresh still works.
async fn a_refresh_without_a_new_refresh_token_keeps_the_stored_one(backend: Backend) {
    let rig = rig_of(backend, |c| c.rotate_refresh_tokens = false, |_| {}).await;
    let id = rig.connect("u1").await;
    let before = credentials::find(&rig.app.ctx.db, &id)
        .await
        .expect("find")
        .expect("row");
    for round in 1..=2 {
        rig.expire_access_token(&id).await;
        rig.app
            .ctx
            .oauth
            .access_token(&rig.endpoints, &id)
            .await
            .unwrap_or_else(|e| panic!("refresh {round}: {e}"));
        assert_eq!(rig.sandbox.token_requests("refresh_token"), round);
    }
    let after = credentials::find(&rig.app.ctx.db, &id)
        .await
        .expect("find")
        .expect("row");
    assert_eq!(
        after.refresh_token, before.refresh_token,
        "the stored one stays"
    );
    assert_ne!(after.access_token, before.access_token);
    rig.app.stop().await;
}

async fn invalid_grant_marks_needs_reauth_and_is_not_retried(backend: Backend) {
    let rig = rig(backend).await;
    let id = rig.connect("u1").await;
    rig.sandbox.revoke_all_for_subject(DEFAULT_SUBJECT);
    rig.expire_access_token(&id).await;
    let err = rig
        .app
        .ctx
        .oauth
        .access_token(&rig.endpoints, &id)
        .await
        .expect_err("refused");
    assert!(err.needs_reauth(), "{err:?}");
    assert_eq!(
        rig.sandbox.token_requests("refresh_token"),
        1,
        "not retried"
    );

    let again = rig.app.ctx.oauth.access_token(&rig.endpoints, &id).await;
    assert!(matches!(again, Err(OAuthError::InvalidGrant)));
    assert_eq!(
        rig.sandbox.token_requests("refresh_token"),
        1,
        "no new attempt"
    );

    let mut client = rig.app.integration().await;
    // the refresh ran in the core, not an RPC: the status cache hears of it by notification
    let started = std::time::Instant::now();
    let status = loop {
        let status = client
            .get_integration_status(authed(GetIntegrationStatusRequest {}, &token("u1", &[])))
            .await
            .expect("status")
            .into_inner();
        if status.linkedin.first().map(|c| c.state()) == Some(proto::ConnectionState::NeedsReauth) {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(status.linkedin.len(), 1);
    assert!(!status.linkedin[0].last_error.is_empty());
    let activity = client
        .list_activity(authed(
            proto::ListActivityRequest::default(),
            &token("u1", &[]),
        ))
        .await
        .expect("activity")
        .into_inner();
    assert!(activity
        .activities
        .iter()
        .any(|a| a.activity == "token.refresh" && a.status() == proto::ActivityStatus::Failure));
    rig.app.stop().await;
}

async fn client_credentials_grant(backend: Backend) {
    let rig = rig(backend).await;
    let tokens = rig
        .app
        .ctx
        .oauth
        .client_credentials(&rig.endpoints, &["harvest:jobs:list"], &Default::default())
        .await
        .expect("client credentials");
    assert!(rig
        .sandbox
        .validate_access_token(tokens.access_token.expose_secret())
        .is_some());
    assert_eq!(rig.sandbox.token_requests("client_credentials"), 1);
    rig.app.stop().await;
}

/// An organization's client-credentials connection renews its own token,
/// presenting the organization's client (not ours) at the token endpoint.
async fn a_client_credentials_connection_renews_with_its_own_client(backend: Backend) {
    use nextke_integrations::oauth::{Material, NewCredential, OwnedClient};
    use sea_orm::TransactionTrait;
    let rig = rig(backend).await;
    let config = &rig.app.ctx.config.providers;
    let owned = OwnedClient {
        client_id: config.linkedin_client_id.clone(),
        client_secret: config
            .linkedin_client_secret
            .as_ref()
            .expect("test secret")
            .expose_secret()
            .to_owned(),
        extra: Default::default(),
        token_params: Default::default(),
    };
    let txn = rig.app.ctx.db.begin().await.expect("txn");
    let id = rig
        .app
        .ctx
        .oauth
        .save_credential_in(
            &txn,
            NewCredential {
                provider: Provider::Greenhouse,
                owner: &ConnectionOwner::Organization {
                    org_id: "org-1".into(),
                    user_id: "admin-1".into(),
                },
                account_id: None,
                material: Material::ClientCredentials {
                    client: &owned,
                    tokens: None,
                },
                webhook_secret: None,
            },
        )
        .await
        .expect("save");
    txn.commit().await.expect("commit");
    // our own registration is not what the sandbox knows
    let mut endpoints = rig.endpoints.clone();
    endpoints.provider = Provider::Greenhouse;
    endpoints.client_id = "not-the-organizations-client".into();
    endpoints.client_secret = None;
    let token = rig
        .app
        .ctx
        .oauth
        .access_token(&endpoints, &id)
        .await
        .expect("a token from the organization's client");
    assert!(rig
        .sandbox
        .validate_access_token(token.expose_secret())
        .is_some());
    assert_eq!(rig.sandbox.token_requests("client_credentials"), 1);
    // fresh now: the next call reuses it
    let again = rig
        .app
        .ctx
        .oauth
        .access_token(&endpoints, &id)
        .await
        .expect("again");
    assert_eq!(again.expose_secret(), token.expose_secret());
    assert_eq!(rig.sandbox.token_requests("client_credentials"), 1);
    rig.app.stop().await;
}

db_tests!(
    a_client_credentials_connection_renews_with_its_own_client,
    a_refresh_without_a_new_refresh_token_keeps_the_stored_one,
    racing_first_connects_leave_one_connection,
    connect_exchanges_code_with_pkce_and_stores_tokens,
    state_is_single_use_expires_and_belongs_to_its_user,
    sandbox_checks_pkce_verifier,
    fifty_concurrent_callers_cause_one_refresh,
    invalid_grant_marks_needs_reauth_and_is_not_retried,
    client_credentials_grant,
);

/// Two server processes on one PostgreSQL: 25 callers each, one refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_refresh_once() {
    let (sandbox, handle) = oauth_sandbox(|_| {}).await;
    let url = fresh_database(Backend::Postgres).await;
    let mut config = test_config(&url);
    config.providers.linkedin_oauth_base_url = handle.base_url();
    let first = spawn_app_with(Backend::Postgres, config.clone()).await;
    let second = spawn_app_with(Backend::Postgres, config).await;
    let rig = Rig {
        endpoints: OAuthEndpoints::linkedin(&first.ctx.config),
        app: first,
        sandbox,
        _handle: handle,
    };
    let id = rig.connect("u1").await;
    rig.expire_access_token(&id).await;

    let mut tasks = Vec::new();
    for i in 0..50 {
        let ctx = if i % 2 == 0 {
            rig.app.ctx.clone()
        } else {
            second.ctx.clone()
        };
        let endpoints = OAuthEndpoints::linkedin(&ctx.config);
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            ctx.oauth
                .access_token(&endpoints, &id)
                .await
                .map(|t| t.expose_secret().to_owned())
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.expect("join").expect("fresh token"));
    }
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(rig.sandbox.token_requests("refresh_token"), 1);
    second.stop().await;
    rig.app.stop().await;
}
