//! The token matrix: only a well-signed, current token of our issuer and
//! audience, with the pinned algorithm, gets through.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use nextke_integrations::proto::GetIntegrationStatusRequest;
use serde_json::json;

use crate::{
    db_tests,
    helpers::{
        authed, fresh_database, spawn_app, spawn_app_with, test_config, Backend, AUDIENCE, ISSUER,
        JWT_SECRET,
    },
};

const RSA_PRIVATE: &str = include_str!("../../src/auth/testdata/rsa_private.pem");
const RSA_PUBLIC: &str = include_str!("../../src/auth/testdata/rsa_public.pem");

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(edit: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut claims = json!({
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now(),
        "nbf": now() - 10,
        "exp": now() + 600,
        "orgs": [{"id": "org-1", "role": "admin"}],
    });
    edit(&mut claims);
    claims
}

fn hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

fn rs256(claims: &serde_json::Value) -> String {
    let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa key");
    encode(&Header::new(Algorithm::RS256), claims, &key).expect("sign")
}

/// HS256 with a hand-written header (jsonwebtoken's `Header` has no `crit`).
fn hs256_with_header(header: &str, claims: &serde_json::Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .expect("sign");
    format!("{input}.{signature}")
}

fn unsigned(claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{body}.")
}

async fn code_for(app: &crate::helpers::TestApp, authorization: Option<String>) -> tonic::Code {
    let mut client = app.integration().await;
    let mut request = tonic::Request::new(GetIntegrationStatusRequest {});
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().expect("header"));
    }
    match client.get_integration_status(request).await {
        Ok(_) => tonic::Code::Ok,
        Err(status) => {
            assert!(
                !status.message().contains("secret"),
                "message must not hint at secrets: {}",
                status.message()
            );
            status.code()
        }
    }
}

async fn hs256_server_accepts_only_good_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let good = hs256(&claims(|_| {}), JWT_SECRET.as_bytes());
    assert_eq!(
        code_for(&app, Some(format!("Bearer {good}"))).await,
        tonic::Code::Ok
    );
    assert_eq!(
        code_for(&app, Some(format!("bearer {good}"))).await,
        tonic::Code::Ok
    );
    // a day exactly (the default maximum), and a header without crit, are fine
    let a_day = hs256(
        &claims(|c| c["exp"] = json!(c["iat"].as_i64().expect("iat") + 86_400)),
        JWT_SECRET.as_bytes(),
    );
    assert_eq!(
        code_for(&app, Some(format!("Bearer {a_day}"))).await,
        tonic::Code::Ok
    );
    let plain = hs256_with_header(r#"{"alg":"HS256","typ":"JWT"}"#, &claims(|_| {}));
    assert_eq!(
        code_for(&app, Some(format!("Bearer {plain}"))).await,
        tonic::Code::Ok
    );

    let refused = [
        ("missing header", None),
        ("basic scheme", Some(format!("Basic {good}"))),
        ("empty bearer", Some("Bearer ".to_owned())),
        ("garbage", Some("Bearer not.a.jwt".to_owned())),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| c["exp"] = json!(now() - 3600)),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| c["nbf"] = json!(now() + 3600)),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "wrong audience",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| c["aud"] = json!("someone-else")),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "wrong issuer",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| c["iss"] = json!("https://evil.example")),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "no exp",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| {
                        c.as_object_mut().expect("object").remove("exp");
                    }),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "other secret",
            Some(format!(
                "Bearer {}",
                hs256(&claims(|_| {}), b"another-secret-another-secret-0123456789")
            )),
        ),
        (
            "alg none",
            Some(format!("Bearer {}", unsigned(&claims(|_| {})))),
        ),
        (
            "rs256 at an hs256 server",
            Some(format!("Bearer {}", rs256(&claims(|_| {})))),
        ),
        (
            "lifetime over the maximum",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| {
                        c["iat"] = json!(now() - 60);
                        c["exp"] = json!(now() - 60 + 86_401);
                    }),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "no iat while a maximum lifetime is set",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| {
                        c.as_object_mut().expect("object").remove("iat");
                    }),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "iat in the future beyond the leeway",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| c["iat"] = json!(now() + 120)),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
        (
            "crit header",
            Some(format!(
                "Bearer {}",
                hs256_with_header(
                    r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
                    &claims(|_| {})
                )
            )),
        ),
        (
            "unknown role",
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims(|c| c["role"] = json!("superuser")),
                    JWT_SECRET.as_bytes()
                )
            )),
        ),
    ];
    for (case, header) in refused {
        assert_eq!(
            code_for(&app, header).await,
            tonic::Code::Unauthenticated,
            "{case} must be refused"
        );
    }
    app.stop().await;
}

async fn rs256_server_refuses_hs256_signed_with_its_public_key(backend: Backend) {
    let dir = std::env::temp_dir().join("nextke-tests");
    std::fs::create_dir_all(&dir).expect("dir");
    let key_file = dir.join(format!("{}.pem", uuid::Uuid::new_v4().simple()));
    std::fs::write(&key_file, RSA_PUBLIC).expect("write key");
    let mut config = test_config(&fresh_database(backend).await);
    config.jwt_secret = None;
    config.jwt_public_key_file = Some(key_file);
    config.jwt_algorithm = Some("RS256".to_owned());
    let app = spawn_app_with(backend, config).await;

    let good = rs256(&claims(|_| {}));
    assert_eq!(
        code_for(&app, Some(format!("Bearer {good}"))).await,
        tonic::Code::Ok
    );
    // the classic confusion: HS256 with the public key's bytes as the HMAC secret
    let confused = hs256(&claims(|_| {}), RSA_PUBLIC.as_bytes());
    assert_eq!(
        code_for(&app, Some(format!("Bearer {confused}"))).await,
        tonic::Code::Unauthenticated
    );
    assert_eq!(
        code_for(&app, Some(format!("Bearer {}", unsigned(&claims(|_| {}))))).await,
        tonic::Code::Unauthenticated
    );
    let mut client = app.integration().await;
    let ok = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &good))
        .await;
    assert!(ok.is_ok());
    app.stop().await;
}

/// Runs `nextke-integrations token` with the test servers' JWT settings.
fn token_command(ttl: u64, max_ttl: Option<u64>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nextke-integrations"));
    command
        .args(["token", "--user", "dev-user", "--org", "acme:admin"])
        .args(["--ttl", &ttl.to_string()])
        .env("APP_ENV", "development")
        .env("JWT_SECRET", JWT_SECRET)
        .env("JWT_ISSUER", ISSUER)
        .env("JWT_AUDIENCE", AUDIENCE)
        .env_remove("JWT_PUBLIC_KEY_FILE")
        .env_remove("JWT_ALGORITHM")
        .env_remove("JWT_MAX_TTL_SECS")
        .env("RUST_LOG", "off");
    if let Some(max) = max_ttl {
        command.env("JWT_MAX_TTL_SECS", max.to_string());
    }
    command.output().expect("run the token command")
}

async fn development_tokens_within_the_maximum_work(backend: Backend) {
    let app = spawn_app(backend).await;
    for ttl in [3600, 86_400] {
        let out = token_command(ttl, None);
        assert!(out.status.success(), "ttl {ttl}: {out:?}");
        let minted = String::from_utf8(out.stdout).expect("utf-8");
        assert_eq!(
            code_for(&app, Some(format!("Bearer {}", minted.trim()))).await,
            tonic::Code::Ok,
            "ttl {ttl}"
        );
    }
    // above the maximum the command refuses, saying why, and prints no token
    let out = token_command(86_401, None);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_MAX_TTL_SECS"), "{stderr}");
    // with the maximum off (0) a long token mints, and a server with it off accepts it
    let out = token_command(10 * 86_400, Some(0));
    assert!(out.status.success(), "{out:?}");
    let long = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        code_for(&app, Some(format!("Bearer {}", long.trim()))).await,
        tonic::Code::Unauthenticated,
        "the default server keeps its maximum"
    );
    app.stop().await;
    let mut config = test_config(&fresh_database(backend).await);
    config.jwt_max_ttl_secs = 0;
    let unbounded = spawn_app_with(backend, config).await;
    assert_eq!(
        code_for(&unbounded, Some(format!("Bearer {}", long.trim()))).await,
        tonic::Code::Ok
    );
    unbounded.stop().await;
}

db_tests!(
    hs256_server_accepts_only_good_tokens,
    rs256_server_refuses_hs256_signed_with_its_public_key,
    development_tokens_within_the_maximum_work,
);
