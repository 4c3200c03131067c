//! Google Calendar and Outlook through the real callback and the sandboxes:
//! connecting, events on each provider (exactly once, with their native
//! reminders and zones), idempotency, availability, isolation, bad input.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use nextke_integrations::proto::{self, CreateEventRequest};
use serde_json::Value;
use tonic::Code;

use crate::{
    calendar_rig::{cal, cal_with_workers, eventually, interview, ts, Cal},
    db_tests,
    helpers::{authed, token, Backend},
};

const GOOGLE_MAIL: &str = nextke_sandbox::google::DEFAULT_EMAIL;

fn microsoft_mail(cal: &Cal) -> String {
    cal.microsoft.config().accounts[0].mail.clone()
}

fn field(status: &tonic::Status) -> String {
    status.message().to_owned()
}

async fn connect_both_providers_and_choose_the_default(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let google = cal.connected("ada", proto::Provider::Google).await;
    let microsoft = cal.connected("ada", proto::Provider::Microsoft).await;
    let list = cal.integrations("ada").await;
    assert_eq!(list.len(), 2, "{list:?}");
    let g = list.iter().find(|i| i.id == google).expect("google");
    assert_eq!(g.account_email, GOOGLE_MAIL);
    assert_eq!(g.state(), proto::ConnectionState::Connected);
    assert!(g.is_default, "the first connected account is the default");
    assert!(
        g.calendars.iter().any(|c| c.primary && c.is_default),
        "{g:?}"
    );
    let m = list.iter().find(|i| i.id == microsoft).expect("microsoft");
    assert_eq!(m.account_email, microsoft_mail(&cal));
    assert!(!m.is_default);
    assert!(!m.calendars.is_empty());

    let answer = cal
        .client()
        .await
        .set_default_calendar(authed(
            proto::SetDefaultCalendarRequest {
                integration_id: microsoft.clone(),
                calendar_id: String::new(),
            },
            &token("ada", &[]),
        ))
        .await
        .expect("set default")
        .into_inner();
    assert!(answer.integration.expect("integration").is_default);
    let list = cal.integrations("ada").await;
    assert!(list.iter().find(|i| i.id == microsoft).unwrap().is_default);
    assert!(!list.iter().find(|i| i.id == google).unwrap().is_default);

    // an event without an integration goes to the default (now Outlook)
    let start = Utc::now() + chrono::Duration::days(3);
    let event = cal
        .create(
            "ada",
            interview("Platform interview", start, "Africa/Nairobi"),
        )
        .await
        .expect("create");
    assert_eq!(event.provider(), proto::Provider::Microsoft);
    assert_eq!(
        event.sync_state(),
        proto::EventSyncState::Synced,
        "{event:?}"
    );
    assert_eq!(cal.microsoft.event_count(&microsoft_mail(&cal)), 1);

    // the token is refreshed, PKCE was used, the providers were asked as documented
    let auth_requests = cal
        .google_handle
        .log
        .matching(http::Method::GET, "/o/oauth2/v2/auth");
    let query = auth_requests[0].query.clone().unwrap_or_default();
    for expected in [
        "access_type=offline",
        "prompt=consent",
        "code_challenge_method=S256",
    ] {
        assert!(query.contains(expected), "{query}");
    }
    let ms_auth = cal
        .microsoft_handle
        .log
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/oauth2/v2.0/authorize"))
        .expect("authorize");
    assert!(ms_auth.query.unwrap_or_default().contains("offline_access"));

    // the cross-cutting overview shows both calendar connections
    let status = cal
        .app
        .integration()
        .await
        .get_integration_status(authed(
            proto::GetIntegrationStatusRequest {},
            &token("ada", &[]),
        ))
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.calendars.len(), 2, "{status:?}");
    assert!(status
        .calendars
        .iter()
        .all(|c| c.state() == proto::ConnectionState::Connected));

    // another user sees none of it
    assert!(cal.integrations("bob").await.is_empty());
    let err = cal
        .client()
        .await
        .set_default_calendar(authed(
            proto::SetDefaultCalendarRequest {
                integration_id: google,
                calendar_id: String::new(),
            },
            &token("bob", &[]),
        ))
        .await
        .expect_err("not bob's");
    assert_eq!(err.code(), Code::NotFound);
}

async fn a_bad_provider_is_refused_by_name(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    for provider in [
        proto::Provider::Unspecified,
        proto::Provider::Linkedin,
        proto::Provider::Lever,
    ] {
        let err = cal
            .client()
            .await
            .start_calendar_auth(authed(
                proto::StartCalendarAuthRequest {
                    provider: provider.into(),
                },
                &token("ada", &[]),
            ))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(field(&err).contains("provider"), "{err:?}");
    }
}

fn resource_of_google(cal: &Cal, provider_id: &str) -> Value {
    cal.google
        .event(GOOGLE_MAIL, provider_id)
        .expect("stored at google")
        .resource
}

async fn create_update_cancel_on_google(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let integration = cal.connected("ada", proto::Provider::Google).await;
    // the Monday after the EU spring change (28 March 2027): 09:00 Berlin is 07:00 UTC
    let start = Utc.with_ymd_and_hms(2027, 3, 29, 7, 0, 0).unwrap();
    let mut request = interview("Backend engineer at Acme", start, "Europe/Berlin");
    request.reminder_minutes = vec![60, 15, 1440];
    request.integration_id = integration.clone();
    let event = cal.create("ada", request).await.expect("create");
    assert_eq!(
        event.sync_state(),
        proto::EventSyncState::Synced,
        "{event:?}"
    );
    assert_eq!(event.reminder_minutes, vec![15, 60, 1440]);
    let resource = resource_of_google(&cal, &event.provider_event_id);
    assert_eq!(resource["summary"], "Backend engineer at Acme");
    assert_eq!(resource["start"]["dateTime"], "2027-03-29T09:00:00+02:00");
    assert_eq!(resource["start"]["timeZone"], "Europe/Berlin");
    assert_eq!(resource["end"]["dateTime"], "2027-03-29T10:00:00+02:00");
    assert_eq!(resource["reminders"]["useDefault"], false);
    let overrides: Vec<(String, i64)> = resource["reminders"]["overrides"]
        .as_array()
        .expect("overrides")
        .iter()
        .map(|o| {
            (
                o["method"].as_str().unwrap().to_owned(),
                o["minutes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        overrides,
        vec![
            ("popup".to_owned(), 15),
            ("popup".to_owned(), 60),
            ("popup".to_owned(), 1440)
        ]
    );
    assert_eq!(
        resource["extendedProperties"]["private"]["nextke_event_id"],
        Value::String(event.id.clone())
    );
    assert_eq!(resource["attendees"][0]["email"], "recruiter@acme.example");
    assert!(
        resource["description"]
            .as_str()
            .unwrap_or_default()
            .contains("meet.example.com")
            || resource["location"]
                .as_str()
                .unwrap_or_default()
                .contains("Acme"),
        "{resource}"
    );

    // the reminders fire at the right instants: 06:00 UTC for the hour before
    let runs = cal
        .count(&format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'calendar.reminder' AND unique_key LIKE 'reminder:{}:60:%'",
            event.id
        ))
        .await;
    assert_eq!(runs, 3, "one job per channel");
    let due = cal.app.ctx.db.clone();
    let row: Option<(chrono::DateTime<Utc>,)> = {
        use sea_orm::{ConnectionTrait, FromQueryResult};
        #[derive(FromQueryResult)]
        struct R {
            run_at: chrono::DateTime<Utc>,
        }
        R::find_by_statement(sea_orm::Statement::from_string(
            due.get_database_backend(),
            format!(
                "SELECT run_at FROM jobs WHERE unique_key = 'reminder:{}:60:in_app'",
                event.id
            ),
        ))
        .one(&due)
        .await
        .expect("query")
        .map(|r| (r.run_at,))
    };
    assert_eq!(
        row.expect("job").0,
        Utc.with_ymd_and_hms(2027, 3, 29, 6, 0, 0).unwrap()
    );

    // update: a new title and an hour later; the provider's copy follows
    let later = start + chrono::Duration::hours(1);
    let updated = cal
        .update(
            "ada",
            &event.id,
            proto::Event {
                title: "Backend engineer at Acme (final)".to_owned(),
                start_time: Some(ts(later)),
                end_time: Some(ts(later + chrono::Duration::hours(1))),
                ..Default::default()
            },
            &["title", "start_time", "end_time"],
        )
        .await
        .expect("update");
    assert_eq!(updated.sync_state(), proto::EventSyncState::Synced);
    let resource = resource_of_google(&cal, &event.provider_event_id);
    assert_eq!(resource["summary"], "Backend engineer at Acme (final)");
    assert_eq!(resource["start"]["dateTime"], "2027-03-29T10:00:00+02:00");
    assert_eq!(cal.google.live_event_count(GOOGLE_MAIL), 1);

    // cancel: deleted at Google (kept there as cancelled), reminders gone
    let cancelled = cal.cancel("ada", &event.id).await.expect("cancel");
    assert_eq!(
        cancelled.event.as_ref().unwrap().status(),
        proto::EventStatus::Cancelled
    );
    assert_eq!(cancelled.reminders_cancelled, 3);
    assert_eq!(
        cal.google
            .event(GOOGLE_MAIL, &event.provider_event_id)
            .unwrap()
            .status(),
        "cancelled"
    );
    assert_eq!(cal.google.live_event_count(GOOGLE_MAIL), 0);
    let pending = cal
        .count(&format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND unique_key LIKE 'reminder:{}:%'",
            event.id
        ))
        .await;
    assert_eq!(pending, 0);
}

async fn create_update_cancel_on_outlook(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let integration = cal.connected("ada", proto::Provider::Microsoft).await;
    let mail = microsoft_mail(&cal);
    let start = Utc.with_ymd_and_hms(2027, 3, 29, 7, 0, 0).unwrap();
    let mut request = interview("Data engineer at Contoso", start, "Europe/Berlin");
    request.reminder_minutes = vec![60, 15];
    request.integration_id = integration;
    let event = cal.create("ada", request).await.expect("create");
    assert_eq!(
        event.sync_state(),
        proto::EventSyncState::Synced,
        "{event:?}"
    );
    let stored = cal
        .microsoft
        .event(&mail, &event.provider_event_id)
        .expect("stored");
    let r = &stored.resource;
    assert_eq!(r["subject"], "Data engineer at Contoso");
    assert!(
        r["start"]["dateTime"]
            .as_str()
            .unwrap()
            .starts_with("2027-03-29T09:00:00"),
        "local time without offset: {r}"
    );
    assert_eq!(r["start"]["timeZone"], "Europe/Berlin");
    assert_eq!(r["isReminderOn"], true);
    assert_eq!(r["reminderMinutesBeforeStart"], 15, "the smallest reminder");
    assert_eq!(r["transactionId"], Value::String(event.id.clone()));
    assert_eq!(
        r["attendees"][0]["emailAddress"]["address"],
        "recruiter@acme.example"
    );
    assert!(
        !stored
            .ignored_fields
            .iter()
            .any(|f| f == "onlineMeetingUrl"),
        "the read-only onlineMeetingUrl is not sent: {:?}",
        stored.ignored_fields
    );
    assert!(
        r["body"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("meet.example.com"),
        "the meeting link is in the body: {r}"
    );

    let updated = cal
        .update(
            "ada",
            &event.id,
            proto::Event {
                location: "Contoso, Westlands".to_owned(),
                reminder_minutes: vec![30],
                ..Default::default()
            },
            &["location", "reminder_minutes"],
        )
        .await
        .expect("update");
    assert_eq!(updated.reminder_minutes, vec![30]);
    let r = cal
        .microsoft
        .event(&mail, &event.provider_event_id)
        .unwrap()
        .resource;
    assert_eq!(r["location"]["displayName"], "Contoso, Westlands");
    assert_eq!(r["reminderMinutesBeforeStart"], 30);

    cal.cancel("ada", &event.id).await.expect("cancel");
    assert!(cal
        .microsoft
        .event(&mail, &event.provider_event_id)
        .is_none());
    assert_eq!(cal.microsoft.event_count(&mail), 0);
}

async fn a_create_that_timed_out_after_the_provider_stored_it_leaves_one_event(backend: Backend) {
    let cal = cal_with_workers(backend).await;
    let google = cal.connected("ada", proto::Provider::Google).await;
    let microsoft = cal.connected("ada", proto::Provider::Microsoft).await;
    let mail = microsoft_mail(&cal);
    let start = Utc::now() + chrono::Duration::days(2);
    for (integration, provider) in [(google, "google"), (microsoft, "microsoft")] {
        match provider {
            "google" => cal.google.store_then_timeout_next(),
            _ => cal.microsoft.store_then_timeout_next(),
        }
        let mut request = interview(&format!("Retry on {provider}"), start, "Africa/Nairobi");
        request.integration_id = integration;
        let event = cal.create("ada", request).await.expect("create");
        let synced = eventually(Duration::from_secs(20), || async {
            cal.get("ada", &event.id).await.expect("get").sync_state()
                == proto::EventSyncState::Synced
        })
        .await;
        assert!(synced, "{provider}: the retry completed the create");
    }
    assert_eq!(
        cal.google.live_event_count(GOOGLE_MAIL),
        1,
        "one event at Google"
    );
    assert_eq!(cal.microsoft.event_count(&mail), 1, "one event at Outlook");
    assert!(cal.google.after_store().fired() >= 1);
    assert!(cal.microsoft.after_store().fired() >= 1);
}

async fn the_same_request_id_creates_once(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    cal.connected("ada", proto::Provider::Google).await;
    let start = Utc::now() + chrono::Duration::days(5);
    let mut request = interview("Idempotent interview", start, "Africa/Nairobi");
    request.request_id = "app-7f3a-create-1".to_owned();
    let first = cal.create("ada", request.clone()).await.expect("first");
    let mut again = request.clone();
    again.title = "A different title".to_owned();
    let second = cal.create("ada", again).await.expect("second");
    assert_eq!(first.id, second.id);
    assert_eq!(second.title, "Idempotent interview");
    assert_eq!(cal.google.event_count(GOOGLE_MAIL), 1);
    assert_eq!(
        cal.count("SELECT COUNT(*) AS n FROM calendar_events").await,
        1
    );
    // the key is the caller's own: another user with the same key gets their own event
    let theirs = cal.create("bob", request).await.expect("bob's");
    assert_ne!(theirs.id, first.id);
    assert_eq!(theirs.sync_state(), proto::EventSyncState::NotConnected);
}

async fn an_event_without_a_calendar_is_stored_and_reminded(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let start = Utc::now() + chrono::Duration::days(1);
    let event = cal
        .create(
            "carol",
            interview("No calendar yet", start, "Africa/Nairobi"),
        )
        .await
        .expect("create");
    assert_eq!(event.sync_state(), proto::EventSyncState::NotConnected);
    assert!(event.integration_id.is_empty());
    assert_eq!(
        event.reminder_minutes,
        vec![15, 60],
        "the default reminders"
    );
    let jobs = cal
        .count(&format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'calendar.reminder' AND unique_key LIKE 'reminder:{}:%'",
            event.id
        ))
        .await;
    assert_eq!(jobs, 6, "two reminders on three channels");
    let listed = cal
        .client()
        .await
        .list_events(authed(
            proto::ListEventsRequest::default(),
            &token("carol", &[]),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.events.len(), 1);
    assert_eq!(listed.events[0].id, event.id);
}

async fn another_users_event_is_not_found(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let start = Utc::now() + chrono::Duration::days(1);
    let event = cal
        .create("ada", interview("Ada's interview", start, "Africa/Nairobi"))
        .await
        .expect("create");
    let err = cal.get("bob", &event.id).await.expect_err("not bob's");
    assert_eq!(err.code(), Code::NotFound);
    let err = cal
        .update(
            "bob",
            &event.id,
            proto::Event {
                title: "Bob was here".to_owned(),
                ..Default::default()
            },
            &["title"],
        )
        .await
        .expect_err("not bob's");
    assert_eq!(err.code(), Code::NotFound);
    let err = cal.cancel("bob", &event.id).await.expect_err("not bob's");
    assert_eq!(err.code(), Code::NotFound);
    let err = cal.get("ada", "not-a-uuid").await.expect_err("no such id");
    assert_eq!(err.code(), Code::NotFound);
    let ada = cal.get("ada", &event.id).await.expect("ada's");
    assert_eq!(ada.title, "Ada's interview");
    assert_eq!(ada.status(), proto::EventStatus::Scheduled);
}

/// A change that makes a request invalid.
type Edit = Box<dyn Fn(&mut CreateEventRequest)>;

async fn bad_input_names_its_field(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let start = Utc::now() + chrono::Duration::days(1);
    let good = interview("Fine", start, "Africa/Nairobi");
    let cases: Vec<(&str, Edit)> = vec![
        ("end_time", Box::new(|r| r.end_time = r.start_time)),
        (
            "time_zone",
            Box::new(|r| r.time_zone = "Mars/Olympus_Mons".to_owned()),
        ),
        ("time_zone", Box::new(|r| r.time_zone = String::new())),
        (
            "attendees.email",
            Box::new(|r| r.attendees[0].email = "not an email".to_owned()),
        ),
        (
            "reminder_minutes",
            Box::new(|r| r.reminder_minutes = vec![1, 2, 3, 4, 5, 6]),
        ),
        (
            "reminder_minutes",
            Box::new(|r| r.reminder_minutes = vec![40_321]),
        ),
        (
            "reminder_minutes",
            Box::new(|r| r.reminder_minutes = vec![-5]),
        ),
        ("title", Box::new(|r| r.title = String::new())),
        ("title", Box::new(|r| r.title = "x".repeat(1025))),
        ("event_type", Box::new(|r| r.event_type = 0)),
        ("event_type", Box::new(|r| r.event_type = 99)),
        ("start_time", Box::new(|r| r.start_time = None)),
        (
            "meeting_url",
            Box::new(|r| r.meeting_url = "javascript:alert(1)".to_owned()),
        ),
        ("request_id", Box::new(|r| r.request_id = "k".repeat(129))),
    ];
    for (name, edit) in cases {
        let mut request = good.clone();
        edit(&mut request);
        let err = cal.create("ada", request).await.expect_err(name);
        assert_eq!(err.code(), Code::InvalidArgument, "{name}: {err:?}");
        assert!(err.message().contains(name), "{name}: {}", err.message());
    }
    // a title of exactly 1,024 characters is fine
    let mut long = good.clone();
    long.title = "é".repeat(1024);
    cal.create("ada", long).await.expect("1,024 characters");
    // nothing half-written: only the one good event
    assert_eq!(
        cal.count("SELECT COUNT(*) AS n FROM calendar_events").await,
        1
    );

    let mut client = cal.client().await;
    let err = client
        .update_reminder_preferences(authed(
            proto::UpdateReminderPreferencesRequest {
                preferences: Some(proto::ReminderPreferences {
                    channels: vec![proto::ReminderChannel::Whatsapp.into()],
                    whatsapp_number: "0712345678".to_owned(),
                    ..Default::default()
                }),
                update_mask: None,
            },
            &token("ada", &[]),
        ))
        .await
        .expect_err("not E.164");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("whatsapp_number"), "{err:?}");
    let err = client
        .get_availability(authed(
            proto::GetAvailabilityRequest {
                start_time: Some(ts(start)),
                end_time: Some(ts(start + chrono::Duration::hours(8))),
                slot_minutes: 2,
                time_zone: String::new(),
            },
            &token("ada", &[]),
        ))
        .await
        .expect_err("slot too short");
    assert!(err.message().contains("slot_minutes"), "{err:?}");
}

async fn availability_merges_two_calendars_and_reports_the_failing_one(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    cal.connected("ada", proto::Provider::Google).await;
    cal.connected("ada", proto::Provider::Microsoft).await;
    let mail = microsoft_mail(&cal);
    let day = Utc.with_ymd_and_hms(2027, 4, 6, 0, 0, 0).unwrap();
    let at = |h: u32, m: u32| day + chrono::Duration::minutes(i64::from(h * 60 + m));
    cal.google.add_busy(GOOGLE_MAIL, at(9, 0), at(10, 0));
    cal.microsoft.add_busy(&mail, at(9, 30), at(11, 0));
    cal.microsoft.add_busy(&mail, at(14, 0), at(15, 0));
    let ask = || async {
        cal.client()
            .await
            .get_availability(authed(
                proto::GetAvailabilityRequest {
                    start_time: Some(ts(at(8, 0))),
                    end_time: Some(ts(at(17, 0))),
                    slot_minutes: 60,
                    time_zone: "Africa/Nairobi".to_owned(),
                },
                &token("ada", &[]),
            ))
            .await
            .expect("availability")
            .into_inner()
    };
    let both = ask().await;
    let spans = |list: &[proto::TimeInterval]| -> Vec<(i64, i64)> {
        list.iter()
            .map(|i| {
                (
                    (i.start_time.unwrap().seconds - day.timestamp()) / 60,
                    (i.end_time.unwrap().seconds - day.timestamp()) / 60,
                )
            })
            .collect()
    };
    assert_eq!(spans(&both.busy), vec![(540, 660), (840, 900)], "{both:?}");
    assert!(both.sources.iter().all(|s| s.ok), "{:?}", both.sources);
    let free = spans(&both.free_slots);
    assert!(
        free.contains(&(480, 540)) && free.contains(&(660, 720)),
        "{free:?}"
    );
    assert!(!free.iter().any(|(s, e)| *s < 660 && *e > 540), "{free:?}");

    // Outlook throttles every attempt: it is reported, Google still counts
    cal.microsoft.throttle_next(50, 1);
    let one = ask().await;
    let failing: Vec<_> = one.sources.iter().filter(|s| !s.ok).collect();
    assert_eq!(failing.len(), 1, "{:?}", one.sources);
    assert_eq!(failing[0].provider(), proto::Provider::Microsoft);
    assert!(!failing[0].error.is_empty());
    assert_eq!(spans(&one.busy), vec![(540, 600)]);
}

async fn disconnect_keeps_events_and_reminders_unless_asked(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let google = cal.connected("ada", proto::Provider::Google).await;
    let microsoft = cal.connected("ada", proto::Provider::Microsoft).await;
    let start = Utc::now() + chrono::Duration::days(2);
    let mut in_google = interview("In Google", start, "Africa/Nairobi");
    in_google.integration_id = google.clone();
    let g_event = cal.create("ada", in_google).await.expect("create");
    let mut in_outlook = interview("In Outlook", start, "Africa/Nairobi");
    in_outlook.integration_id = microsoft.clone();
    let m_event = cal.create("ada", in_outlook).await.expect("create");
    let pending = |id: String| {
        let cal = &cal;
        async move {
            cal.count(&format!(
                "SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND unique_key LIKE 'reminder:{id}:%'"
            ))
            .await
        }
    };
    assert_eq!(pending(g_event.id.clone()).await, 6);

    let mut client = cal.client().await;
    // Google: revoked at Google (RFC 7009), tokens gone, event and reminders stay
    let done = client
        .disconnect_calendar(authed(
            proto::DisconnectCalendarRequest {
                integration_id: google.clone(),
                cancel_pending_reminders: false,
            },
            &token("ada", &[]),
        ))
        .await
        .expect("disconnect")
        .into_inner();
    assert!(done.revoked_at_provider);
    assert_eq!(done.reminders_cancelled, 0);
    assert_eq!(
        cal.google_handle.log.count(http::Method::POST, "/revoke"),
        1
    );
    assert_eq!(
        cal.google.live_event_count(GOOGLE_MAIL),
        1,
        "the event stays in the calendar"
    );
    assert_eq!(pending(g_event.id.clone()).await, 6, "its reminders stay");
    let kept = cal.get("ada", &g_event.id).await.expect("still ours");
    assert_eq!(kept.sync_state(), proto::EventSyncState::NotConnected);
    assert_eq!(
        cal.count(&format!(
            "SELECT COUNT(*) AS n FROM oauth_credentials WHERE id = '{google}'"
        ))
        .await,
        0,
        "the tokens are deleted"
    );
    // Outlook has no revocation endpoint; asked to, the reminders go too
    let done = client
        .disconnect_calendar(authed(
            proto::DisconnectCalendarRequest {
                integration_id: microsoft.clone(),
                cancel_pending_reminders: true,
            },
            &token("ada", &[]),
        ))
        .await
        .expect("disconnect")
        .into_inner();
    assert!(!done.revoked_at_provider);
    assert_eq!(done.reminders_cancelled, 2);
    assert_eq!(pending(m_event.id.clone()).await, 0);
    assert_eq!(cal.microsoft.event_count(&microsoft_mail(&cal)), 1);
    assert!(cal.integrations("ada").await.is_empty());
    // gone for everyone: a second disconnect, or another user's, is NOT_FOUND
    let err = client
        .disconnect_calendar(authed(
            proto::DisconnectCalendarRequest {
                integration_id: microsoft,
                cancel_pending_reminders: false,
            },
            &token("ada", &[]),
        ))
        .await
        .expect_err("gone");
    assert_eq!(err.code(), Code::NotFound);
}

async fn outlooks_rotated_refresh_token_is_kept_every_time(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let integration = cal.connected("ada", proto::Provider::Microsoft).await;
    let start = Utc::now() + chrono::Duration::days(2);
    for round in 0..3 {
        // every access token expires: the next call refreshes, and Microsoft
        // answers a new refresh token, the old one no longer working
        cal.microsoft.oauth().expire_all_access_tokens();
        let mut request = interview(&format!("Round {round}"), start, "Africa/Nairobi");
        request.integration_id = integration.clone();
        let event = cal.create("ada", request).await.expect("create");
        assert_eq!(
            event.sync_state(),
            proto::EventSyncState::Synced,
            "round {round}: {event:?}"
        );
    }
    assert_eq!(cal.microsoft.oauth().token_requests("refresh_token"), 3);
    assert_eq!(cal.microsoft.event_count(&microsoft_mail(&cal)), 3);
    let list = cal.integrations("ada").await;
    assert_eq!(list[0].state(), proto::ConnectionState::Connected);
}

async fn the_flag_off_answers_failed_precondition_naming_it(backend: Backend) {
    let cal = cal(backend, |c| c.calendar.enable_calendar_integration = false).await;
    let mut client = cal.client().await;
    let err = client
        .start_calendar_auth(authed(
            proto::StartCalendarAuthRequest {
                provider: proto::Provider::Google.into(),
            },
            &token("ada", &[]),
        ))
        .await
        .expect_err("off");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("ENABLE_CALENDAR_INTEGRATION"),
        "{err:?}"
    );
    let start = Utc::now() + chrono::Duration::days(1);
    let err = cal
        .create("ada", interview("Off", start, "Africa/Nairobi"))
        .await
        .expect_err("off");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("ENABLE_CALENDAR_INTEGRATION"));
    let err = client
        .list_calendar_integrations(authed(
            proto::ListCalendarIntegrationsRequest {},
            &token("ada", &[]),
        ))
        .await
        .expect_err("off");
    assert_eq!(err.code(), Code::FailedPrecondition);
}

db_tests!(
    connect_both_providers_and_choose_the_default,
    a_bad_provider_is_refused_by_name,
    create_update_cancel_on_google,
    create_update_cancel_on_outlook,
    a_create_that_timed_out_after_the_provider_stored_it_leaves_one_event,
    the_same_request_id_creates_once,
    an_event_without_a_calendar_is_stored_and_reminded,
    another_users_event_is_not_found,
    bad_input_names_its_field,
    availability_merges_two_calendars_and_reports_the_failing_one,
    disconnect_keeps_events_and_reminders_unless_asked,
    outlooks_rotated_refresh_token_is_kept_every_time,
    the_flag_off_answers_failed_precondition_naming_it,
);
