//! Secrets at rest in the real database: sealed, bound to their row, readable
//! after a key rotation, and moved to the new key by the rewrap.

use nextke_integrations::{
    crypto::Keyring,
    domain::types::Provider,
    oauth::{ConnectionOwner, OAuthEndpoints, OAuthError, TokenSet},
    store::credentials,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    db_tests,
    helpers::{fresh_database, spawn_app, spawn_app_with, sql, test_config, Backend, TestApp},
};

fn tokens(access: &str) -> TokenSet {
    TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: Some(SecretString::from(format!("{access}-refresh"))),
        expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        refresh_expires_at: None,
        scopes: Some(vec!["openid".into()]),
    }
}

async fn save(app: &TestApp, user: &str, access: &str) -> String {
    app.ctx
        .oauth
        .save_connection(
            Provider::LinkedIn,
            &ConnectionOwner::User {
                user_id: user.into(),
            },
            None,
            &tokens(access),
            &[],
        )
        .await
        .expect("save")
}

async fn open(app: &TestApp, id: &str) -> Result<String, OAuthError> {
    let endpoints = OAuthEndpoints::linkedin(&app.ctx.config);
    app.ctx
        .oauth
        .access_token(&endpoints, id)
        .await
        .map(|t| t.expose_secret().to_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn tokens_are_sealed_and_bound_to_their_row(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = save(&app, "alice", "alice-access-token-123").await;
    let bob = save(&app, "bob", "bob-access-token-456").await;

    let row = credentials::find(&app.ctx.db, &alice)
        .await
        .expect("find")
        .expect("row");
    let needle = b"alice-access-token-123";
    assert!(
        !row.access_token.windows(needle.len()).any(|w| w == needle),
        "plaintext must not be stored"
    );
    assert_eq!(
        open(&app, &alice).await.expect("opens"),
        "alice-access-token-123"
    );

    // copy alice's ciphertext into bob's row: it must not open there
    let literal = match app.backend {
        Backend::Postgres => format!("decode('{}', 'hex')", hex(&row.access_token)),
        Backend::Sqlite => format!("X'{}'", hex(&row.access_token)),
    };
    sql(
        &app,
        &format!("UPDATE oauth_credentials SET access_token = {literal} WHERE id = '{bob}'"),
    )
    .await;
    let err = open(&app, &bob)
        .await
        .expect_err("moved ciphertext refused");
    assert!(matches!(err, OAuthError::Crypto(_)), "{err:?}");
    assert_eq!(
        open(&app, &alice).await.expect("still opens"),
        "alice-access-token-123"
    );
    app.stop().await;
}

async fn rotation_keeps_old_rows_readable_and_rewrap_moves_them(backend: Backend) {
    let url = fresh_database(backend).await;
    let (_, old_spec) = Keyring::generate("old").expect("key");
    let (_, new_spec) = Keyring::generate("new").expect("key");

    let mut config = test_config(&url);
    config.encryption_keys = Some(old_spec.clone());
    let app = spawn_app_with(backend, config).await;
    let id = save(&app, "carol", "carol-token").await;
    app.stop().await;

    // new key first, old key still in the ring
    let mut config = test_config(&url);
    config.encryption_keys = Some(SecretString::from(format!(
        "{},{}",
        new_spec.expose_secret(),
        old_spec.expose_secret()
    )));
    let app = spawn_app_with(backend, config).await;
    assert_eq!(open(&app, &id).await.expect("old key opens"), "carol-token");
    let moved = app.ctx.oauth.rewrap_all().await.expect("rewrap");
    assert_eq!(moved, 1);
    let row = credentials::find(&app.ctx.db, &id)
        .await
        .expect("find")
        .expect("row");
    assert_eq!(row.key_id, "new");
    assert_eq!(app.ctx.oauth.rewrap_all().await.expect("rewrap again"), 0);
    app.stop().await;

    // the old key can now be dropped
    let mut config = test_config(&url);
    config.encryption_keys = Some(new_spec);
    let app = spawn_app_with(backend, config).await;
    assert_eq!(open(&app, &id).await.expect("new key opens"), "carol-token");
    app.stop().await;
}

db_tests!(
    tokens_are_sealed_and_bound_to_their_row,
    rotation_keeps_old_rows_readable_and_rewrap_moves_them,
);
