//! Tests of the LinkedIn sandbox over real loopback HTTP.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::*;
use crate::pkce_s256;

const REDIRECT: &str = "http://127.0.0.1:9/api/v1/integrations/linkedin/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9s0bx6Rkx.0~dnk_3bSsRsbTpmH";
const CLIENT_ID: &str = "sandbox-client";
const CLIENT_SECRET: &str = "sandbox-secret";

struct Fixture {
    li: LinkedInSandbox,
    sb: SandboxHandle,
    http: reqwest::Client,
}

async fn start(config: LinkedInSandboxConfig) -> Fixture {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (li, sb) = LinkedInSandbox::start_with(config, listener).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Fixture { li, sb, http }
}

async fn default_fixture() -> Fixture {
    start(LinkedInSandboxConfig::default()).await
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

impl Fixture {
    /// An authorization request; returns the callback's query.
    async fn authorize(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", "st-42"),
        ];
        pairs.extend_from_slice(extra);
        let resp = self
            .http
            .get(self.sb.url(AUTHORIZE_PATH))
            .query(&pairs)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302);
        let location = resp.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        query_of(location)
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.sb.url(TOKEN_PATH))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn exchange(&self, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT),
        ];
        form.extend_from_slice(extra);
        self.token(&form).await
    }

    async fn get(&self, path: &str, token: Option<&str>, version: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(self.sb.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(version) = version {
            req = req.header("LinkedIn-Version", version);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn userinfo(&self, token: &str) -> (u16, Value) {
        self.get(USERINFO_PATH, Some(token), None).await
    }

    async fn snapshot(&self, token: &str, query: &str) -> (u16, Value) {
        self.get(
            &format!("{SNAPSHOT_PATH}?{query}"),
            Some(token),
            Some("202312"),
        )
        .await
    }

    fn mint(&self, sub: &str, scopes: &[&str]) -> String {
        self.li.oauth().mint_access_token(sub, CLIENT_ID, scopes)
    }

    fn portability_token(&self, sub: &str) -> String {
        self.mint(sub, &[PORTABILITY_SCOPE])
    }
}

fn twelve_positions(m: &mut SandboxMember) {
    m.positions = (0..12u8)
        .map(|k| Position {
            company_name: format!("Company {k}"),
            title: "Engineer".to_owned(),
            description: String::new(),
            location: "Berlin, Germany".to_owned(),
            started_on: MonthYear::new(2000 + u16::from(k), 1),
            finished_on: (k > 0).then(|| MonthYear::new(2001 + u16::from(k), 1)),
        })
        .collect();
}

// ---------------------------------------------------------------- OAuth / OIDC

#[tokio::test]
async fn code_flow_without_pkce_then_userinfo() {
    let f = default_fixture().await;
    let cb = f.authorize(&[("scope", "openid profile email")]).await;
    assert_eq!(cb["state"], "st-42");
    assert!(!cb.contains_key("iss"), "LinkedIn sends no iss: {cb:?}");
    let (status, body) = f.exchange(&cb["code"], &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 5_184_000);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "email,openid,profile");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("refresh_token_expires_in").is_none(), "{body}");
    assert_eq!(f.li.oauth().token_requests("authorization_code"), 1);

    let token = body["access_token"].as_str().unwrap();
    let (status, info) = f.userinfo(token).await;
    assert_eq!(status, 200);
    let m = f.li.member(EEA_MEMBER_SUB).unwrap();
    assert_eq!(
        info,
        json!({
            "sub": EEA_MEMBER_SUB,
            "name": "Anna Schmidt",
            "given_name": "Anna",
            "family_name": "Schmidt",
            "picture": m.picture.unwrap(),
            "locale": {"country": "DE", "language": "de"},
            "email": "anna.schmidt@example.de",
            "email_verified": true,
        })
    );
}

#[tokio::test]
async fn code_flow_with_pkce_when_enabled_for_a_native_app() {
    let f = start(LinkedInSandboxConfig {
        pkce: PkceMode::Required,
        ..LinkedInSandboxConfig::default()
    })
    .await;
    f.li.set_member(US_MEMBER_SUB);
    let challenge = pkce_s256(VERIFIER);
    let cb = f
        .authorize(&[
            ("scope", "openid profile"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let (status, body) = f
        .exchange(&cb["code"], &[("code_verifier", VERIFIER)])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid,profile");
    let (status, info) = f.userinfo(body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], US_MEMBER_SUB);
    assert_eq!(info["locale"], json!({"country": "US", "language": "en"}));

    // A wrong verifier fails.
    let cb = f
        .authorize(&[
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let wrong = "x".repeat(43);
    let (status, body) = f.exchange(&cb["code"], &[("code_verifier", &wrong)]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn code_verifier_on_the_web_flow_fails_client_authentication() {
    let f = default_fixture().await;
    let challenge = pkce_s256(VERIFIER);
    let cb = f
        .authorize(&[
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let (status, body) = f
        .exchange(&cb["code"], &[("code_verifier", VERIFIER)])
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    // Without the verifier the same code still works.
    let (status, _) = f.exchange(&cb["code"], &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn denied_consent_redirects_with_user_cancelled_authorize() {
    let f = default_fixture().await;
    f.li.oauth().set_consent(crate::Consent::Deny);
    let cb = f.authorize(&[("scope", "openid profile email")]).await;
    assert_eq!(cb["error"], "user_cancelled_authorize");
    assert!(!cb["error_description"].is_empty());
    assert_eq!(cb["state"], "st-42");
    assert!(!cb.contains_key("code"));
}

#[tokio::test]
async fn scope_the_app_lacks_redirects_with_unauthorized_scope_error() {
    let f = default_fixture().await;
    let cb = f.authorize(&[("scope", "openid r_liteprofile")]).await;
    assert_eq!(cb["error"], "unauthorized_scope_error");
}

#[tokio::test]
async fn client_secret_in_basic_auth_is_refused() {
    let f = default_fixture().await;
    let cb = f.authorize(&[("scope", "openid")]).await;
    let resp = f
        .http
        .post(f.sb.url(TOKEN_PATH))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", cb["code"].as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn refresh_tokens_only_when_enabled() {
    let f = start(LinkedInSandboxConfig {
        issue_refresh_tokens: true,
        ..LinkedInSandboxConfig::default()
    })
    .await;
    let cb = f.authorize(&[("scope", "openid profile")]).await;
    let (status, body) = f.exchange(&cb["code"], &[]).await;
    assert_eq!(status, 200, "{body}");
    let expires = body["refresh_token_expires_in"].as_u64().unwrap();
    assert!((31_535_990..=31_536_000).contains(&expires), "{expires}");
    let (status, refreshed) = f
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["expires_in"], 5_184_000);
}

// ---------------------------------------------------------------- userinfo

#[tokio::test]
async fn userinfo_without_email_scope_has_no_email() {
    let f = default_fixture().await;
    let token = f.mint(EEA_MEMBER_SUB, &["openid", "profile"]);
    let (status, info) = f.userinfo(&token).await;
    assert_eq!(status, 200);
    assert_eq!(info["given_name"], "Anna");
    assert!(info.get("email").is_none(), "{info}");
    assert!(info.get("email_verified").is_none(), "{info}");

    // A member without an email: no email fields even with the scope, and no picture.
    let token = f.mint(NO_EMAIL_MEMBER_SUB, &["openid", "profile", "email"]);
    let (status, info) = f.userinfo(&token).await;
    assert_eq!(status, 200);
    assert!(info.get("email").is_none(), "{info}");
    assert!(info.get("picture").is_none(), "{info}");

    // Without `profile`: only sub (and email).
    let token = f.mint(US_MEMBER_SUB, &["openid", "email"]);
    let (_, info) = f.userinfo(&token).await;
    assert_eq!(
        info,
        json!({"sub": US_MEMBER_SUB, "email": "john.miller@example.com", "email_verified": true})
    );
}

#[tokio::test]
async fn userinfo_without_openid_scope_is_forbidden() {
    let f = default_fixture().await;
    let token = f.mint(EEA_MEMBER_SUB, &["profile", "email"]);
    let (status, body) = f.userinfo(&token).await;
    assert_eq!(status, 403);
    assert_eq!(body["status"], 403);
    assert_eq!(body["code"], "ACCESS_DENIED");
}

#[tokio::test]
async fn bad_missing_revoked_and_expired_tokens_get_linkedin_401_bodies() {
    let f = default_fixture().await;
    let (status, body) = f.userinfo("not-a-token").await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
               "message": "Invalid access token"})
    );

    let (status, body) = f.get(USERINFO_PATH, None, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["serviceErrorCode"], 401);

    let token = f.mint(EEA_MEMBER_SUB, &["openid"]);
    let resp = f
        .http
        .post(f.sb.url(REVOKE_PATH))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, body) = f.userinfo(&token).await;
    assert_eq!(status, 401);
    assert_eq!(body["serviceErrorCode"], 65601);
    assert_eq!(body["code"], "REVOKED_ACCESS_TOKEN");

    let token = f.mint(EEA_MEMBER_SUB, &["openid"]);
    f.li.oauth().expire_all_access_tokens();
    let (status, body) = f.userinfo(&token).await;
    assert_eq!(status, 401);
    assert_eq!(body["serviceErrorCode"], 65602);
    assert_eq!(body["code"], "EXPIRED_ACCESS_TOKEN");
}

#[tokio::test]
async fn update_member_is_visible_to_the_next_userinfo() {
    let f = default_fixture().await;
    let token = f.mint(EEA_MEMBER_SUB, &["openid", "profile"]);
    assert!(f.li.update_member(EEA_MEMBER_SUB, |m| {
        m.family_name = "Schmidt-Weber".to_owned();
        m.profile.headline = "Staff Engineer at Contoso".to_owned();
    }));
    assert!(!f.li.update_member("nobody", |_| {}));
    let (_, info) = f.userinfo(&token).await;
    assert_eq!(info["family_name"], "Schmidt-Weber");
    assert_eq!(info["name"], "Anna Schmidt-Weber");
    let (_, snap) = f
        .snapshot(
            &f.portability_token(EEA_MEMBER_SUB),
            "q=criteria&domain=PROFILE",
        )
        .await;
    assert_eq!(
        snap["elements"][0]["snapshotData"][0]["Headline"],
        "Staff Engineer at Contoso"
    );
}

// ---------------------------------------------------------------- snapshot

#[tokio::test]
async fn snapshot_pages_by_page_index_and_ends_with_404() {
    let f = default_fixture().await;
    f.li.update_member(EEA_MEMBER_SUB, twelve_positions);
    let token = f.portability_token(EEA_MEMBER_SUB);

    let (status, page0) = f
        .snapshot(&token, "q=criteria&domain=POSITIONS&start=0")
        .await;
    assert_eq!(status, 200, "{page0}");
    assert_eq!(page0["paging"]["start"], 0);
    assert_eq!(page0["paging"]["count"], 10);
    assert_eq!(
        page0["paging"]["links"],
        json!([{"type": "application/json", "rel": "next",
                "href": "/rest/memberSnapshotData?count=10&domain=POSITIONS&q=criteria&start=1"}])
    );
    let elements = page0["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 1);
    assert_eq!(elements[0]["snapshotDomain"], "POSITIONS");
    let rows = elements[0]["snapshotData"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    assert_eq!(
        rows[0],
        json!({"Company Name": "Company 0", "Title": "Engineer", "Description": "",
               "Location": "Berlin, Germany", "Started On": "Jan 2000", "Finished On": ""})
    );
    assert_eq!(rows[1]["Finished On"], "Jan 2002");

    let (status, page1) = f
        .snapshot(&token, "q=criteria&domain=POSITIONS&start=1")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        page1["elements"][0]["snapshotData"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let links = page1["paging"]["links"].as_array().unwrap();
    assert!(links.iter().all(|l| l["rel"] != "next"), "{links:?}");

    let (status, page2) = f
        .snapshot(&token, "q=criteria&domain=POSITIONS&start=2")
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        page2,
        json!({"status": 404, "code": "NOT_FOUND", "message": "No data found for this memberId"})
    );
}

#[tokio::test]
async fn snapshot_domains_have_the_documented_keys() {
    let f = default_fixture().await;
    let token = f.portability_token(EEA_MEMBER_SUB);
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v["elements"][0]["snapshotData"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    let sorted = |k: &[&str]| -> Vec<String> {
        let mut k: Vec<String> = k.iter().map(|s| (*s).to_owned()).collect();
        k.sort();
        k
    };
    let (_, profile) = f.snapshot(&token, "q=criteria&domain=PROFILE").await;
    assert_eq!(
        keys(&profile),
        sorted(&[
            "First Name",
            "Last Name",
            "Maiden Name",
            "Headline",
            "Summary",
            "Industry",
            "Geo Location",
            "Zip Code",
            "Address",
            "Birth Date",
            "Websites",
            "Twitter Handles",
            "Instant Messengers",
        ])
    );
    assert_eq!(
        profile["elements"][0]["snapshotData"][0]["First Name"],
        "Anna"
    );
    assert_eq!(
        profile["elements"][0]["snapshotData"][0]["Zip Code"],
        "10115"
    );
    assert_eq!(profile["paging"]["links"], json!([]));
    let (_, edu) = f.snapshot(&token, "q=criteria&domain=EDUCATION").await;
    assert_eq!(
        keys(&edu),
        sorted(&[
            "School Name",
            "Degree Name",
            "Start Date",
            "End Date",
            "Notes",
            "Activities"
        ])
    );
    let (_, skills) = f.snapshot(&token, "q=criteria&domain=SKILLS").await;
    assert_eq!(keys(&skills), sorted(&["Name"]));
    assert_eq!(skills["elements"][0]["snapshotData"][0]["Name"], "Rust");
    let (_, endorsements) = f.snapshot(&token, "q=criteria&domain=ENDORSEMENTS").await;
    assert_eq!(
        keys(&endorsements),
        sorted(&[
            "Endorsement Date",
            "Skill Name",
            "Endorser First Name",
            "Endorser Last Name",
            "Endorser Public Url",
            "Endorsement Status",
        ])
    );
    // A documented domain the member has no rows in, and a misspelled one.
    let (status, _) = f.snapshot(&token, "q=criteria&domain=CERTIFICATIONS").await;
    assert_eq!(status, 404);
    let (status, _) = f.snapshot(&token, "q=criteria&domain=positions").await;
    assert_eq!(status, 400);
    let (status, _) = f.snapshot(&token, "q=member&domain=PROFILE").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn snapshot_without_domain_walks_every_domain_one_page_at_a_time() {
    let f = default_fixture().await;
    let token = f.portability_token(EEA_MEMBER_SUB);
    let mut seen = Vec::new();
    for start in 0.. {
        let (status, page) = f
            .snapshot(&token, &format!("q=criteria&start={start}"))
            .await;
        if status == 404 {
            break;
        }
        assert_eq!(page["elements"].as_array().unwrap().len(), 1);
        seen.push(
            page["elements"][0]["snapshotDomain"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(seen, FILLED_DOMAINS);
}

#[tokio::test]
async fn snapshot_version_header_is_required_and_checked() {
    let f = default_fixture().await;
    let token = f.portability_token(EEA_MEMBER_SUB);
    let path = format!("{SNAPSHOT_PATH}?q=criteria&domain=PROFILE");
    let (status, body) = f.get(&path, Some(&token), None).await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], 400);
    assert_eq!(body["code"], "VERSION_MISSING");
    let (status, body) = f.get(&path, Some(&token), Some("202301")).await;
    assert_eq!(status, 426);
    assert_eq!(body["code"], "NONEXISTENT_VERSION");
    assert_eq!(body["message"], "Requested version 202301 is not active");
    let (status, _) = f.get(&path, Some(&token), Some("202505")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn snapshot_for_a_non_eea_member_is_404() {
    let f = default_fixture().await;
    let token = f.portability_token(US_MEMBER_SUB);
    let (status, body) = f.snapshot(&token, "q=criteria&domain=PROFILE").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "No data found for this memberId");
}

#[tokio::test]
async fn snapshot_without_the_portability_scope_is_403() {
    let f = default_fixture().await;
    let token = f.mint(EEA_MEMBER_SUB, &["openid", "profile", "email"]);
    let (status, body) = f.snapshot(&token, "q=criteria&domain=PROFILE").await;
    assert_eq!(status, 403);
    assert_eq!(body["status"], 403);
    assert_eq!(body["code"], "ACCESS_DENIED");
    let (status, body) = f.snapshot("bogus", "q=criteria&domain=PROFILE").await;
    assert_eq!(status, 401);
    assert_eq!(body["serviceErrorCode"], 65600);
}

// ---------------------------------------------------------------- members, server

#[test]
fn generated_members_are_deterministic_and_cheap() {
    let all: Vec<SandboxMember> = (0..10_000).map(SandboxMember::generated).collect();
    assert_eq!(all[42], SandboxMember::generated(42));
    assert_eq!(all[42].sub, "gen0000042");
    assert_eq!(SandboxMember::generated_index("gen0000042"), Some(42));
    assert_eq!(SandboxMember::generated_index(EEA_MEMBER_SUB), None);
    let subs: std::collections::HashSet<&str> = all.iter().map(|m| m.sub.as_str()).collect();
    assert_eq!(subs.len(), 10_000);
    assert!(all.iter().any(|m| m.email.is_none()));
    assert!(all.iter().any(|m| !m.portability));
    assert!(all.iter().all(|m| !m.positions.is_empty()));
}

#[tokio::test]
async fn generated_members_are_served_through_the_factory() {
    let f = start(LinkedInSandboxConfig::default().with_generated_members()).await;
    let token = f.mint("gen0009999", &["openid", "profile", "email"]);
    let (status, info) = f.userinfo(&token).await;
    assert_eq!(status, 200);
    let expected = SandboxMember::generated(9999);
    assert_eq!(info["given_name"], expected.given_name);
    assert!(f
        .li
        .update_member("gen0000003", |m| m.given_name = "Changed".to_owned()));
    assert_eq!(f.li.member("gen0000003").unwrap().given_name, "Changed");
    // An unknown sub is an invalid token's member.
    let token = f.mint("nobody", &["openid"]);
    assert_eq!(f.userinfo(&token).await.0, 401);
}

#[tokio::test]
async fn faults_and_the_request_log_apply() {
    let f = default_fixture().await;
    let token = f.mint(EEA_MEMBER_SUB, &["openid"]);
    f.sb.faults
        .fail_next(1, axum::http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(f.userinfo(&token).await.0, 503);
    assert_eq!(f.userinfo(&token).await.0, 200);
    assert_eq!(f.sb.log.len(), 2);
}
