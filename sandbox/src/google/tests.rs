//! Tests of the Google sandbox over real loopback HTTP.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::pkce_s256;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9s0bx6Rkx.0~dnk_3bSsRsbTpmH";

struct Fixture {
    g: GoogleSandbox,
    sb: SandboxHandle,
    http: reqwest::Client,
}

async fn fixture() -> Fixture {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = GoogleSandboxConfig {
        store_then_timeout_delay: Duration::from_secs(5),
        ..GoogleSandboxConfig::default()
    };
    let (g, sb) = GoogleSandbox::start_with(config, listener).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Fixture { g, sb, http }
}

fn event(id: Option<&str>) -> Value {
    let mut e = json!({
        "summary": "Interview",
        "start": {"dateTime": "2030-05-01T10:00:00+02:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-05-01T11:00:00+02:00", "timeZone": "Europe/Berlin"},
        "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 15}]},
        "attendees": [{"email": "cand@example.com", "displayName": "Cand", "optional": false}],
        "extendedProperties": {"private": {"nextkeEventId": "ev-1"}},
    });
    if let Some(id) = id {
        e["id"] = json!(id);
    }
    e
}

impl Fixture {
    fn token(&self, scopes: &[&str]) -> String {
        self.g.mint_token(DEFAULT_EMAIL, scopes).unwrap()
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, self.sb.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn insert(&self, token: &str, body: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/calendar/v3/calendars/primary/events?sendUpdates=none",
            token,
            Some(body),
        )
        .await
    }
}

#[tokio::test]
async fn insert_with_taken_id_is_409_duplicate_and_bad_ids_are_400() {
    let f = fixture().await;
    let t = f.token(&[SCOPE_EVENTS]);
    let id = "0123456789abcdefghijklmnopqrstuv";
    let (status, ev) = f.insert(&t, event(Some(id))).await;
    assert_eq!(status, 200, "{ev}");
    assert_eq!(ev["kind"], "calendar#event");
    assert_eq!(ev["id"], id);
    assert_eq!(ev["status"], "confirmed");
    assert_eq!(ev["iCalUID"], format!("{id}@google.com"));
    assert_eq!(ev["organizer"]["email"], DEFAULT_EMAIL);
    assert_eq!(ev["attendees"][0]["responseStatus"], "needsAction");
    assert!(ev["htmlLink"]
        .as_str()
        .unwrap()
        .starts_with("https://www.google.com/calendar/event?eid="));

    let (status, err) = f.insert(&t, event(Some(id))).await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], 409);
    assert_eq!(err["error"]["errors"][0]["domain"], "global");
    assert_eq!(err["error"]["errors"][0]["reason"], "duplicate");

    for bad in ["abc", "has-dash-0000", "wxyz0000"] {
        let (status, err) = f.insert(&t, event(Some(bad))).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(err["error"]["errors"][0]["reason"], "invalid");
    }
    assert_eq!(f.g.event_count(DEFAULT_EMAIL), 1);
    let stored = f.g.event(DEFAULT_EMAIL, id).unwrap();
    assert_eq!(stored.send_updates.as_deref(), Some("none"));
    assert_eq!(stored.resource["summary"], "Interview");
}

#[tokio::test]
async fn validation_of_times_and_reminders() {
    let f = fixture().await;
    let t = f.token(&[SCOPE_EVENTS]);
    let mut e = event(None);
    e["end"] = json!({"dateTime": "2030-05-01T09:00:00+02:00"});
    assert_eq!(
        f.insert(&t, e).await.1["error"]["errors"][0]["reason"],
        "timeRangeEmpty"
    );
    let mut e = event(None);
    e["start"] = json!({"dateTime": "2030-05-01T10:00:00"});
    assert_eq!(f.insert(&t, e).await.0, 400);
    let mut e = event(None);
    e["reminders"]["overrides"] = json!([{"method": "sms", "minutes": 5}]);
    assert_eq!(f.insert(&t, e).await.0, 400);
    let mut e = event(None);
    e["reminders"]["overrides"] = json!([{"method": "email", "minutes": 40321}]);
    assert_eq!(f.insert(&t, e).await.0, 400);
    let mut e = event(None);
    e["reminders"]["overrides"] = json!((0..6)
        .map(|i| json!({"method": "popup", "minutes": i}))
        .collect::<Vec<_>>());
    assert_eq!(f.insert(&t, e).await.0, 400);
    let mut e = event(None);
    e["start"] = json!({"date": "2030-05-01"});
    e["end"] = json!({"date": "2030-05-02"});
    assert_eq!(f.insert(&t, e).await.0, 200);
    let (status, _) = f
        .call(
            reqwest::Method::POST,
            "/calendar/v3/calendars/primary/events?sendUpdates=sometimes",
            &t,
            Some(event(None)),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(f.g.event_count(DEFAULT_EMAIL), 1);
}

#[tokio::test]
async fn deleted_event_keeps_its_id_and_patch_confirmed_undeletes_it() {
    let f = fixture().await;
    let t = f.token(&[SCOPE_EVENTS]);
    let id = "abcdef0123456789";
    assert_eq!(f.insert(&t, event(Some(id))).await.0, 200);
    let path = format!("/calendar/v3/calendars/primary/events/{id}");
    let (status, _) = f.call(reqwest::Method::DELETE, &path, &t, None).await;
    assert_eq!(status, 204);
    let (status, err) = f.call(reqwest::Method::DELETE, &path, &t, None).await;
    assert_eq!(status, 410);
    assert_eq!(err["error"]["errors"][0]["reason"], "deleted");
    let (status, got) = f.call(reqwest::Method::GET, &path, &t, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["status"], "cancelled");
    // Re-creating with the same id is a duplicate even though it is cancelled.
    assert_eq!(f.insert(&t, event(Some(id))).await.0, 409);
    let (status, got) = f
        .call(
            reqwest::Method::PATCH,
            &path,
            &t,
            Some(json!({"status": "confirmed", "summary": "Back"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["status"], "confirmed");
    assert_eq!(got["summary"], "Back");
    // Patch keeps the other fields.
    assert_eq!(
        got["extendedProperties"]["private"]["nextkeEventId"],
        "ev-1"
    );
    assert_eq!(got["reminders"]["overrides"][0]["minutes"], 15);
    // PUT replaces the whole event.
    let (status, got) = f
        .call(
            reqwest::Method::PUT,
            &path,
            &t,
            Some(json!({"start": {"date": "2030-06-01"}, "end": {"date": "2030-06-02"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(got.get("summary").is_none());
    assert_eq!(got["sequence"], 1);
}

#[tokio::test]
async fn private_extended_property_filters_the_list_and_pages() {
    let f = fixture().await;
    let t = f.token(&[SCOPE_EVENTS]);
    for k in 0..5 {
        let mut e = event(None);
        e["extendedProperties"]["private"]["nextkeEventId"] = json!(format!("ev-{k}"));
        e["extendedProperties"]["private"]["app"] = json!("nextke");
        assert_eq!(f.insert(&t, e).await.0, 200);
    }
    let base = "/calendar/v3/calendars/primary/events";
    let (status, list) = f
        .call(
            reqwest::Method::GET,
            &format!("{base}?privateExtendedProperty=nextkeEventId%3Dev-3&privateExtendedProperty=app%3Dnextke"),
            &t,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["kind"], "calendar#events");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["items"][0]["extendedProperties"]["private"]["nextkeEventId"],
        "ev-3"
    );
    assert!(list["nextSyncToken"].is_string());

    let (_, page1) = f
        .call(
            reqwest::Method::GET,
            &format!("{base}?maxResults=3"),
            &t,
            None,
        )
        .await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 3);
    let token = page1["nextPageToken"].as_str().unwrap();
    assert!(page1.get("nextSyncToken").is_none());
    let (_, page2) = f
        .call(
            reqwest::Method::GET,
            &format!("{base}?maxResults=3&pageToken={token}"),
            &t,
            None,
        )
        .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 2);
    assert!(page2["nextSyncToken"].is_string());

    let (_, none) = f
        .call(
            reqwest::Method::GET,
            &format!("{base}?timeMin=2031-01-01T00:00:00Z"),
            &t,
            None,
        )
        .await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn freebusy_needs_more_than_the_events_scope() {
    let f = fixture().await;
    let events_only = f.token(&[SCOPE_EVENTS]);
    assert_eq!(f.insert(&events_only, event(None)).await.0, 200);
    f.g.add_busy(
        DEFAULT_EMAIL,
        parse_rfc3339_utc("2030-05-01T07:30:00Z"),
        parse_rfc3339_utc("2030-05-01T08:30:00Z"),
    );
    let query = json!({
        "timeMin": "2030-05-01T00:00:00Z",
        "timeMax": "2030-05-02T00:00:00Z",
        "items": [{"id": DEFAULT_EMAIL}, {"id": "nobody@example.com"}],
    });
    let (status, err) = f
        .call(
            reqwest::Method::POST,
            "/calendar/v3/freeBusy",
            &events_only,
            Some(query.clone()),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        err["error"]["errors"][0]["reason"],
        "insufficientPermissions"
    );

    let readonly = f.token(&[SCOPE_CALENDAR_READONLY]);
    let (status, fb) = f
        .call(
            reqwest::Method::POST,
            "/calendar/v3/freeBusy",
            &readonly,
            Some(query),
        )
        .await;
    assert_eq!(status, 200, "{fb}");
    assert_eq!(fb["kind"], "calendar#freeBusy");
    // 07:30-08:30Z seeded, 08:00-09:00Z the event: merged.
    assert_eq!(
        fb["calendars"][DEFAULT_EMAIL]["busy"],
        json!([{"start": "2030-05-01T07:30:00Z", "end": "2030-05-01T09:00:00Z"}])
    );
    assert_eq!(
        fb["calendars"]["nobody@example.com"]["errors"][0]["reason"],
        "notFound"
    );
}

fn parse_rfc3339_utc(s: &str) -> chrono::DateTime<chrono::Utc> {
    events::parse_rfc3339(s).unwrap()
}

#[tokio::test]
async fn store_then_timeout_stores_the_event_the_client_never_hears_about() {
    let f = fixture().await;
    let t = f.token(&[SCOPE_EVENTS]);
    f.g.store_then_timeout_next();
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let res = quick
        .post(f.sb.url("/calendar/v3/calendars/primary/events"))
        .bearer_auth(&t)
        .json(&event(Some("retro00001")))
        .send()
        .await;
    assert!(res.is_err(), "the answer must not arrive in time");
    assert_eq!(f.g.event_count(DEFAULT_EMAIL), 1);
    // The retry with the same id finds its first attempt.
    assert_eq!(f.insert(&t, event(Some("retro00001"))).await.0, 409);

    f.g.store_then_drop_next();
    let res = f
        .http
        .post(f.sb.url("/calendar/v3/calendars/primary/events"))
        .bearer_auth(&t)
        .json(&event(Some("retro00002")))
        .send()
        .await;
    assert!(res.is_err(), "the connection must be dropped");
    assert_eq!(f.g.event_count(DEFAULT_EMAIL), 2);
    assert_eq!(f.g.after_store().fired(), 2);
}

#[tokio::test]
async fn auth_errors_and_rate_limit_switch() {
    let f = fixture().await;
    let (status, err) = f
        .call(
            reqwest::Method::GET,
            "/calendar/v3/users/me/calendarList",
            "nope",
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["errors"][0]["reason"], "authError");
    let t = f.token(&[SCOPE_CALENDAR]);
    let (status, list) = f
        .call(
            reqwest::Method::GET,
            "/calendar/v3/users/me/calendarList",
            &t,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], DEFAULT_EMAIL);
    assert_eq!(list["items"][0]["primary"], true);
    assert_eq!(list["items"][0]["accessRole"], "owner");
    f.g.rate_limit_next(1, GoogleRateLimit::RateLimitExceeded);
    let (status, err) = f
        .call(
            reqwest::Method::GET,
            "/calendar/v3/users/me/calendarList",
            &t,
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["errors"][0]["reason"], "rateLimitExceeded");
    f.g.oauth().expire_all_access_tokens();
    let (status, _) = f
        .call(
            reqwest::Method::GET,
            "/calendar/v3/users/me/calendarList",
            &t,
            None,
        )
        .await;
    assert_eq!(status, 401);
}

async fn authorize(f: &Fixture, extra: &[(&str, &str)]) -> String {
    let challenge = pkce_s256(VERIFIER);
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", "sandbox-client"),
        ("redirect_uri", REDIRECT),
        (
            "scope",
            "openid email https://www.googleapis.com/auth/calendar.events",
        ),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    q.extend_from_slice(extra);
    let resp = f
        .http
        .get(f.sb.url(AUTHORIZE_PATH))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let loc = resp.headers()["location"].to_str().unwrap().to_owned();
    let pairs: HashMap<String, String> = url::Url::parse(&loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    pairs["code"].clone()
}

async fn token(f: &Fixture, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = f
        .http
        .post(f.sb.url(TOKEN_PATH))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn exchange(f: &Fixture, code: String) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    token(f, &form).await
}

#[tokio::test]
async fn oauth_refresh_token_only_offline_with_consent_and_not_rotated() {
    let f = fixture().await;
    let code = authorize(&f, &[("access_type", "offline")]).await;
    let (status, tokens) = exchange(&f, code).await;
    assert_eq!(status, 200);
    assert!(tokens.get("refresh_token").is_none());

    let code = authorize(&f, &[("access_type", "offline"), ("prompt", "consent")]).await;
    let (status, tokens) = exchange(&f, code).await;
    assert_eq!(status, 200);
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    let (status, info) = f
        .call(reqwest::Method::GET, USERINFO_PATH, &access, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], DEFAULT_SUB);
    assert_eq!(info["email"], DEFAULT_EMAIL);
    assert_eq!(info["email_verified"], true);

    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
    ];
    for _ in 0..2 {
        let (status, again) = token(&f, &form).await;
        assert_eq!(status, 200);
        assert!(
            again.get("refresh_token").is_none(),
            "Google does not rotate"
        );
    }

    // Revoke takes the token alone and ends the grant.
    let resp = f
        .http
        .post(f.sb.url(REVOKE_PATH))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(token(&f, &form).await.0, 400);
}
