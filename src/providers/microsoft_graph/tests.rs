use chrono::{TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use secrecy::SecretString;
use serde_json::json;

use super::*;
use crate::providers::{calendar::EventAttendee, testing::Scripted};

const OUR_ID: &str = "0190f1c2-7b3a-7c4e-9d2f-1a2b3c4d5e6f";

/// 09:00 in Berlin on Monday 29 March 2027, the day after the EU's change
/// to summer time (07:00 UTC).
fn monday_after_spring_change() -> chrono::DateTime<Utc> {
    Berlin
        .with_ymd_and_hms(2027, 3, 29, 9, 0, 0)
        .unwrap()
        .to_utc()
}

fn event() -> EventBody {
    let start = monday_after_spring_change();
    EventBody {
        our_id: OUR_ID.to_owned(),
        title: "Interview: Backend Engineer".to_owned(),
        description: "Second round <Ada & Bob>".to_owned(),
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
        reminder_minutes: vec![1440, 60, 15],
        notify_attendees: true,
    }
}

fn token() -> SecretString {
    SecretString::from("eyJ0eXAi.graph-test-token")
}

fn client(base: &Url) -> MicrosoftGraphClient {
    MicrosoftGraphClient::new(crate::providers::testing::outbound(), base.clone())
}

#[test]
fn create_body_has_local_times_with_the_zone() {
    let body = serde_json::to_value(event_write(&event(), true)).unwrap();
    assert_eq!(
        body,
        json!({
            "transactionId": OUR_ID,
            "subject": "Interview: Backend Engineer",
            "body": {
                "contentType": "html",
                "content": "<p>Second round &lt;Ada &amp; Bob&gt;</p><p><a href=\"https://meet.nextke.example/r/abc\">https://meet.nextke.example/r/abc</a></p>"
            },
            "start": {"dateTime": "2027-03-29T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2027-03-29T09:45:00", "timeZone": "Europe/Berlin"},
            "location": {"displayName": "https://meet.nextke.example/r/abc"},
            "attendees": [
                {"emailAddress": {"address": "ada@example.com", "name": "Ada"}, "type": "required"},
                {"emailAddress": {"address": "bob@example.com"}, "type": "optional"}
            ],
            "isReminderOn": true,
            "reminderMinutesBeforeStart": 15
        })
    );
}

#[test]
fn update_body_has_no_transaction_id_and_clears_location() {
    let mut event = event();
    event.meeting_url = None;
    event.reminder_minutes.clear();
    let body = serde_json::to_value(event_write(&event, false)).unwrap();
    assert!(body.get("transactionId").is_none());
    assert_eq!(body["location"], serde_json::Value::Null);
    assert_eq!(
        body["body"],
        json!({"contentType": "text", "content": "Second round <Ada & Bob>"})
    );
    assert_eq!(body["isReminderOn"], false);
    assert!(body.get("reminderMinutesBeforeStart").is_none());
    // on create an absent location is left out
    let body = serde_json::to_value(event_write(&event, true)).unwrap();
    assert!(body.get("location").is_none());
    // our own location wins over the meeting link
    event.location = Some("Room 4".to_owned());
    event.meeting_url = Some("https://meet.nextke.example/r/abc".to_owned());
    let body = serde_json::to_value(event_write(&event, true)).unwrap();
    assert_eq!(body["location"], json!({"displayName": "Room 4"}));
}

#[test]
fn schedule_request_and_items() {
    let start = monday_after_spring_change();
    let query = BusyQuery {
        start,
        end: start + chrono::Duration::hours(8),
        time_zone: Berlin,
        account_email: "ada@contoso.com",
        calendar_ids: &[],
    };
    assert_eq!(
        serde_json::to_value(schedule_request(&query)).unwrap(),
        json!({
            "schedules": ["ada@contoso.com"],
            "startTime": {"dateTime": "2027-03-29T09:00:00", "timeZone": "Europe/Berlin"},
            "endTime": {"dateTime": "2027-03-29T17:00:00", "timeZone": "Europe/Berlin"},
            "availabilityViewInterval": 15
        })
    );
    let page: Page<ScheduleInformation> = serde_json::from_value(json!({
        "value": [{
            "scheduleId": "ada@contoso.com",
            "availabilityView": "000220000",
            "scheduleItems": [
                {"status": "busy", "start": {"dateTime": "2027-03-29T10:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2027-03-29T11:00:00.0000000", "timeZone": "UTC"}},
                {"status": "Free", "start": {"dateTime": "2027-03-29T12:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2027-03-29T13:00:00.0000000", "timeZone": "UTC"}},
                {"status": "Tentative", "start": {"dateTime": "2027-03-29T09:00:00", "timeZone": "Europe/Berlin"},
                    "end": {"dateTime": "2027-03-29T09:30:00", "timeZone": "Europe/Berlin"}}
            ]
        }]
    }))
    .unwrap();
    let busy = busy_of(page).unwrap();
    assert_eq!(
        busy,
        [
            Busy {
                start,
                end: start + chrono::Duration::minutes(30)
            },
            Busy {
                start: Utc.with_ymd_and_hms(2027, 3, 29, 10, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2027, 3, 29, 11, 0, 0).unwrap()
            },
        ]
    );
    let failed: Page<ScheduleInformation> = serde_json::from_value(json!({"value": [{
        "scheduleId": "x@contoso.com",
        "error": {"message": "not found", "responseCode": "ErrorMailboxNotFound"}
    }]}))
    .unwrap();
    assert!(!busy_of(failed).unwrap_err().is_retryable());
    let windows: Page<ScheduleInformation> = serde_json::from_value(json!({"value": [{
        "scheduleItems": [{"status": "busy",
            "start": {"dateTime": "2027-03-29T10:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": "2027-03-29T11:00:00", "timeZone": "Pacific Standard Time"}}]
    }]}))
    .unwrap();
    assert!(matches!(
        busy_of(windows),
        Err(ProviderError::Decode { .. })
    ));
}

#[tokio::test]
async fn create_posts_to_the_default_or_a_named_calendar() {
    let server = Scripted::start([
        (
            201,
            json!({"id": "AAMkAD1", "webLink": "https://outlook.office365.com/owa/?itemid=1"}),
        ),
        (201, json!({"id": "AAMkAD2"})),
    ])
    .await;
    let graph = client(&server.base);
    let created = graph
        .create_event(&token(), "primary", &event())
        .await
        .unwrap();
    assert_eq!(created.id, "AAMkAD1");
    assert!(created.html_link.is_some());
    graph
        .create_event(&token(), "AAMkCal=", &event())
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1.0/me/events");
    assert_eq!(seen[0].json()["transactionId"], OUR_ID);
    assert_eq!(seen[1].path, "/v1.0/me/calendars/AAMkCal=/events");
    assert_eq!(
        seen[0].headers["authorization"],
        "Bearer eyJ0eXAi.graph-test-token"
    );
}

#[tokio::test]
async fn create_is_retried_after_a_server_error_with_the_same_transaction_id() {
    let server = Scripted::start([
        (503, json!({"error": {"code": "ServiceUnavailable"}})),
        (201, json!({"id": "AAMkAD1"})),
    ])
    .await;
    let created = client(&server.base)
        .create_event(&token(), "primary", &event())
        .await
        .unwrap();
    assert_eq!(created.id, "AAMkAD1");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].json()["transactionId"],
        seen[1].json()["transactionId"]
    );
}

#[tokio::test]
async fn update_patches_and_delete_tolerates_gone() {
    let server = Scripted::start([
        (200, json!({"id": "AAMkAD1"})),
        (404, json!({"error": {"code": "ErrorItemNotFound"}})),
        (204, json!(null)),
    ])
    .await;
    let graph = client(&server.base);
    graph
        .update_event(&token(), "primary", "AAMkAD1", &event())
        .await
        .unwrap();
    graph
        .delete_event(&token(), "primary", "AAMkAD1", true)
        .await
        .unwrap();
    graph
        .delete_event(&token(), "primary", "AAMkAD1", true)
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PATCH", "/v1.0/me/events/AAMkAD1")
    );
    assert_eq!(seen[1].method, "DELETE");
}

#[tokio::test]
async fn account_reads_me_and_calendars_following_next_links_on_graph_only() {
    let elsewhere = Scripted::start([]).await;
    let server = Scripted::start([]).await;
    server.push(
        200,
        json!({"mail": null, "userPrincipalName": "ada@contoso.onmicrosoft.com"}),
    );
    server.push(
        200,
        json!({"value": [{"id": "cal-2", "name": "Birthdays", "isDefaultCalendar": false}],
            "@odata.nextLink": format!("{}v1.0/me/calendars?%24skip=1", server.base)}),
    );
    server.push(
        200,
        json!({"value": [{"id": "cal-1", "name": "Calendar", "isDefaultCalendar": true}],
            "@odata.nextLink": format!("{}v1.0/me/calendars?%24skip=2", elsewhere.base)}),
    );
    let account = client(&server.base).account(&token()).await.unwrap();
    assert_eq!(account.email, "ada@contoso.onmicrosoft.com");
    let ids: Vec<_> = account.calendars.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["cal-1", "cal-2"], "the default calendar first");
    assert!(account.calendars[0].primary);
    assert!(
        elsewhere.seen().is_empty(),
        "a link off the api base was followed"
    );
    let seen = server.seen();
    assert_eq!(seen[0].path, "/v1.0/me");
    assert_eq!(seen[1].path, "/v1.0/me/calendars");
    assert_eq!(seen[2].query.as_deref(), Some("%24skip=1"));
}

#[tokio::test]
async fn busy_asks_for_utc_answers() {
    let server = Scripted::start([(
        200,
        json!({"value": [{"scheduleId": "ada@contoso.com", "scheduleItems": []}]}),
    )])
    .await;
    let start = monday_after_spring_change();
    let busy = client(&server.base)
        .busy(
            &token(),
            BusyQuery {
                start,
                end: start + chrono::Duration::hours(1),
                time_zone: Berlin,
                account_email: "ada@contoso.com",
                calendar_ids: &[],
            },
        )
        .await
        .unwrap();
    assert!(busy.is_empty());
    let seen = server.seen();
    assert_eq!(seen[0].path, "/v1.0/me/calendar/getSchedule");
    assert_eq!(seen[0].headers["prefer"], "outlook.timezone=\"UTC\"");
}
