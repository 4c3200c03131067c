//! Reminders through the background engine: once per channel (at the SMTP
//! server, the WhatsApp sandbox and the notifications table), moved by an
//! update and gone after a cancel (also when already claimed ahead of their
//! instant), one failing channel not holding up the
//! others, and a reminder that fell due while the service was down.

use std::time::Duration;

use chrono::Utc;
use nextke_integrations::proto;

use crate::{
    calendar_rig::{cal, cal_with_workers, eventually, interview, ts, Cal},
    db_tests,
    helpers::Backend,
};

/// An event starting in `lead` with one reminder `minutes` before it, so the
/// reminder is due `lead - minutes` from now.
async fn soon(cal: &Cal, user: &str, lead: chrono::Duration, minutes: i32) -> proto::Event {
    let mut request = interview(
        "Backend engineer at Acme",
        Utc::now() + lead,
        "Africa/Nairobi",
    );
    request.reminder_minutes = vec![minutes];
    cal.create(user, request).await.expect("create")
}

async fn deliveries(cal: &Cal, event_id: &str) -> i64 {
    cal.count(&format!(
        "SELECT COUNT(*) AS n FROM reminder_deliveries WHERE event_id = '{event_id}'"
    ))
    .await
}

async fn a_reminder_reaches_every_channel_once(backend: Backend) {
    let cal = cal_with_workers(backend).await;
    cal.all_channels("ada").await;
    // due in about 3 s
    let event = soon(&cal, "ada", chrono::Duration::seconds(63), 1).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            deliveries(&cal, &event.id).await == 3
        })
        .await,
        "three deliveries"
    );
    // claimed ahead, but none went out before its instant
    {
        use nextke_integrations::store::entities::reminder_deliveries;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let rows = reminder_deliveries::Entity::find()
            .filter(reminder_deliveries::Column::EventId.eq(event.id.clone()))
            .all(&cal.app.ctx.db)
            .await
            .expect("deliveries");
        for row in rows {
            assert!(
                row.delivered_at >= row.due_at - chrono::Duration::milliseconds(100),
                "{} delivered at {} for {}",
                row.channel,
                row.delivered_at,
                row.due_at
            );
        }
    }
    // the SMTP server got one email with text, HTML and the .ics, and a derived Message-ID
    assert!(cal.smtp.wait_for(1, Duration::from_secs(5)).await);
    let mails = cal.smtp.messages();
    assert_eq!(mails.len(), 1, "one email");
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["ada@example.com".to_owned()]);
    let message_id = mail.message_id().expect("message id").to_owned();
    assert!(message_id.contains(&event.id), "{message_id}");
    assert!(message_id.ends_with("@next.ke>"), "{message_id}");
    let raw = String::from_utf8_lossy(&mail.raw).to_string();
    for part in ["text/plain", "text/html", "text/calendar"] {
        assert!(raw.contains(part), "{part} in the email");
    }
    assert!(mail
        .subject()
        .unwrap_or_default()
        .contains("Backend engineer at Acme"));
    // WhatsApp: one template message with the title
    let sent = cal.whatsapp.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "+254712345678");
    assert_eq!(sent[0].template, crate::calendar_rig::TEMPLATE);
    assert_eq!(sent[0].parameters[0], "Backend engineer at Acme");
    assert_eq!(sent[0].parameters[2], "in 1 minute");
    // in-app: one notification about the event
    let notes = cal.notifications("ada").await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].event_id, event.id);
    assert_eq!(notes[0].kind, "reminder");

    // nothing more arrives: each was delivered once
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(cal.smtp.count(), 1);
    assert_eq!(cal.whatsapp.count(), 1);
    assert_eq!(cal.notifications("ada").await.len(), 1);
    assert_eq!(deliveries(&cal, &event.id).await, 3);
}

async fn an_update_moves_the_reminders_and_a_cancel_removes_them(backend: Backend) {
    let cal = cal_with_workers(backend).await;
    cal.all_channels("ada").await;
    // A is due in 3 s but moved a day later; B is due in 3 s but cancelled
    let moved = soon(&cal, "ada", chrono::Duration::seconds(63), 1).await;
    let cancelled = soon(&cal, "ada", chrono::Duration::seconds(63), 1).await;
    // both are claimed ahead of their instant (`REMINDER_LEAD_SECS`) before
    // they change: a reminder held by a worker moves and goes as well
    for event in [&moved, &cancelled] {
        assert!(
            eventually(Duration::from_secs(5), || async {
                cal.count(&format!(
                    "SELECT COUNT(*) AS n FROM jobs WHERE state = 'running' AND unique_key LIKE 'reminder:{}:1:%'",
                    event.id
                ))
                .await
                    == 3
            })
            .await,
            "claimed ahead"
        );
    }
    let later = Utc::now() + chrono::Duration::days(1);
    cal.update(
        "ada",
        &moved.id,
        proto::Event {
            start_time: Some(ts(later)),
            end_time: Some(ts(later + chrono::Duration::hours(1))),
            ..Default::default()
        },
        &["start_time", "end_time"],
    )
    .await
    .expect("update");
    let answer = cal.cancel("ada", &cancelled.id).await.expect("cancel");
    assert_eq!(answer.reminders_cancelled, 1);
    // a third one, untouched, proves the engine ran meanwhile
    let control = soon(&cal, "ada", chrono::Duration::seconds(63), 1).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            deliveries(&cal, &control.id).await == 3
        })
        .await,
        "the untouched reminder went out"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(deliveries(&cal, &moved.id).await, 0, "the moved one waits");
    assert_eq!(
        deliveries(&cal, &cancelled.id).await,
        0,
        "the cancelled one is gone"
    );
    let pending = cal
        .count(&format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND unique_key LIKE 'reminder:{}:1:%'",
            moved.id
        ))
        .await;
    assert_eq!(pending, 3, "the moved reminders wait for the new start");
    assert_eq!(cal.smtp.count(), 1);
    assert_eq!(cal.whatsapp.count(), 1);
}

async fn a_failing_channel_retries_without_holding_up_the_others(backend: Backend) {
    let cal = cal_with_workers(backend).await;
    cal.all_channels("ada").await;
    // the SMTP server refuses the first two attempts with 451
    cal.smtp.fail_next_data(2);
    let event = soon(&cal, "ada", chrono::Duration::seconds(63), 1).await;
    // WhatsApp and in-app go out while the email is still being retried
    assert!(
        eventually(Duration::from_secs(20), || async {
            cal.whatsapp.count() == 1 && cal.notifications("ada").await.len() == 1
        })
        .await,
        "WhatsApp and in-app went out"
    );
    assert!(
        eventually(Duration::from_secs(30), || async {
            deliveries(&cal, &event.id).await == 3
        })
        .await,
        "the email went out after its retries"
    );
    assert_eq!(cal.smtp.count(), 1, "exactly one email stored");
}

async fn a_reminder_due_during_downtime_is_sent_on_return(backend: Backend) {
    // the service is down (no workers) when the reminders fall due
    let cal = cal(backend, |c| c.jobs.workers_enabled = false).await;
    cal.all_channels("ada").await;
    // due in 2 s, starts in 62 s: sent when the service comes back
    let waiting = soon(&cal, "ada", chrono::Duration::seconds(62), 1).await;
    // due at once, starts in 4 s: started by the time the service is back
    let started = soon(&cal, "ada", chrono::Duration::seconds(4), 1).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        deliveries(&cal, &waiting.id).await,
        0,
        "nothing sent while down"
    );
    let cal = cal
        .restart(|c| {
            c.jobs.workers_enabled = true;
            c.jobs.job_poll_interval_ms = 50;
        })
        .await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            deliveries(&cal, &waiting.id).await == 3
        })
        .await,
        "the overdue reminder went out on every channel"
    );
    let settled = eventually(Duration::from_secs(10), || async {
        cal.count(&format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND unique_key LIKE 'reminder:{}:%'",
            started.id
        ))
        .await
            == 0
    })
    .await;
    assert!(settled, "the started event's reminders ran");
    assert_eq!(
        deliveries(&cal, &started.id).await,
        0,
        "no reminder of a started event"
    );
    assert_eq!(cal.smtp.count(), 1);
}

db_tests!(
    a_reminder_reaches_every_channel_once,
    an_update_moves_the_reminders_and_a_cancel_removes_them,
    a_failing_channel_retries_without_holding_up_the_others,
    a_reminder_due_during_downtime_is_sent_on_return,
);
