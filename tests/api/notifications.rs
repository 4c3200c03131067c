//! In-app notifications: listed and marked read per user, and streamed by
//! `WatchNotifications` over gRPC and over grpc-web (HTTP/1.1), resumable
//! from the last id a client saw, with per-user stream limits.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use nextke_integrations::{
    domain::notifications,
    proto::{self, WatchNotificationsRequest, WatchNotificationsResponse},
    store::notifications::NewNotification,
};
use prost::Message;
use tonic::Code;

use crate::{
    calendar_rig::{cal, cal_with_workers, interview, Cal},
    db_tests,
    helpers::{authed, token, Backend},
};

const ORIGIN: &str = "https://app.next.ke";
const WATCH: &str = "/nextke.integrations.v1.CalendarService/WatchNotifications";

async fn note(cal: &Cal, user: &str, title: &str) -> i64 {
    let (row, created) = notifications::notify(
        &cal.app.ctx,
        NewNotification {
            user_id: user.to_owned(),
            kind: "test".to_owned(),
            title: title.to_owned(),
            body: String::new(),
            event_id: None,
            dedup_key: None,
        },
    )
    .await
    .expect("notify");
    assert!(created);
    row.id
}

async fn watch(
    cal: &Cal,
    user: &str,
    after_id: i64,
) -> tonic::Streaming<WatchNotificationsResponse> {
    cal.client()
        .await
        .watch_notifications(authed(
            WatchNotificationsRequest { after_id },
            &token(user, &[]),
        ))
        .await
        .expect("watch")
        .into_inner()
}

async fn next(stream: &mut tonic::Streaming<WatchNotificationsResponse>) -> proto::Notification {
    tokio::time::timeout(Duration::from_secs(15), stream.next())
        .await
        .expect("a notification in time")
        .expect("the stream is open")
        .expect("no error")
        .notification
        .expect("notification")
}

async fn a_grpc_watcher_sees_reminders_and_resumes_after_its_last_id(backend: Backend) {
    let cal = cal_with_workers(backend).await;
    let mut stream = watch(&cal, "ada", 0).await;
    // a real reminder, in-app only, due in about 2 s
    let mut request = interview(
        "Streamed interview",
        Utc::now() + chrono::Duration::seconds(62),
        "Africa/Nairobi",
    );
    request.reminder_minutes = vec![1];
    let event = cal.create("ada", request).await.expect("create");
    let first = next(&mut stream).await;
    assert_eq!(first.kind, "reminder");
    assert_eq!(first.event_id, event.id);
    // bob's notifications never reach ada's stream
    note(&cal, "bob", "for bob").await;
    let second_id = note(&cal, "ada", "second").await;
    let second = next(&mut stream).await;
    assert_eq!((second.id, second.title.as_str()), (second_id, "second"));
    drop(stream);

    // while no one watches, two more arrive; resuming after the last seen id gets both, in order
    let third = note(&cal, "ada", "third").await;
    let fourth = note(&cal, "ada", "fourth").await;
    let mut resumed = watch(&cal, "ada", second.id).await;
    assert_eq!(next(&mut resumed).await.id, third);
    assert_eq!(next(&mut resumed).await.id, fourth);
    let fifth = note(&cal, "ada", "fifth").await;
    assert_eq!(next(&mut resumed).await.id, fifth);
    assert!(first.id < second.id && second.id < third && third < fourth);
}

fn frame(message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let mut out = vec![0u8];
    out.extend_from_slice(&u32::try_from(payload.len()).expect("size").to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Reads grpc-web frames off a streaming HTTP/1.1 body until `want` data
/// frames have arrived.
async fn read_frames(
    body: &mut reqwest::Response,
    buffer: &mut Vec<u8>,
    want: usize,
) -> Vec<WatchNotificationsResponse> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while out.len() < want {
        while buffer.len() >= 5 {
            let len = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
            if buffer.len() < 5 + len {
                break;
            }
            let flag = buffer[0];
            let chunk: Vec<u8> = buffer.drain(..5 + len).skip(5).collect();
            if flag & 0x80 == 0 {
                out.push(WatchNotificationsResponse::decode(chunk.as_slice()).expect("decode"));
            } else {
                panic!(
                    "trailers before the frames: {}",
                    String::from_utf8_lossy(&chunk)
                );
            }
        }
        if out.len() >= want {
            break;
        }
        let chunk = tokio::time::timeout_at(deadline, body.chunk())
            .await
            .expect("frames in time")
            .expect("chunk")
            .expect("body open");
        buffer.extend_from_slice(&chunk);
    }
    out
}

async fn open_web_watch(cal: &Cal, user: &str, after_id: i64) -> reqwest::Response {
    let response = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client")
        .post(format!("{}{WATCH}", cal.app.base_url))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", ORIGIN)
        .header("authorization", format!("Bearer {}", token(user, &[])))
        .body(frame(&WatchNotificationsRequest { after_id }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some(ORIGIN)
    );
    response
}

async fn a_browser_watches_over_grpc_web_and_resumes(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let mut body = open_web_watch(&cal, "ada", 0).await;
    let mut buffer = Vec::new();
    // the stream is open before anything exists; the next notification arrives on it
    tokio::time::sleep(Duration::from_millis(300)).await;
    let first = note(&cal, "ada", "over http/1.1").await;
    let got = read_frames(&mut body, &mut buffer, 1).await;
    let seen = got[0].notification.as_ref().expect("notification");
    assert_eq!((seen.id, seen.title.as_str()), (first, "over http/1.1"));
    drop(body);

    let second = note(&cal, "ada", "while away").await;
    let mut body = open_web_watch(&cal, "ada", first).await;
    let mut buffer = Vec::new();
    let got = read_frames(&mut body, &mut buffer, 1).await;
    assert_eq!(got[0].notification.as_ref().unwrap().id, second);
}

async fn streams_are_capped_per_user_and_end_after_their_lifetime(backend: Backend) {
    let cal = cal(backend, |c| {
        c.calendar.notification_streams_per_user = 2;
        c.calendar.notification_stream_lifetime_secs = 2;
    })
    .await;
    let one = watch(&cal, "ada", 0).await;
    let two = watch(&cal, "ada", 0).await;
    let err = cal
        .client()
        .await
        .watch_notifications(authed(
            WatchNotificationsRequest { after_id: 0 },
            &token("ada", &[]),
        ))
        .await
        .expect_err("a third stream");
    assert_eq!(err.code(), Code::ResourceExhausted);
    // another user is not held up by ada's streams
    let mut bobs = watch(&cal, "bob", 0).await;
    // the lifetime ends a stream cleanly; its slot is free again
    let ended = tokio::time::timeout(Duration::from_secs(10), bobs.next())
        .await
        .expect("ends in time");
    assert!(ended.is_none(), "ended without error: {ended:?}");
    drop((one, two));
    tokio::time::sleep(Duration::from_millis(200)).await;
    watch(&cal, "ada", 0).await;
    let err = cal
        .client()
        .await
        .watch_notifications(authed(
            WatchNotificationsRequest { after_id: -1 },
            &token("ada", &[]),
        ))
        .await
        .expect_err("negative id");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("after_id"));
}

async fn notifications_are_listed_and_marked_read_per_user(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    let a = note(&cal, "ada", "one").await;
    let b = note(&cal, "ada", "two").await;
    let theirs = note(&cal, "bob", "bob's").await;
    let mut client = cal.client().await;
    let page = client
        .list_notifications(authed(
            proto::ListNotificationsRequest::default(),
            &token("ada", &[]),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        page.notifications.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![b, a]
    );
    assert_eq!(page.unread_count, 2);
    // bob's id among ada's changes nothing of bob's
    let marked = client
        .mark_notifications_read(authed(
            proto::MarkNotificationsReadRequest {
                ids: vec![a, theirs],
                all: false,
            },
            &token("ada", &[]),
        ))
        .await
        .expect("mark")
        .into_inner();
    assert_eq!(marked.marked, 1);
    let bobs = cal.notifications("bob").await;
    assert!(bobs[0].read_at.is_none(), "bob's stays unread");
    let unread = client
        .list_notifications(authed(
            proto::ListNotificationsRequest {
                unread_only: true,
                ..Default::default()
            },
            &token("ada", &[]),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(unread.notifications.len(), 1);
    assert_eq!(unread.notifications[0].id, b);
    let marked = client
        .mark_notifications_read(authed(
            proto::MarkNotificationsReadRequest {
                ids: vec![],
                all: true,
            },
            &token("ada", &[]),
        ))
        .await
        .expect("mark all")
        .into_inner();
    assert_eq!(marked.marked, 1);
    // paging: one at a time, newest first
    let first = client
        .list_notifications(authed(
            proto::ListNotificationsRequest {
                page_size: 1,
                ..Default::default()
            },
            &token("ada", &[]),
        ))
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(first.notifications[0].id, b);
    let second = client
        .list_notifications(authed(
            proto::ListNotificationsRequest {
                page_size: 1,
                page_token: first.next_page_token.clone(),
                ..Default::default()
            },
            &token("ada", &[]),
        ))
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(second.notifications[0].id, a);
    let err = client
        .mark_notifications_read(authed(
            proto::MarkNotificationsReadRequest {
                ids: vec![],
                all: false,
            },
            &token("ada", &[]),
        ))
        .await
        .expect_err("nothing named");
    assert!(err.message().contains("ids"));
}

async fn a_revoked_calendar_asks_its_owner_to_reconnect(backend: Backend) {
    let cal = cal(backend, |_| {}).await;
    cal.all_channels("ada").await;
    let integration = cal.connected("ada", proto::Provider::Microsoft).await;
    // the user revokes our access at Microsoft: every token stops working
    cal.microsoft
        .oauth()
        .revoke_all_for_subject(nextke_sandbox::microsoft::DEFAULT_USER_ID);
    let start = Utc::now() + chrono::Duration::days(2);
    let mut request = interview("After revocation", start, "Africa/Nairobi");
    request.integration_id = integration.clone();
    let event = cal.create("ada", request).await.expect("stored anyway");
    assert_eq!(
        event.sync_state(),
        proto::EventSyncState::Failed,
        "{event:?}"
    );
    let list = cal.integrations("ada").await;
    assert_eq!(list[0].state(), proto::ConnectionState::NeedsReauth);
    let notes = cal.notifications("ada").await;
    let reconnect: Vec<_> = notes
        .iter()
        .filter(|n| n.kind == "calendar.reconnect")
        .collect();
    assert_eq!(reconnect.len(), 1, "{notes:?}");
    assert!(reconnect[0].title.contains("Outlook"));
    assert!(
        cal.smtp.wait_for(1, Duration::from_secs(5)).await,
        "and an email"
    );
    // a second refused call does not tell again
    let mut again = interview("Again", start, "Africa/Nairobi");
    again.integration_id = integration;
    cal.create("ada", again).await.expect("stored");
    let notes = cal.notifications("ada").await;
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.kind == "calendar.reconnect")
            .count(),
        1
    );
    assert_eq!(cal.smtp.count(), 1);
}

db_tests!(
    a_grpc_watcher_sees_reminders_and_resumes_after_its_last_id,
    a_browser_watches_over_grpc_web_and_resumes,
    streams_are_capped_per_user_and_end_after_their_lifetime,
    notifications_are_listed_and_marked_read_per_user,
    a_revoked_calendar_asks_its_owner_to_reconnect,
);
