//! Tests of the Microsoft sandbox over real loopback HTTP.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::pkce_s256;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9s0bx6Rkx.0~dnk_3bSsRsbTpmH";

struct Fixture {
    ms: MicrosoftSandbox,
    sb: SandboxHandle,
    http: reqwest::Client,
}

async fn fixture() -> Fixture {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = MicrosoftSandboxConfig {
        store_then_timeout_delay: Duration::from_secs(5),
        ..MicrosoftSandboxConfig::default()
    };
    let (ms, sb) = MicrosoftSandbox::start_with(config, listener).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Fixture { ms, sb, http }
}

fn event(tx: Option<&str>) -> Value {
    let mut e = json!({
        "subject": "Interview",
        "body": {"contentType": "html", "content": "<p>Join: https://meet.example/abc</p>"},
        "start": {"dateTime": "2030-05-01T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-05-01T11:00:00", "timeZone": "W. Europe Standard Time"},
        "location": {"displayName": "https://meet.example/abc"},
        "attendees": [{"emailAddress": {"address": "cand@example.com", "name": "Cand"}, "type": "required"}],
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 60,
    });
    if let Some(tx) = tx {
        e["transactionId"] = json!(tx);
    }
    e
}

impl Fixture {
    fn token(&self) -> String {
        self.ms
            .mint_token(DEFAULT_MAIL, &["User.Read", "Calendars.ReadWrite"])
            .unwrap()
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
}

#[tokio::test]
async fn create_answers_201_and_transaction_id_dedupes() {
    let f = fixture().await;
    let t = f.token();
    let (status, first) = f
        .call(
            reqwest::Method::POST,
            "/v1.0/me/events",
            &t,
            Some(event(Some("tx-1"))),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    for key in [
        "id",
        "webLink",
        "iCalUId",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
    ] {
        assert!(first[key].is_string(), "{key}");
    }
    assert_eq!(first["transactionId"], "tx-1");
    assert_eq!(first["start"]["dateTime"], "2030-05-01T10:00:00.0000000");
    assert_eq!(first["start"]["timeZone"], "Europe/Berlin");
    assert_eq!(first["organizer"]["emailAddress"]["address"], DEFAULT_MAIL);
    assert_eq!(first["reminderMinutesBeforeStart"], 60);
    let (status, again) = f
        .call(
            reqwest::Method::POST,
            "/v1.0/me/events",
            &t,
            Some(event(Some("tx-1"))),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(f.ms.event_count(DEFAULT_MAIL), 1);
    let (status, other) = f
        .call(
            reqwest::Method::POST,
            "/v1.0/me/events",
            &t,
            Some(event(Some("tx-2"))),
        )
        .await;
    assert_eq!(status, 201);
    assert_ne!(other["id"], first["id"]);
    assert_eq!(f.ms.event_count(DEFAULT_MAIL), 2);
}

#[tokio::test]
async fn get_patch_delete_and_validation() {
    let f = fixture().await;
    let t = f.token();
    let mut e = event(None);
    e["onlineMeetingUrl"] = json!("https://meet.example/abc");
    let (_, created) = f
        .call(reqwest::Method::POST, "/v1.0/me/events", &t, Some(e))
        .await;
    assert!(
        created["onlineMeetingUrl"].is_null(),
        "read-only: ignored as Graph does"
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        f.ms.event(DEFAULT_MAIL, &id).unwrap().ignored_fields,
        vec!["onlineMeetingUrl"]
    );
    let path = format!("/v1.0/me/events/{id}");
    let (status, got) = f.call(reqwest::Method::GET, &path, &t, None).await;
    assert_eq!(status, 200);
    // GET answers UTC by default: 10:00 Berlin (CEST) is 08:00Z.
    assert_eq!(
        got["start"],
        json!({"dateTime": "2030-05-01T08:00:00.0000000", "timeZone": "UTC"})
    );
    let (status, patched) = f
        .call(reqwest::Method::PATCH, &path, &t, Some(json!({"subject": "Moved", "start": {"dateTime": "2030-05-01T09:00:00", "timeZone": "Africa/Nairobi"}})))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["subject"], "Moved");
    assert_eq!(patched["body"]["contentType"], "html");
    let (status, _) = f.call(reqwest::Method::DELETE, &path, &t, None).await;
    assert_eq!(status, 204);
    let (status, err) = f.call(reqwest::Method::GET, &path, &t, None).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "ErrorItemNotFound");

    let mut bad = event(None);
    bad["start"]["timeZone"] = json!("Mars/Olympus");
    let (status, err) = f
        .call(reqwest::Method::POST, "/v1.0/me/events", &t, Some(bad))
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "TimeZoneNotSupportedException");
    let mut bad = event(None);
    bad["start"]["dateTime"] = json!("2030-05-01T10:00:00+02:00");
    assert_eq!(
        f.call(reqwest::Method::POST, "/v1.0/me/events", &t, Some(bad))
            .await
            .0,
        400
    );
    let mut bad = event(None);
    bad["attendees"][0]["type"] = json!("mandatory");
    assert_eq!(
        f.call(reqwest::Method::POST, "/v1.0/me/events", &t, Some(bad))
            .await
            .0,
        400
    );

    let (status, err) = f
        .call(reqwest::Method::GET, "/v1.0/me", "garbage", None)
        .await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "InvalidAuthenticationToken");
    let (status, me) = f.call(reqwest::Method::GET, "/v1.0/me", &t, None).await;
    assert_eq!(status, 200);
    assert_eq!(me["mail"], DEFAULT_MAIL);
    let (status, cals) = f
        .call(reqwest::Method::GET, "/v1.0/me/calendars", &t, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(cals["value"][0]["isDefaultCalendar"], true);
    assert_eq!(cals["value"][0]["owner"]["address"], DEFAULT_MAIL);
    let cal = cals["value"][0]["id"].as_str().unwrap();
    let (status, _) = f
        .call(
            reqwest::Method::POST,
            &format!("/v1.0/me/calendars/{cal}/events"),
            &t,
            Some(event(None)),
        )
        .await;
    assert_eq!(status, 201);
    let read_only = f.ms.mint_token(DEFAULT_MAIL, &["Calendars.Read"]).unwrap();
    let (status, err) = f
        .call(
            reqwest::Method::POST,
            "/v1.0/me/events",
            &read_only,
            Some(event(None)),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["code"], "ErrorAccessDenied");
}

#[tokio::test]
async fn get_schedule_reports_events_and_busy_blocks() {
    let f = fixture().await;
    let t = f.token();
    // 08:00-09:00Z.
    assert_eq!(
        f.call(
            reqwest::Method::POST,
            "/v1.0/me/events",
            &t,
            Some(event(None))
        )
        .await
        .0,
        201
    );
    let start = chrono::DateTime::parse_from_rfc3339("2030-05-01T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    f.ms.add_busy(DEFAULT_MAIL, start, start + chrono::Duration::minutes(30));
    let (status, sched) = f
        .call(
            reqwest::Method::POST,
            "/v1.0/me/calendar/getSchedule",
            &t,
            Some(json!({
                "schedules": [DEFAULT_MAIL, "ghost@contoso.example"],
                "startTime": {"dateTime": "2030-05-01T07:00:00", "timeZone": "UTC"},
                "endTime": {"dateTime": "2030-05-01T11:00:00", "timeZone": "UTC"},
                "availabilityViewInterval": 60,
            })),
        )
        .await;
    assert_eq!(status, 200, "{sched}");
    let mine = &sched["value"][0];
    assert_eq!(mine["scheduleId"], DEFAULT_MAIL);
    assert_eq!(mine["availabilityView"], "0202");
    assert_eq!(mine["scheduleItems"].as_array().unwrap().len(), 2);
    assert_eq!(mine["scheduleItems"][0]["status"], "busy");
    assert_eq!(
        mine["scheduleItems"][0]["start"]["dateTime"],
        "2030-05-01T08:00:00.0000000"
    );
    assert!(sched["value"][1]["error"].is_object());
}

#[tokio::test]
async fn store_then_timeout_and_throttle() {
    let f = fixture().await;
    let t = f.token();
    f.ms.store_then_timeout_next();
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let res = quick
        .post(f.sb.url("/v1.0/me/events"))
        .bearer_auth(&t)
        .json(&event(Some("tx-lost")))
        .send()
        .await;
    assert!(res.is_err());
    assert_eq!(f.ms.event_count(DEFAULT_MAIL), 1);
    // The retry with the same transactionId gets the stored event.
    let (status, _) = f
        .call(
            reqwest::Method::POST,
            "/v1.0/me/events",
            &t,
            Some(event(Some("tx-lost"))),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(f.ms.event_count(DEFAULT_MAIL), 1);

    f.ms.throttle_next(1, 7);
    let resp = f
        .http
        .get(f.sb.url("/v1.0/me"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ApplicationThrottled");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_need_offline_access() {
    let f = fixture().await;
    let authorize = |scope: &'static str| {
        let challenge = pkce_s256(VERIFIER);
        let http = f.http.clone();
        let url = f.sb.url("/common/oauth2/v2.0/authorize");
        async move {
            let resp = http
                .get(url)
                .query(&[
                    ("response_type", "code"),
                    ("client_id", "sandbox-client"),
                    ("redirect_uri", REDIRECT),
                    ("scope", scope),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 302);
            let loc = resp.headers()["location"].to_str().unwrap().to_owned();
            let q: HashMap<String, String> = url::Url::parse(&loc)
                .unwrap()
                .query_pairs()
                .into_owned()
                .collect();
            q["code"].clone()
        }
    };
    let token_url = f.sb.url("/common/oauth2/v2.0/token");
    let post = |form: Vec<(&'static str, String)>| {
        let http = f.http.clone();
        let url = token_url.clone();
        async move {
            let resp = http.post(url).form(&form).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let exchange = |code: String| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("client_id", "sandbox-client".to_owned()),
            ("client_secret", "sandbox-secret".to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("code_verifier", VERIFIER.to_owned()),
        ]
    };
    let code = authorize("Calendars.ReadWrite User.Read").await;
    let (status, tokens) = post(exchange(code)).await;
    assert_eq!(status, 200);
    assert!(tokens.get("refresh_token").is_none());

    let code = authorize("offline_access Calendars.ReadWrite User.Read").await;
    let (status, tokens) = post(exchange(code)).await;
    assert_eq!(status, 200);
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |rt: String| {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt),
            ("client_id", "sandbox-client".to_owned()),
            ("client_secret", "sandbox-secret".to_owned()),
        ]
    };
    let (status, next) = post(refresh(first.clone())).await;
    assert_eq!(status, 200);
    let second = next["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (status, err) = post(refresh(first)).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"], "invalid_grant");
    assert_eq!(post(refresh(second)).await.0, 200);
    // Graph accepts the new access token.
    let access = next["access_token"].as_str().unwrap();
    assert_eq!(
        f.call(reqwest::Method::GET, "/v1.0/me", access, None)
            .await
            .0,
        200
    );
}
