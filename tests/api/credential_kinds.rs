//! Every kind of credential in the one sealed store: a user's OAuth tokens,
//! an organization's OAuth client-credentials client, an OAuth refresh-token
//! client, an API key and webhook signing secrets. Each is sealed and bound
//! to its row, moved to a new key by the rewrap, and shown (without secrets)
//! in the status overview to whoever may see it.

use nextke_integrations::{
    crypto::Keyring,
    domain::types::Provider,
    oauth::{ConnectionOwner, Material, NewCredential, OwnedClient, TokenSet},
    proto::{self, GetIntegrationStatusRequest},
    store::credentials::{self, CredentialKind},
};
use sea_orm::TransactionTrait;
use secrecy::{ExposeSecret, SecretString};

use crate::{
    db_tests,
    helpers::{authed, fresh_database, spawn_app_with, test_config, token, Backend, TestApp},
};

const LEVER_KEY: &str = "lever-api-key-0123456789";
const GREENHOUSE_SECRET: &str = "greenhouse-client-secret-abcdef";
const WORKDAY_REFRESH: &str = "workday-refresh-token-98765";
const HOOK_OLD: &str = "webhook-secret-old-1111";
const HOOK_NEW: &str = "webhook-secret-new-2222";

fn org(org_id: &str) -> ConnectionOwner {
    ConnectionOwner::Organization {
        org_id: org_id.into(),
        user_id: "admin-1".into(),
    }
}

fn client(secret: &str) -> OwnedClient {
    OwnedClient {
        client_id: "client-1".into(),
        client_secret: secret.into(),
        extra: Default::default(),
        token_params: [("sub".to_owned(), "42".to_owned())].into(),
    }
}

async fn save(app: &TestApp, new: NewCredential<'_>) -> String {
    let txn = app.ctx.db.begin().await.expect("txn");
    let id = app
        .ctx
        .oauth
        .save_credential_in(&txn, new)
        .await
        .expect("save");
    txn.commit().await.expect("commit");
    id
}

async fn status(app: &TestApp, bearer: &str) -> proto::GetIntegrationStatusResponse {
    app.integration()
        .await
        .get_integration_status(authed(GetIntegrationStatusRequest {}, bearer))
        .await
        .expect("status")
        .into_inner()
}

/// Every sealed byte of every row, to look for plaintext in.
async fn all_sealed(app: &TestApp) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for row in credentials::sealed_with_other_key(&app.ctx.db, "none-such", 100)
        .await
        .expect("rows")
    {
        out.push(row.access_token);
        out.extend(row.refresh_token);
        out.extend(row.secret);
        out.extend(row.webhook_secret);
        out.extend(row.previous_webhook_secret);
    }
    out
}

async fn every_kind_is_sealed_rewrapped_and_shown(backend: Backend) {
    let url = fresh_database(backend).await;
    let (_, old_spec) = Keyring::generate("old").expect("key");
    let (_, new_spec) = Keyring::generate("new").expect("key");
    let mut config = test_config(&url);
    config.encryption_keys = Some(old_spec.clone());
    let app = spawn_app_with(backend, config).await;

    let lever_key = SecretString::from(LEVER_KEY);
    let lever = save(
        &app,
        NewCredential {
            provider: Provider::Lever,
            owner: &org("org-1"),
            account_id: None,
            material: Material::ApiKey {
                key: &lever_key,
                extra: None,
            },
            webhook_secret: None,
        },
    )
    .await;
    let hook_old = SecretString::from(HOOK_OLD);
    let greenhouse_client = client(GREENHOUSE_SECRET);
    let greenhouse = save(
        &app,
        NewCredential {
            provider: Provider::Greenhouse,
            owner: &org("org-1"),
            account_id: None,
            material: Material::ClientCredentials {
                client: &greenhouse_client,
                tokens: None,
            },
            webhook_secret: Some(&hook_old),
        },
    )
    .await;
    let workday_client = client("workday-client-secret");
    let workday_tokens = TokenSet {
        access_token: SecretString::from("workday-access"),
        refresh_token: Some(SecretString::from(WORKDAY_REFRESH)),
        expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        refresh_expires_at: None,
        scopes: None,
    };
    let workday = save(
        &app,
        NewCredential {
            provider: Provider::Workday,
            owner: &org("org-2"),
            account_id: None,
            material: Material::RefreshClient {
                client: &workday_client,
                tokens: &workday_tokens,
            },
            webhook_secret: None,
        },
    )
    .await;

    // nothing stored in the clear
    let sealed = all_sealed(&app).await;
    for secret in [LEVER_KEY, GREENHOUSE_SECRET, WORKDAY_REFRESH, HOOK_OLD] {
        let needle = secret.as_bytes();
        assert!(
            !sealed
                .iter()
                .any(|b| b.windows(needle.len()).any(|w| w == needle)),
            "{secret} stored in the clear"
        );
    }

    // a rotation keeps the old webhook secret for the grace period only
    let hook_new = SecretString::from(HOOK_NEW);
    app.ctx
        .oauth
        .rotate_webhook_secret(
            &app.ctx.db,
            &greenhouse,
            &hook_new,
            chrono::Duration::hours(24),
        )
        .await
        .expect("rotate");
    let row = credentials::find(&app.ctx.db, &greenhouse)
        .await
        .expect("find")
        .expect("row");
    let now = chrono::Utc::now();
    let open = |row: &credentials::Credential, at| -> Vec<String> {
        app.ctx
            .oauth
            .open_webhook_secrets(row, at)
            .expect("open")
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect()
    };
    assert_eq!(open(&row, now), [HOOK_NEW, HOOK_OLD]);
    assert_eq!(open(&row, now + chrono::Duration::hours(25)), [HOOK_NEW]);
    app.stop().await;

    // a new primary key: the rewrap moves every row and every sealed column
    let mut config = test_config(&url);
    config.encryption_keys = Some(SecretString::from(format!(
        "{},{}",
        new_spec.expose_secret(),
        old_spec.expose_secret()
    )));
    let app = spawn_app_with(backend, config).await;
    assert_eq!(app.ctx.oauth.rewrap_all().await.expect("rewrap"), 3);
    assert_eq!(app.ctx.oauth.rewrap_all().await.expect("again"), 0);
    app.stop().await;

    // the old key gone: everything still opens
    let mut config = test_config(&url);
    config.encryption_keys = Some(new_spec);
    let app = spawn_app_with(backend, config).await;
    let find = |id: String| {
        let db = app.ctx.db.clone();
        async move {
            credentials::find(&db, &id)
                .await
                .expect("find")
                .expect("row")
        }
    };
    let lever_row = find(lever.clone()).await;
    assert_eq!(lever_row.credential_kind, CredentialKind::ApiKey);
    assert_eq!(
        app.ctx
            .oauth
            .open_api_key(&lever_row)
            .expect("key")
            .expose_secret(),
        LEVER_KEY
    );
    let greenhouse_row = find(greenhouse.clone()).await;
    assert_eq!(
        greenhouse_row.credential_kind,
        CredentialKind::OAuthClientCredentials
    );
    let opened = app
        .ctx
        .oauth
        .open_client(&greenhouse_row)
        .expect("client")
        .expect("has one");
    assert_eq!(opened.client_secret, GREENHOUSE_SECRET);
    assert_eq!(
        opened.token_params.get("sub").map(String::as_str),
        Some("42")
    );
    assert!(
        !format!("{opened:?}").contains(GREENHOUSE_SECRET),
        "Debug redacts"
    );
    assert_eq!(open_now(&app, &greenhouse_row), [HOOK_NEW, HOOK_OLD]);
    let workday_row = find(workday.clone()).await;
    assert_eq!(
        workday_row.credential_kind,
        CredentialKind::OAuthRefreshClient
    );
    assert!(app
        .ctx
        .oauth
        .open_client(&workday_row)
        .expect("client")
        .is_some());
    // an API key is not handed out as another kind, and the reverse
    assert!(app.ctx.oauth.open_api_key(&greenhouse_row).is_err());

    // the status overview: an admin sees their organization's, nobody else does
    let admin = status(&app, &token("admin-1", &[("org-1", "admin")])).await;
    let mut providers: Vec<_> = admin.ats.iter().map(|c| c.provider()).collect();
    providers.sort_by_key(|p| *p as i32);
    let mut expected = vec![proto::Provider::Greenhouse, proto::Provider::Lever];
    expected.sort_by_key(|p| *p as i32);
    assert_eq!(providers, expected);
    assert!(admin
        .ats
        .iter()
        .all(|c| c.state() == proto::ConnectionState::Connected));
    let member = status(&app, &token("member-1", &[("org-1", "member")])).await;
    assert!(member.ats.is_empty(), "members do not see ATS connections");
    let other = status(&app, &token("admin-2", &[("org-2", "admin")])).await;
    assert_eq!(other.ats.len(), 1);
    assert_eq!(other.ats[0].provider(), proto::Provider::Workday);
    app.stop().await;
}

fn open_now(app: &TestApp, row: &credentials::Credential) -> Vec<String> {
    app.ctx
        .oauth
        .open_webhook_secrets(row, chrono::Utc::now())
        .expect("open")
        .iter()
        .map(|s| s.expose_secret().to_owned())
        .collect()
}

db_tests!(every_kind_is_sealed_rewrapped_and_shown);
