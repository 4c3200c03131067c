use chrono::{Datelike, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use secrecy::SecretString;
use serde_json::json;

use super::*;
use crate::providers::{calendar::EventAttendee, testing::Scripted};

const OUR_ID: &str = "0190f1c2-7b3a-7c4e-9d2f-1a2b3c4d5e6f";

/// 09:00 in Berlin on the Monday after the EU's 2027 change to summer time
/// (last Sunday of March: 28 March 2027), i.e. 07:00 UTC.
fn monday_after_spring_change() -> chrono::DateTime<Utc> {
    let local = Berlin.with_ymd_and_hms(2027, 3, 29, 9, 0, 0).unwrap();
    assert_eq!(local.weekday(), Weekday::Mon);
    let sunday = Berlin.with_ymd_and_hms(2027, 3, 28, 12, 0, 0).unwrap();
    assert_eq!(sunday.weekday(), Weekday::Sun);
    local.to_utc()
}

fn event() -> EventBody {
    let start = monday_after_spring_change();
    EventBody {
        our_id: OUR_ID.to_owned(),
        title: "Interview: Backend Engineer".to_owned(),
        description: "Second round".to_owned(),
        location: None,
        meeting_url: Some("https://meet.nextke.example/r/abc".to_owned()),
        start,
        end: start + chrono::Duration::minutes(45),
        time_zone: Berlin,
        attendees: vec![
            EventAttendee {
                email: "ada@example.com".to_owned(),
                name: Some("Ada".to_owned()),
                optional: false,
            },
            EventAttendee {
                email: "bob@example.com".to_owned(),
                name: None,
                optional: true,
            },
        ],
        reminder_minutes: vec![1440, 15, 60, 15],
        notify_attendees: true,
    }
}

fn token() -> SecretString {
    SecretString::from("ya29.test-token")
}

fn client(base: &Url) -> GoogleCalendarClient {
    GoogleCalendarClient::new(
        crate::providers::testing::outbound(),
        base.clone(),
        base.clone(),
    )
}

#[test]
fn event_ids_are_base32hex_and_derived_from_ours() {
    let id = event_id_for(OUR_ID).unwrap();
    assert_eq!(id, "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f");
    // every spelling of the same UUID gives the same id
    assert_eq!(event_id_for(&OUR_ID.to_uppercase()).unwrap(), id);
    assert_eq!(event_id_for(&OUR_ID.replace('-', "")).unwrap(), id);
    // not a UUID: `v` + base32hex of the bytes
    let other = event_id_for("evt-42").unwrap();
    assert!(other.starts_with('v'));
    assert_ne!(other, event_id_for("evt-43").unwrap());
    for id in [id.as_str(), other.as_str()] {
        assert!((5..=1024).contains(&id.len()));
        assert!(
            id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v')),
            "{id}"
        );
    }
    assert!(event_id_for("").is_err());
    assert!(event_id_for(&"x".repeat(700)).is_err());
}

#[test]
fn base32hex_matches_rfc_4648_vectors() {
    // RFC 4648 §10, lowercased and without padding
    let cases = [
        ("", ""),
        ("f", "co"),
        ("fo", "cpng"),
        ("foo", "cpnmu"),
        ("foob", "cpnmuog"),
        ("fooba", "cpnmuoj1"),
        ("foobar", "cpnmuoj1e8"),
    ];
    for (input, expected) in cases {
        assert_eq!(base32hex(input.as_bytes()), expected, "{input}");
    }
}

#[test]
fn insert_body_has_offsets_of_the_zone_at_that_instant() {
    let event = event();
    let id = event_id_for(&event.our_id).unwrap();
    let body = serde_json::to_value(event_write(&event, Some(&id), None)).unwrap();
    assert_eq!(
        body,
        json!({
            "id": "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f",
            "summary": "Interview: Backend Engineer",
            "description": "Second round\n\nhttps://meet.nextke.example/r/abc",
            "location": "https://meet.nextke.example/r/abc",
            "start": {"dateTime": "2027-03-29T09:00:00+02:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2027-03-29T09:45:00+02:00", "timeZone": "Europe/Berlin"},
            "attendees": [
                {"email": "ada@example.com", "displayName": "Ada", "optional": false},
                {"email": "bob@example.com", "optional": true}
            ],
            "reminders": {"useDefault": false, "overrides": [
                {"method": "popup", "minutes": 15},
                {"method": "popup", "minutes": 60},
                {"method": "popup", "minutes": 1440}
            ]},
            "extendedProperties": {"private": {"nextke_event_id": OUR_ID}}
        })
    );
    // the Friday before the change is still winter time
    let mut winter = event.clone();
    winter.start = Berlin
        .with_ymd_and_hms(2027, 3, 26, 9, 0, 0)
        .unwrap()
        .to_utc();
    let body = serde_json::to_value(event_write(&winter, None, None)).unwrap();
    assert_eq!(body["start"]["dateTime"], "2027-03-26T09:00:00+01:00");
}

#[test]
fn reminders_are_capped_at_five_within_four_weeks() {
    let mut event = event();
    event.reminder_minutes = vec![50_000, 1, 2, 3, 4, 5, 6];
    let body = serde_json::to_value(event_write(&event, None, None)).unwrap();
    let minutes: Vec<u64> = body["reminders"]["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["minutes"].as_u64().unwrap())
        .collect();
    assert_eq!(minutes, [1, 2, 3, 4, 5]);
    event.reminder_minutes.clear();
    let body = serde_json::to_value(event_write(&event, None, None)).unwrap();
    assert_eq!(
        body["reminders"],
        json!({"useDefault": false, "overrides": []})
    );
}

#[test]
fn patch_body_sets_every_owned_field_and_clears_the_location() {
    let mut event = event();
    event.meeting_url = None;
    let body = serde_json::to_value(event_write(&event, None, None)).unwrap();
    assert!(body.get("id").is_none());
    assert!(body.get("status").is_none());
    assert_eq!(body["location"], serde_json::Value::Null);
    assert_eq!(body["description"], "Second round");
    let revive = serde_json::to_value(event_write(&event, None, Some("confirmed"))).unwrap();
    assert_eq!(revive["status"], "confirmed");
}

#[test]
fn over_quota_403_is_retryable_other_403_permanent() {
    for reason in ["rateLimitExceeded", "userRateLimitExceeded"] {
        let body = json!({"error": {"errors": [{"domain": "usageLimits", "reason": reason}],
            "code": 403, "message": "Rate Limit Exceeded"}});
        let err = classify_status(
            PROVIDER,
            StatusCode::FORBIDDEN,
            body.to_string().as_bytes(),
            None,
        );
        assert!(err.is_retryable(), "{reason}: {err}");
    }
    let body =
        json!({"error": {"errors": [{"domain": "global", "reason": "forbidden"}], "code": 403}});
    let err = classify_status(
        PROVIDER,
        StatusCode::FORBIDDEN,
        body.to_string().as_bytes(),
        None,
    );
    assert!(!err.is_retryable());
}

#[test]
fn free_busy_request_and_answer() {
    let ids = vec![
        "primary".to_owned(),
        "team@group.calendar.google.com".to_owned(),
    ];
    let start = monday_after_spring_change();
    let query = BusyQuery {
        start,
        end: start + chrono::Duration::hours(8),
        time_zone: Berlin,
        account_email: "ada@example.com",
        calendar_ids: &ids,
    };
    let body = serde_json::to_value(free_busy_request(&query, &ids)).unwrap();
    assert_eq!(
        body,
        json!({
            "timeMin": "2027-03-29T07:00:00Z",
            "timeMax": "2027-03-29T15:00:00Z",
            "timeZone": "Europe/Berlin",
            "items": [{"id": "primary"}, {"id": "team@group.calendar.google.com"}]
        })
    );
    let answer: FreeBusyResponse = serde_json::from_value(json!({
        "kind": "calendar#freeBusy",
        "calendars": {
            "primary": {"busy": [
                {"start": "2027-03-29T11:00:00+02:00", "end": "2027-03-29T12:00:00+02:00"},
                {"start": "2027-03-29T09:00:00+02:00", "end": "2027-03-29T09:30:00+02:00"}
            ]},
            "team@group.calendar.google.com": {"busy": [
                {"start": "2027-03-29T07:00:00Z", "end": "2027-03-29T07:30:00Z"}
            ]}
        }
    }))
    .unwrap();
    let busy = busy_of(answer).unwrap();
    assert_eq!(busy.len(), 2, "duplicates merged: {busy:?}");
    assert_eq!(busy[0].start, start);
    assert_eq!(busy[1].start, start + chrono::Duration::hours(2));

    let failed: FreeBusyResponse = serde_json::from_value(json!({"calendars": {
        "primary": {"busy": []},
        "x@example.com": {"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}
    }}))
    .unwrap();
    let err = busy_of(failed).unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("freebusy.notfound"), "{err}");
    let backend: FreeBusyResponse = serde_json::from_value(json!({"calendars": {
        "primary": {"errors": [{"domain": "global", "reason": "backendError"}]}
    }}))
    .unwrap();
    assert!(busy_of(backend).unwrap_err().is_retryable());
}

fn duplicate() -> (u16, serde_json::Value) {
    (
        409,
        json!({"error": {"errors": [{"domain": "global", "reason": "duplicate",
            "message": "The requested identifier already exists."}], "code": 409}}),
    )
}

#[tokio::test]
async fn create_posts_the_fixed_id_with_send_updates() {
    let server = Scripted::start([(
        200,
        json!({"id": "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f", "status": "confirmed",
            "htmlLink": "https://www.google.com/calendar/event?eid=x"}),
    )])
    .await;
    let created = client(&server.base)
        .create_event(&token(), "primary", &event())
        .await
        .unwrap();
    assert_eq!(created.id, "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f");
    assert_eq!(
        created.html_link.as_deref(),
        Some("https://www.google.com/calendar/event?eid=x")
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/calendar/v3/calendars/primary/events");
    assert_eq!(seen[0].param("sendUpdates").as_deref(), Some("all"));
    assert_eq!(seen[0].headers["authorization"], "Bearer ya29.test-token");
    assert_eq!(seen[0].json()["id"], "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f");
}

#[tokio::test]
async fn a_duplicate_that_is_ours_and_cancelled_is_revived() {
    let id = "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f";
    let server = Scripted::start([
        duplicate(),
        (
            200,
            json!({"id": id, "status": "cancelled",
            "extendedProperties": {"private": {"nextke_event_id": OUR_ID}}}),
        ),
        (
            200,
            json!({"id": id, "status": "confirmed", "htmlLink": "https://g/e"}),
        ),
    ])
    .await;
    let created = client(&server.base)
        .create_event(&token(), "primary", &event())
        .await
        .unwrap();
    assert_eq!(created.id, id);
    let seen = server.seen();
    let calls: Vec<_> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    let path = format!("/calendar/v3/calendars/primary/events/{id}");
    assert_eq!(
        calls,
        [
            ("POST", "/calendar/v3/calendars/primary/events"),
            ("GET", path.as_str()),
            ("PATCH", path.as_str()),
        ]
    );
    let patch = seen[2].json();
    assert_eq!(patch["status"], "confirmed");
    assert_eq!(patch["summary"], "Interview: Backend Engineer");
    assert_eq!(patch["start"]["dateTime"], "2027-03-29T09:00:00+02:00");
}

#[tokio::test]
async fn a_duplicate_that_is_ours_and_live_is_returned_as_is() {
    let id = "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f";
    let server = Scripted::start([
        duplicate(),
        (
            200,
            json!({"id": id, "status": "confirmed",
            "extendedProperties": {"private": {"nextke_event_id": OUR_ID}}}),
        ),
    ])
    .await;
    let created = client(&server.base)
        .create_event(&token(), "primary", &event())
        .await
        .unwrap();
    assert_eq!(created.id, id);
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn an_id_held_by_another_event_falls_back_to_the_tag() {
    let server = Scripted::start([
        duplicate(),
        (
            200,
            json!({"id": "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f", "status": "confirmed"}),
        ),
        (
            200,
            json!({"items": [{"id": "elsewhere1", "status": "confirmed",
            "extendedProperties": {"private": {"nextke_event_id": OUR_ID}}}]}),
        ),
    ])
    .await;
    let created = client(&server.base)
        .create_event(&token(), "team@group.calendar.google.com", &event())
        .await
        .unwrap();
    assert_eq!(created.id, "elsewhere1");
    let seen = server.seen();
    assert_eq!(seen[2].method, "GET");
    assert_eq!(
        seen[2].path,
        "/calendar/v3/calendars/team@group.calendar.google.com/events"
    );
    assert_eq!(
        seen[2].param("privateExtendedProperty"),
        Some(format!("nextke_event_id={OUR_ID}"))
    );
    assert_eq!(seen[2].param("showDeleted").as_deref(), Some("true"));

    // nothing of ours anywhere: permanent
    let server = Scripted::start([
        duplicate(),
        (
            200,
            json!({"id": "0190f1c27b3a7c4e9d2f1a2b3c4d5e6f", "status": "confirmed"}),
        ),
        (200, json!({"items": []})),
    ])
    .await;
    let err = client(&server.base)
        .create_event(&token(), "primary", &event())
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(409));
}

#[tokio::test]
async fn create_errors_keep_their_class() {
    let server = Scripted::start([(401, json!({"error": {"code": 401}}))]).await;
    let err = client(&server.base)
        .create_event(&token(), "primary", &event())
        .await
        .unwrap_err();
    assert!(err.is_reauth(), "{err}");
    let server = Scripted::start([(400, json!({"error": {"code": 400}}))]).await;
    let err = client(&server.base)
        .create_event(&token(), "primary", &event())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(!err.to_string().contains("ya29"), "{err}");
}

#[tokio::test]
async fn delete_of_a_gone_event_is_ok() {
    let server = Scripted::start([
        (410, json!({"error": {"code": 410}})),
        (404, json!({"error": {"code": 404}})),
    ])
    .await;
    let google = client(&server.base);
    google
        .delete_event(&token(), "primary", "abcde", false)
        .await
        .unwrap();
    google
        .delete_event(&token(), "primary", "abcde", true)
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].method, "DELETE");
    assert_eq!(seen[0].param("sendUpdates").as_deref(), Some("none"));
    assert_eq!(seen[1].param("sendUpdates").as_deref(), Some("all"));
}

#[tokio::test]
async fn account_is_the_primary_calendar() {
    let server = Scripted::start([
        (200, json!({"items": [
            {"id": "team@group.calendar.google.com", "summary": "Team"},
            {"id": "ada@example.com", "summary": "ada@example.com", "summaryOverride": "Mine", "primary": true}
        ], "nextPageToken": "p2"})),
        (200, json!({"items": [{"id": "other@group.calendar.google.com", "summary": "Other"}]})),
    ])
    .await;
    let account = client(&server.base).account(&token()).await.unwrap();
    assert_eq!(account.email, "ada@example.com");
    assert_eq!(account.calendars.len(), 3);
    assert!(account.calendars[0].primary);
    assert_eq!(account.calendars[0].name, "Mine");
    let seen = server.seen();
    assert_eq!(seen[0].path, "/calendar/v3/users/me/calendarList");
    assert_eq!(seen[1].param("pageToken").as_deref(), Some("p2"));
}

#[tokio::test]
async fn account_falls_back_to_userinfo_without_list_scope() {
    let server = Scripted::start([
        (
            403,
            json!({"error": {"errors": [{"reason": "insufficientPermissions"}], "code": 403}}),
        ),
        (200, json!({"sub": "1", "email": "ada@example.com"})),
    ])
    .await;
    let account = client(&server.base).account(&token()).await.unwrap();
    assert_eq!(account.email, "ada@example.com");
    assert_eq!(account.calendars[0].id, "primary");
    assert_eq!(server.seen()[1].path, "/v1/userinfo");
}
