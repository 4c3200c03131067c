//! Tests of the OAuth sandbox over real loopback HTTP.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::Method;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::{
    pkce_s256, ClientAuth, Consent, OAuthClient, OAuthServer, OAuthServerConfig, SandboxHandle,
    SandboxServer,
};

const REDIRECT: &str = "http://127.0.0.1:9/api/v1/integrations/linkedin/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9s0bx6Rkx.0~dnk_3bSsRsbTpmH";

struct Fixture {
    sb: SandboxHandle,
    oauth: OAuthServer,
    http: reqwest::Client,
}

async fn start(config: OAuthServerConfig) -> Fixture {
    let oauth = OAuthServer::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sb = SandboxServer::new(oauth.router()).start(listener).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Fixture { sb, oauth, http }
}

async fn default_fixture() -> Fixture {
    start(OAuthServerConfig::default()).await
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

impl Fixture {
    async fn authorize_raw(&self, pairs: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .get(self.sb.url("/authorize"))
            .query(pairs)
            .send()
            .await
            .unwrap()
    }

    /// The standard authorization request; returns the callback's query.
    async fn authorize(&self, redirect_uri: &str) -> HashMap<String, String> {
        let challenge = pkce_s256(VERIFIER);
        let resp = self
            .authorize_raw(&[
                ("response_type", "code"),
                ("client_id", "sandbox-client"),
                ("redirect_uri", redirect_uri),
                ("scope", "openid profile email"),
                ("state", "st-123"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .await;
        assert_eq!(resp.status(), 302);
        let location = resp.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(redirect_uri), "{location}");
        query_of(location)
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.sb.url("/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        if status == 200 {
            assert_eq!(resp.headers()["cache-control"], "no-store");
        }
        (status, resp.json().await.unwrap())
    }

    async fn exchange(&self, code: &str, redirect_uri: &str, verifier: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .await
    }
}

#[test]
fn s256_matches_rfc7636_appendix_b() {
    // RFC 7636 Appendix B.
    assert_eq!(
        pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[tokio::test]
async fn pkce_code_flow_succeeds_and_token_validates() {
    let f = default_fixture().await;
    let cb = f.authorize(REDIRECT).await;
    assert_eq!(cb["state"], "st-123");
    let (status, body) = f.exchange(&cb["code"], REDIRECT, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid profile email");
    assert!(body["refresh_token"].is_string());
    assert!(body.get("refresh_token_expires_in").is_none());
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(access.len(), 43);
    let info = f.oauth.validate_access_token(access).unwrap();
    assert_eq!(info.subject, "sandbox-member-1");
    assert_eq!(info.client_id, "sandbox-client");
    assert_eq!(info.scopes, vec!["openid", "profile", "email"]);
    assert_eq!(f.oauth.token_requests("authorization_code"), 1);
    assert!(f.oauth.validate_access_token("nope").is_none());

    f.oauth.expire_all_access_tokens();
    assert!(f.oauth.validate_access_token(access).is_none());
}

#[tokio::test]
async fn wrong_pkce_verifier_is_invalid_grant() {
    let f = default_fixture().await;
    let cb = f.authorize(REDIRECT).await;
    let wrong = "x".repeat(43);
    let (status, body) = f.exchange(&cb["code"], REDIRECT, &wrong).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].is_string());

    // A missing verifier is a malformed request.
    let cb = f.authorize(REDIRECT).await;
    let (status, body) = f
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &cb["code"]),
            ("redirect_uri", REDIRECT),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn authorize_requires_s256_pkce() {
    let f = default_fixture().await;
    let base = [
        ("response_type", "code"),
        ("client_id", "sandbox-client"),
        ("redirect_uri", REDIRECT),
        ("state", "s"),
    ];
    let resp = f.authorize_raw(&base).await;
    assert_eq!(resp.status(), 302);
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "s");

    let challenge = pkce_s256(VERIFIER);
    let mut plain = base.to_vec();
    plain.extend([
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "plain"),
    ]);
    let resp = f.authorize_raw(&plain).await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn unknown_client_or_unregistered_redirect_is_a_400_page_not_a_redirect() {
    let config = OAuthServerConfig {
        clients: vec![
            OAuthClient::new("sandbox-client", "sandbox-secret").with_redirect_uris([REDIRECT])
        ],
        ..OAuthServerConfig::default()
    };
    let f = start(config).await;
    let challenge = pkce_s256(VERIFIER);
    for (client_id, redirect) in [
        ("sandbox-client", "http://evil.example/cb"),
        (
            "sandbox-client",
            "http://127.0.0.1:9/api/v1/integrations/linkedin/callback/",
        ),
        ("unknown", REDIRECT),
    ] {
        let resp = f
            .authorize_raw(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .await;
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn redirect_uri_mismatch_at_token_is_invalid_grant() {
    let f = default_fixture().await;
    let cb = f.authorize(REDIRECT).await;
    let other = format!("{REDIRECT}?x=1");
    let (status, body) = f.exchange(&cb["code"], &other, VERIFIER).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn code_replay_is_refused_and_revokes_the_grant() {
    let f = default_fixture().await;
    let cb = f.authorize(REDIRECT).await;
    let (status, body) = f.exchange(&cb["code"], REDIRECT, VERIFIER).await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let (status, replay) = f.exchange(&cb["code"], REDIRECT, VERIFIER).await;
    assert_eq!(status, 400);
    assert_eq!(replay["error"], "invalid_grant");
    assert!(f.oauth.validate_access_token(&access).is_none());
    let (status, _) = f.refresh(body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let f = start(OAuthServerConfig {
        code_ttl: Duration::from_millis(50),
        ..OAuthServerConfig::default()
    })
    .await;
    let cb = f.authorize(REDIRECT).await;
    tokio::time::sleep(Duration::from_millis(80)).await;
    let (status, body) = f.exchange(&cb["code"], REDIRECT, VERIFIER).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_is_refused() {
    let f = start(OAuthServerConfig {
        refresh_token_ttl: Some(Duration::from_secs(365 * 24 * 3600)),
        ..OAuthServerConfig::default()
    })
    .await;
    let cb = f.authorize(REDIRECT).await;
    let (_, first) = f.exchange(&cb["code"], REDIRECT, VERIFIER).await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    assert!(first["refresh_token_expires_in"].as_u64().unwrap() > 364 * 24 * 3600);

    let (status, second) = f.refresh(&rt1).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    assert_ne!(first["access_token"], second["access_token"]);
    assert!(f
        .oauth
        .validate_access_token(second["access_token"].as_str().unwrap())
        .is_some());

    let (status, reuse) = f.refresh(&rt1).await;
    assert_eq!(
        (status, reuse["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(f.oauth.token_requests("refresh_token"), 2);

    // The member removes the app at the provider: the live token stops working.
    f.oauth.revoke_all_for_subject("sandbox-member-1");
    let (status, gone) = f.refresh(&rt2).await;
    assert_eq!(
        (status, gone["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn client_credentials_with_basic_auth() {
    let f = default_fixture().await;
    let basic = STANDARD.encode("sandbox-client:sandbox-secret");
    let resp = f
        .http
        .post(f.sb.url("/token"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials"), ("scope", "jobs.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    let info = f
        .oauth
        .validate_access_token(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(info.subject, "sandbox-client");
    assert_eq!(info.scopes, vec!["jobs.read"]);
    assert_eq!(
        f.sb.log.last().unwrap().authorization_scheme.as_deref(),
        Some("Basic")
    );
}

#[tokio::test]
async fn bad_client_authentication_is_401_invalid_client() {
    let f = start(OAuthServerConfig {
        client_auth: ClientAuth::Basic,
        ..OAuthServerConfig::default()
    })
    .await;
    // Body credentials are not accepted by this server.
    let (status, body) = f
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // A confidential client cannot pass as a public one.
    let (status, body) = f
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let resp = f
        .http
        .post(f.sb.url("/token"))
        .basic_auth("sandbox-client", Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));

    let resp = f
        .http
        .post(f.sb.url("/token"))
        .basic_auth("sandbox-client", Some("sandbox-secret"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn denied_consent_redirects_with_access_denied() {
    let f = start(OAuthServerConfig {
        add_iss_to_callback: Some("https://sandbox.example".to_owned()),
        ..OAuthServerConfig::default()
    })
    .await;
    f.oauth.set_consent(Consent::Deny);
    let cb = f.authorize(REDIRECT).await;
    assert_eq!(cb["error"], "access_denied");
    assert!(cb.contains_key("error_description"));
    assert_eq!(cb["state"], "st-123");
    assert_eq!(cb["iss"], "https://sandbox.example");
    assert!(!cb.contains_key("code"));

    f.oauth.set_consent(Consent::Approve);
    f.oauth.set_subject("member-42");
    let cb = f.authorize(REDIRECT).await;
    assert_eq!(cb["iss"], "https://sandbox.example");
    let (_, body) = f.exchange(&cb["code"], REDIRECT, VERIFIER).await;
    let info = f
        .oauth
        .validate_access_token(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(info.subject, "member-42");
}

#[tokio::test]
async fn revoke_refresh_token_ends_the_grant() {
    let f = default_fixture().await;
    let cb = f.authorize(REDIRECT).await;
    let (_, body) = f.exchange(&cb["code"], REDIRECT, VERIFIER).await;
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    let resp = f
        .http
        .post(f.sb.url("/revoke"))
        .form(&[
            ("token", refresh),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(f.oauth.validate_access_token(access).is_none());
    let (status, _) = f.refresh(refresh).await;
    assert_eq!(status, 400);
    assert_eq!(f.sb.log.count(Method::POST, "/revoke"), 1);
}

#[tokio::test]
async fn minted_token_validates_as_bearer() {
    let f = default_fixture().await;
    let token = f
        .oauth
        .mint_access_token("m-1", "sandbox-client", &["r_liteprofile"]);
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    assert_eq!(f.oauth.validate_bearer(&headers).unwrap().subject, "m-1");
}

#[tokio::test]
async fn optional_pkce_checks_a_challenge_only_when_one_was_sent() {
    let f = start(OAuthServerConfig {
        pkce: crate::PkceMode::Optional,
        ..OAuthServerConfig::default()
    })
    .await;
    let plain = [
        ("response_type", "code"),
        ("client_id", "sandbox-client"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
    ];
    let code_of = |resp: reqwest::Response| {
        query_of(resp.headers()["location"].to_str().unwrap())["code"].clone()
    };
    let without_verifier = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("client_id", "sandbox-client".to_owned()),
            ("client_secret", "sandbox-secret".to_owned()),
        ]
    };

    // No challenge, no verifier: fine.
    let code = code_of(f.authorize_raw(&plain).await);
    let form = without_verifier(&code);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(f.token(&pairs).await.0, 200);
    // No challenge but a verifier: refused.
    let code = code_of(f.authorize_raw(&plain).await);
    let (status, body) = f.exchange(&code, REDIRECT, VERIFIER).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    // A challenge: the verifier is required and checked.
    let cb = f.authorize(REDIRECT).await;
    let form = without_verifier(&cb["code"]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(f.token(&pairs).await.1["error"], "invalid_request");
    let cb = f.authorize(REDIRECT).await;
    assert_eq!(f.exchange(&cb["code"], REDIRECT, VERIFIER).await.0, 200);
}
