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

use std::sync::Arc;

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
    let now = Utc::now();
    let Some(row) = calendar_events::find_by_id(&ctx.db, &payload.event_id).await? else {
        return Ok(ReminderOutcome::Skipped("event deleted"));
    };
    let event = Event::from_row(row);
    if event.status == EventStatus::Cancelled {
        return Ok(ReminderOutcome::Skipped("event cancelled"));
    }
    // a reminder at the start itself may still go out a little after it
    let too_late = if payload.minutes == 0 {
        event.start + AT_START_GRACE
    } else {
        event.start
    };
    if now >= too_late {
        return Ok(ReminderOutcome::Skipped("event already started"));
    }
    if !event.reminder_minutes.contains(&payload.minutes) {
        return Ok(ReminderOutcome::Skipped("reminder removed"));
    }
    let due = due_at(event.start, payload.minutes);
    if now + EARLY < due {
        // the event moved later after this job was claimed; the update
        // scheduled the new one
        return Ok(ReminderOutcome::Skipped("not due"));
    }
    let key = reminder_key(&event.id, payload.minutes, payload.channel);
    if store::delivery(&ctx.db, &key).await?.is_some() {
        return Ok(ReminderOutcome::AlreadyDelivered);
    }
    let prefs = preferences::of_user(&ctx.db, &event.user_id)
        .await
        .map_err(JobError::from)?;
    if !prefs.reaches(payload.channel) {
        return Ok(ReminderOutcome::Skipped("channel off"));
    }
    let delivered =
        match channels::send(ctx, &event, payload.minutes, payload.channel, &prefs, &key).await {
            Ok(Delivered::Sent(external_id)) => external_id,
            Ok(Delivered::NotConfigured) => {
                return Ok(ReminderOutcome::Skipped("channel not configured"))
            }
            Err(err) => return Err(err),
        };
    store::record_delivery(
        &ctx.db,
        DeliveryRow {
            reminder_key: key,
            event_id: event.id.clone(),
            user_id: event.user_id.clone(),
            channel: payload.channel.as_str().to_owned(),
            minutes: payload.minutes as i32,
            due_at: due,
            delivered_at: Utc::now(),
            external_id: delivered.clone(),
        },
    )
    .await
    .map_err(|e| JobError::from(AppError::from(e)))?;
    tracing::info!(
        channel = payload.channel.as_str(),
        minutes = payload.minutes,
        "reminder delivered"
    );
    Ok(ReminderOutcome::Delivered(delivered))
}
