//! Reminders: one job per event, minute and channel, due at
//! `start - minutes`, each delivered once.
//!
//! The jobs are written in the transaction of the event change that needs
//! them: a created event schedules its reminders, an update that moves the
//! start or changes the minutes deletes the pending ones and schedules anew,
//! a cancel deletes them. Jobs are scheduled for every channel; the channel
//! is checked against the user's preferences when the job runs, so a change
//! of preferences applies to reminders already scheduled.
//!
//! When it runs, a reminder is sent unless the event is gone, cancelled,
//! has started (a reminder that fell due while the service was down is still
//! sent if the event has not), no longer has that minute, or was delivered
//! already on that channel (`reminder_deliveries`, checked before and written
//! after the send).
//!
//! Reminders fall due together (every interview at 09:00 has its 15-minute
//! reminder at 08:45), so the engine runs the jobs of one claim as a batch:
//! each read and each write is one statement for the whole batch, and the
//! sends of a batch go out concurrently. Every reminder still has its own
//! outcome (sent, skipped, retried).

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use super::{
    channels::{self, Delivered},
    event::{Channel, EventStatus},
    events::Event,
    preferences,
};
use crate::{
    context::AppContext,
    error::AppError,
    jobs::{Job, JobError, JobHandler, KindSettings, NewJob, Registry},
    store::{
        calendar_events, jobs as job_store,
        reminders::{self as store, DeliveryRow},
    },
};

/// The job kind of one reminder on one channel.
pub const REMINDER: &str = "calendar.reminder";

/// A reminder scheduled this long ago or more at creation is not sent (an
/// event created 10 minutes before its start gets no 15-minute reminder).
const LATE_AT_CREATION: chrono::Duration = chrono::Duration::seconds(60);
/// A reminder at the start (0 minutes) is still sent this long after it.
const AT_START_GRACE: chrono::Duration = chrono::Duration::seconds(60);
/// A reminder job may run this much before its time (clock skew) and still count.
const EARLY: chrono::Duration = chrono::Duration::seconds(5);

/// Payload of [`REMINDER`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReminderPayload {
    pub event_id: String,
    pub minutes: u32,
    pub channel: Channel,
}

/// The unique key of a reminder on a channel: its job's and its delivery's.
pub fn reminder_key(event_id: &str, minutes: u32, channel: Channel) -> String {
    format!("reminder:{event_id}:{minutes}:{}", channel.as_str())
}

/// When a reminder `minutes` before `start` is due.
pub fn due_at(start: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
    start - chrono::Duration::minutes(i64::from(minutes))
}

/// The jobs of an event's reminders still to come at `now`.
pub fn jobs_for(
    event_id: &str,
    user_id: &str,
    start: DateTime<Utc>,
    minutes: &[u32],
    now: DateTime<Utc>,
) -> Vec<NewJob> {
    let mut jobs = Vec::with_capacity(minutes.len() * Channel::ALL.len());
    for &m in minutes {
        let due = due_at(start, m);
        if due + LATE_AT_CREATION < now || start + AT_START_GRACE <= now {
            continue;
        }
        for channel in Channel::ALL {
            jobs.push(
                NewJob::new(
                    REMINDER,
                    ReminderPayload {
                        event_id: event_id.to_owned(),
                        minutes: m,
                        channel,
                    },
                )
                .unique(reminder_key(event_id, m, channel))
                .run_at(due)
                .max_attempts(6)
                .for_user(user_id.to_owned()),
            );
        }
    }
    jobs
}

/// Schedules an event's reminders on `db` (the event's transaction).
pub async fn schedule(
    db: &impl ConnectionTrait,
    event_id: &str,
    user_id: &str,
    start: DateTime<Utc>,
    minutes: &[u32],
) -> Result<u64, sea_orm::DbErr> {
    let jobs = jobs_for(event_id, user_id, start, minutes, Utc::now());
    if jobs.is_empty() {
        return Ok(0);
    }
    crate::jobs::enqueue_many(db, jobs).await
}

/// Deletes an event's pending reminders for `minutes`; returns how many
/// reminders (event, minute) had a pending job on some channel.
pub async fn unschedule(
    db: &impl ConnectionTrait,
    event_id: &str,
    minutes: &[u32],
) -> Result<u64, sea_orm::DbErr> {
    let keys: Vec<String> = minutes
        .iter()
        .flat_map(|m| Channel::ALL.map(|c| reminder_key(event_id, *m, c)))
        .collect();
    let deleted = job_store::delete_pending_many(db, keys).await?;
    Ok(deleted.div_ceil(Channel::ALL.len() as u64))
}

/// Registers the reminder kind.
pub fn register(registry: &mut Registry, ctx: Arc<AppContext>) {
    registry.register(
        REMINDER,
        KindSettings {
            concurrency: ctx.config.calendar.reminder_concurrency.max(1),
            lease: ctx.config.jobs.lease(),
            base_backoff: std::time::Duration::from_millis(
                ctx.config.calendar.reminder_retry_ms.max(10),
            ),
            max_backoff: std::time::Duration::from_secs(600),
            // reminders fall due together: the jobs of a claim share their
            // reads and writes
            batch: true,
            ..KindSettings::default()
        },
        ReminderJob(ctx),
    );
}

struct ReminderJob(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for ReminderJob {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: ReminderPayload = job.payload()?;
        deliver(&self.0, &payload).await.map(|_| ())
    }

    async fn run_batch(&self, jobs: &[Job]) -> Vec<Result<(), JobError>> {
        let parsed: Vec<Result<ReminderPayload, JobError>> =
            jobs.iter().map(|job| job.payload()).collect();
        let payloads: Vec<ReminderPayload> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let mut outcomes = deliver_batch(&self.0, &payloads).await.into_iter();
        parsed
            .into_iter()
            .map(|payload| {
                payload?;
                outcomes.next().unwrap_or_else(not_run).map(|_| ())
            })
            .collect()
    }
}

fn not_run<T>() -> Result<T, JobError> {
    Err(JobError::Retry("reminder not run".to_owned()))
}

/// What became of one reminder job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReminderOutcome {
    Delivered(String),
    AlreadyDelivered,
    /// Not sent, and why.
    Skipped(&'static str),
}

/// Runs one reminder on one channel.
pub async fn deliver(
    ctx: &AppContext,
    payload: &ReminderPayload,
) -> Result<ReminderOutcome, JobError> {
    deliver_batch(ctx, std::slice::from_ref(payload))
        .await
        .pop()
        .unwrap_or_else(not_run)
}

/// A reminder of a batch that passed its checks and is to be sent.
struct ToSend<'a> {
    at: usize,
    event: &'a Event,
    minutes: u32,
    channel: Channel,
    key: String,
    due: DateTime<Utc>,
}

/// Why the reminder `payload` of `event` (as it is now) is not to be sent.
fn skip_reason(
    event: Option<&Event>,
    payload: &ReminderPayload,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    let Some(event) = event else {
        return Some("event deleted");
    };
    if event.status == EventStatus::Cancelled {
        return Some("event cancelled");
    }
    // a reminder at the start itself may still go out a little after it
    let too_late = if payload.minutes == 0 {
        event.start + AT_START_GRACE
    } else {
        event.start
    };
    if now >= too_late {
        return Some("event already started");
    }
    if !event.reminder_minutes.contains(&payload.minutes) {
        return Some("reminder removed");
    }
    if now + EARLY < due_at(event.start, payload.minutes) {
        // the event moved later after this job was claimed; the update
        // scheduled the new one
        return Some("not due");
    }
    None
}

/// Runs reminders together, one outcome per payload in order. The reads
/// (events, deliveries made, preferences) and the writes (in-app
/// notifications, delivery records) are one statement each for the whole
/// batch; emails and WhatsApp messages go out concurrently.
pub async fn deliver_batch(
    ctx: &AppContext,
    payloads: &[ReminderPayload],
) -> Vec<Result<ReminderOutcome, JobError>> {
    let mut outcomes: Vec<Option<Result<ReminderOutcome, JobError>>> = vec![None; payloads.len()];
    if let Err(err) = deliver_into(ctx, payloads, &mut outcomes).await {
        for outcome in outcomes.iter_mut().filter(|o| o.is_none()) {
            *outcome = Some(Err(err.clone()));
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(not_run))
        .collect()
}

async fn deliver_into(
    ctx: &AppContext,
    payloads: &[ReminderPayload],
    outcomes: &mut [Option<Result<ReminderOutcome, JobError>>],
) -> Result<(), JobError> {
    let now = Utc::now();
    let mut ids: Vec<String> = payloads.iter().map(|p| p.event_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let events: HashMap<String, Event> = calendar_events::find_many(&ctx.db, &ids)
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), Event::from_row(row)))
        .collect();

    let mut candidates = Vec::new();
    for (at, payload) in payloads.iter().enumerate() {
        let event = events.get(&payload.event_id);
        match (skip_reason(event, payload, now), event) {
            (None, Some(event)) => candidates.push(ToSend {
                at,
                event,
                minutes: payload.minutes,
                channel: payload.channel,
                key: reminder_key(&event.id, payload.minutes, payload.channel),
                due: due_at(event.start, payload.minutes),
            }),
            (reason, _) => {
                outcomes[at] = Some(Ok(ReminderOutcome::Skipped(
                    reason.unwrap_or("event deleted"),
                )))
            }
        }
    }
    if candidates.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = candidates.iter().map(|c| c.key.clone()).collect();
    let delivered = store::delivered_among(&ctx.db, &keys).await?;
    candidates.retain(|c| {
        let done = delivered.contains(&c.key);
        if done {
            outcomes[c.at] = Some(Ok(ReminderOutcome::AlreadyDelivered));
        }
        !done
    });
    let mut users: Vec<String> = candidates.iter().map(|c| c.event.user_id.clone()).collect();
    users.sort_unstable();
    users.dedup();
    let prefs = preferences::of_users(&ctx.db, &users)
        .await
        .map_err(JobError::from)?;
    let no_prefs = preferences::Preferences::default();
    let prefs_of = |c: &ToSend| prefs.get(&c.event.user_id).unwrap_or(&no_prefs);
    candidates.retain(|c| {
        let on = prefs_of(c).reaches(c.channel);
        if !on {
            outcomes[c.at] = Some(Ok(ReminderOutcome::Skipped("channel off")));
        }
        on
    });

    // in-app: one insert for the batch
    let (in_app, outward): (Vec<&ToSend>, Vec<&ToSend>) =
        candidates.iter().partition(|c| c.channel == Channel::InApp);
    let mut sent: Vec<(&ToSend, String, DateTime<Utc>)> = Vec::with_capacity(candidates.len());
    if !in_app.is_empty() {
        let notices = in_app
            .iter()
            .map(|c| channels::in_app_notice(c.event, c.minutes, &c.key))
            .collect();
        match channels::in_app_notices(ctx, notices).await {
            Ok(ids) => {
                let at = Utc::now();
                for c in &in_app {
                    match ids.get(&c.key) {
                        Some(id) => sent.push((c, id.clone(), at)),
                        None => {
                            outcomes[c.at] =
                                Some(Err(JobError::Retry("notification not stored".to_owned())))
                        }
                    }
                }
            }
            Err(err) => {
                for c in &in_app {
                    outcomes[c.at] = Some(Err(err.clone()));
                }
            }
        }
    }
    // email and WhatsApp: concurrently (the SMTP pool and the WhatsApp
    // budget bound them)
    let results = futures::future::join_all(outward.iter().map(|c| async move {
        let result = channels::send(ctx, c.event, c.minutes, c.channel, prefs_of(c)).await;
        (c, result, Utc::now())
    }))
    .await;
    for (c, result, at) in results {
        match result {
            Ok(Delivered::Sent(external_id)) => sent.push((c, external_id, at)),
            Ok(Delivered::NotConfigured) => {
                outcomes[c.at] = Some(Ok(ReminderOutcome::Skipped("channel not configured")))
            }
            Err(err) => outcomes[c.at] = Some(Err(err)),
        }
    }
    if sent.is_empty() {
        return Ok(());
    }
    let records = sent
        .iter()
        .map(|(c, external_id, at)| DeliveryRow {
            reminder_key: c.key.clone(),
            event_id: c.event.id.clone(),
            user_id: c.event.user_id.clone(),
            channel: c.channel.as_str().to_owned(),
            minutes: c.minutes as i32,
            due_at: c.due,
            delivered_at: *at,
            external_id: external_id.clone(),
        })
        .collect();
    store::record_deliveries(&ctx.db, records)
        .await
        .map_err(|e| JobError::from(AppError::from(e)))?;
    tracing::info!(delivered = sent.len(), "reminders delivered");
    for (c, external_id, _) in sent {
        tracing::debug!(
            channel = c.channel.as_str(),
            minutes = c.minutes,
            "reminder delivered"
        );
        outcomes[c.at] = Some(Ok(ReminderOutcome::Delivered(external_id)));
    }
    Ok(())
}
