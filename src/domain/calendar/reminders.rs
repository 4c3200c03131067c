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
/// A reminder job may run this much before its time (clock skew) and still
/// count; an event whose reminder instant moved by more was rescheduled.
const EARLY: chrono::Duration = chrono::Duration::seconds(5);
/// A group of reminders prepared longer than this before it is sent reads
/// its events again, so an event changed or cancelled in between is seen.
const RECHECK_AFTER: chrono::Duration = chrono::Duration::seconds(1);

/// Payload of [`REMINDER`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReminderPayload {
    pub event_id: String,
    pub minutes: u32,
    pub channel: Channel,
    /// The instant it was scheduled for (`start - minutes` when the event
    /// was written): an event moved since has newer jobs, and this one is
    /// skipped. Absent in jobs written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
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
                        due: Some(due),
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

/// Deletes an event's reminders for `minutes` that have not reached their
/// instant (pending, or claimed ahead of it: such a job finds the event
/// changed at its instant and sends nothing); returns how many reminders
/// (event, minute) had such a job on some channel.
pub async fn unschedule(
    db: &impl ConnectionTrait,
    event_id: &str,
    minutes: &[u32],
) -> Result<u64, sea_orm::DbErr> {
    let keys: Vec<String> = minutes
        .iter()
        .flat_map(|m| Channel::ALL.map(|c| reminder_key(event_id, *m, c)))
        .collect();
    let deleted = job_store::delete_unstarted_many(db, keys, Utc::now()).await?;
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
            // and are read and planned ahead, so that at the instant only
            // the sends remain
            lead: std::time::Duration::from_secs(ctx.config.calendar.reminder_lead_secs),
            ..KindSettings::default()
        },
        ReminderJob(ctx),
    );
}

struct ReminderJob(Arc<AppContext>);

#[async_trait::async_trait]
impl JobHandler for ReminderJob {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        self.run_batch(std::slice::from_ref(job))
            .await
            .pop()
            .unwrap_or_else(not_run)
    }

    async fn run_batch(&self, jobs: &[Job]) -> Vec<Result<(), JobError>> {
        let parsed: Vec<Result<Claimed, JobError>> = jobs
            .iter()
            .map(|job| {
                job.payload().map(|payload| Claimed {
                    payload,
                    run_at: job.run_at,
                })
            })
            .collect();
        let claimed: Vec<Claimed> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let stopping = jobs.first().map(|job| job.stopping.clone());
        let mut outcomes = deliver_batch(&self.0, &claimed, stopping).await.into_iter();
        parsed
            .into_iter()
            .map(|claimed| {
                claimed?;
                outcomes.next().unwrap_or_else(not_run).map(|_| ())
            })
            .collect()
    }
}

fn not_run<T>() -> Result<T, JobError> {
    Err(JobError::Retry("reminder not run".to_owned()))
}

/// A claimed reminder: what, and the instant its job is due.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub payload: ReminderPayload,
    /// The job's run time: the reminder's instant on a first attempt, the
    /// retry's on a later one.
    pub run_at: DateTime<Utc>,
}

/// What became of one reminder job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReminderOutcome {
    Delivered(String),
    AlreadyDelivered,
    /// Not sent, and why.
    Skipped(&'static str),
}

/// Runs one reminder on one channel, due now.
pub async fn deliver(
    ctx: &AppContext,
    payload: &ReminderPayload,
) -> Result<ReminderOutcome, JobError> {
    let claimed = Claimed {
        payload: payload.clone(),
        run_at: Utc::now(),
    };
    deliver_batch(ctx, std::slice::from_ref(&claimed), None)
        .await
        .pop()
        .unwrap_or_else(not_run)
}

/// Why the reminder `payload` of `event` (as it is at `now`) is not to be
/// sent; `run_at` is its job's run time.
fn skip_reason(
    event: Option<&Event>,
    payload: &ReminderPayload,
    run_at: DateTime<Utc>,
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
    let due = due_at(event.start, payload.minutes);
    match payload.due {
        // the event moved after this job was claimed (pending jobs move with
        // their event): the update scheduled the new one
        Some(scheduled) if (due - scheduled).abs() > EARLY => Some("event moved"),
        Some(_) => None,
        None if due > run_at.max(now) + EARLY => Some("not due"),
        None => None,
    }
}

/// A reminder of a batch that passed its checks, and when it goes out.
#[derive(Clone, Debug)]
struct Planned {
    /// Its index in the batch.
    at: usize,
    key: String,
    send_at: DateTime<Utc>,
}

/// Reminders that go out from the same instant: one instant's email and
/// in-app reminders, or its WhatsApp ones, each at its slot.
#[derive(Debug)]
struct Group {
    start: DateTime<Utc>,
    items: Vec<Planned>,
}

type Outcome = Result<ReminderOutcome, JobError>;

/// Runs reminders together, one outcome per reminder in order.
///
/// Claimed up to `REMINDER_LEAD_SECS` early, the batch is prepared at once:
/// its events, the deliveries already made and the users' preferences are
/// read (one statement each for the whole batch), and each reminder gets
/// its send instant: its job's run time for email and in-app, and for
/// WhatsApp a slot of the number's throughput near it
/// ([`SendSlots`](crate::delivery::SendSlots)). At each instant the events
/// are read again (an event changed or cancelled meanwhile is seen), the
/// in-app reminders are one insert, emails and WhatsApp messages go out
/// concurrently, and the deliveries are recorded in one statement.
/// Preferences are as they were at the claim.
pub async fn deliver_batch(
    ctx: &AppContext,
    claimed: &[Claimed],
    stopping: Option<tokio::sync::watch::Receiver<bool>>,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; claimed.len()];
    if let Err(err) = deliver_into(ctx, claimed, stopping, &mut outcomes).await {
        for outcome in outcomes.iter_mut().filter(|o| o.is_none()) {
            *outcome = Some(Err(err.clone()));
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(not_run))
        .collect()
}

async fn read_events<'a>(
    ctx: &AppContext,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, Event>, JobError> {
    let mut ids: Vec<String> = ids.map(str::to_owned).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(calendar_events::find_many(&ctx.db, &ids)
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), Event::from_row(row)))
        .collect())
}

async fn deliver_into(
    ctx: &AppContext,
    claimed: &[Claimed],
    stopping: Option<tokio::sync::watch::Receiver<bool>>,
    outcomes: &mut [Option<Outcome>],
) -> Result<(), JobError> {
    let prepared_at = Utc::now();
    let events = read_events(ctx, claimed.iter().map(|c| c.payload.event_id.as_str())).await?;

    let mut candidates: Vec<usize> = Vec::with_capacity(claimed.len());
    for (at, c) in claimed.iter().enumerate() {
        let event = events.get(&c.payload.event_id);
        match skip_reason(event, &c.payload, c.run_at, prepared_at) {
            None => candidates.push(at),
            Some(reason) => outcomes[at] = Some(Ok(ReminderOutcome::Skipped(reason))),
        }
    }
    if candidates.is_empty() {
        return Ok(());
    }
    let key_of = |at: usize| {
        let p = &claimed[at].payload;
        reminder_key(&p.event_id, p.minutes, p.channel)
    };
    let keys: Vec<String> = candidates.iter().map(|&at| key_of(at)).collect();
    let delivered = store::delivered_among(&ctx.db, &keys).await?;
    let mut users: Vec<String> = Vec::new();
    candidates.retain(|&at| {
        let done = delivered.contains(&key_of(at));
        if done {
            outcomes[at] = Some(Ok(ReminderOutcome::AlreadyDelivered));
        } else if let Some(event) = events.get(&claimed[at].payload.event_id) {
            users.push(event.user_id.clone());
        }
        !done
    });
    users.sort_unstable();
    users.dedup();
    let prefs = preferences::of_users(&ctx.db, &users)
        .await
        .map_err(JobError::from)?;
    let no_prefs = preferences::Preferences::default();
    let prefs_of = |at: usize| {
        events
            .get(&claimed[at].payload.event_id)
            .and_then(|e| prefs.get(&e.user_id))
            .unwrap_or(&no_prefs)
    };
    candidates.retain(|&at| {
        let on = prefs_of(at).reaches(claimed[at].payload.channel);
        if !on {
            outcomes[at] = Some(Ok(ReminderOutcome::Skipped("channel off")));
        }
        on
    });

    // the plan: each instant's email and in-app reminders together; the
    // WhatsApp ones in the number's slots around their instants
    let mut by_instant: std::collections::BTreeMap<DateTime<Utc>, Vec<Planned>> =
        Default::default();
    let mut whatsapp: std::collections::BTreeMap<DateTime<Utc>, Vec<Planned>> = Default::default();
    for at in candidates {
        let c = &claimed[at];
        let instant = c.run_at.max(prepared_at);
        let planned = |send_at| Planned {
            at,
            key: key_of(at),
            send_at,
        };
        if c.payload.channel == Channel::WhatsApp {
            let send_at = match &ctx.senders.whatsapp_slots {
                Some(slots) => slots.reserve(instant, prepared_at),
                None => instant,
            };
            whatsapp.entry(instant).or_default().push(planned(send_at));
        } else {
            by_instant
                .entry(instant)
                .or_default()
                .push(planned(instant));
        }
    }
    let groups = by_instant
        .into_values()
        .chain(whatsapp.into_values())
        .filter_map(|items| {
            let start = items.iter().map(|p| p.send_at).min()?;
            Some(Group { start, items })
        });

    let ran = futures::future::join_all(groups.map(|group| {
        run_group(
            ctx,
            claimed,
            group,
            &events,
            prepared_at,
            &prefs_of,
            stopping.clone(),
        )
    }))
    .await;
    for (at, outcome) in ran.into_iter().flatten() {
        outcomes[at] = Some(outcome);
    }
    Ok(())
}

/// Sleeps until `at`; `false` when the pool began shutting down first.
async fn wait_until(
    at: DateTime<Utc>,
    stopping: &mut Option<tokio::sync::watch::Receiver<bool>>,
) -> bool {
    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    if wait.is_zero() {
        return true;
    }
    match stopping {
        Some(stop) => tokio::select! {
            _ = tokio::time::sleep(wait) => true,
            _ = stop.wait_for(|stopped| *stopped) => false,
        },
        None => {
            tokio::time::sleep(wait).await;
            true
        }
    }
}

/// Sends one group at its instants; the outcome of each of its reminders.
async fn run_group<'p>(
    ctx: &AppContext,
    claimed: &[Claimed],
    group: Group,
    events_at_claim: &HashMap<String, Event>,
    prepared_at: DateTime<Utc>,
    prefs_of: &(dyn Fn(usize) -> &'p preferences::Preferences + Sync),
    mut stopping: Option<tokio::sync::watch::Receiver<bool>>,
) -> Vec<(usize, Outcome)> {
    let mut out: Vec<(usize, Outcome)> = Vec::with_capacity(group.items.len());
    if !wait_until(group.start, &mut stopping).await {
        // shutting down before the instant: give the jobs back, due as before
        for p in &group.items {
            let wait = (claimed[p.at].run_at - Utc::now())
                .to_std()
                .unwrap_or_default();
            out.push((
                p.at,
                Err(JobError::Delay(
                    wait,
                    "released at shutdown before its instant".to_owned(),
                )),
            ));
        }
        return out;
    }
    let fresh;
    let events = if Utc::now() - prepared_at > RECHECK_AFTER {
        let ids = group
            .items
            .iter()
            .map(|p| claimed[p.at].payload.event_id.as_str());
        match read_events(ctx, ids).await {
            Ok(events) => {
                fresh = events;
                &fresh
            }
            Err(err) => {
                out.extend(group.items.iter().map(|p| (p.at, Err(err.clone()))));
                return out;
            }
        }
    } else {
        events_at_claim
    };
    let now = Utc::now();
    let mut ready: Vec<(&Planned, &Event)> = Vec::with_capacity(group.items.len());
    for p in &group.items {
        let c = &claimed[p.at];
        let event = events.get(&c.payload.event_id);
        match (skip_reason(event, &c.payload, c.run_at, now), event) {
            (None, Some(event)) => ready.push((p, event)),
            (reason, _) => out.push((
                p.at,
                Ok(ReminderOutcome::Skipped(reason.unwrap_or("event deleted"))),
            )),
        }
    }

    let mut sent: Vec<(&Planned, &Event, String, DateTime<Utc>)> = Vec::with_capacity(ready.len());
    // in-app: one insert for the group
    let (in_app, outward): (Vec<_>, Vec<_>) = ready
        .iter()
        .partition(|(p, _)| claimed[p.at].payload.channel == Channel::InApp);
    if !in_app.is_empty() {
        let notices = in_app
            .iter()
            .map(|(p, event)| channels::in_app_notice(event, claimed[p.at].payload.minutes, &p.key))
            .collect();
        match channels::in_app_notices(ctx, notices).await {
            Ok(ids) => {
                let at = Utc::now();
                for (p, event) in &in_app {
                    match ids.get(&p.key) {
                        Some(id) => sent.push((p, event, id.clone(), at)),
                        None => out.push((
                            p.at,
                            Err(JobError::Retry("notification not stored".to_owned())),
                        )),
                    }
                }
            }
            Err(err) => out.extend(in_app.iter().map(|(p, _)| (p.at, Err(err.clone())))),
        }
    }
    // email and WhatsApp: concurrently, each at its instant (the SMTP pool
    // and the WhatsApp budget bound them)
    let results = futures::future::join_all(outward.iter().map(|&(p, event)| {
        let mut stopping = stopping.clone();
        async move {
            wait_until(p.send_at, &mut stopping).await;
            let payload = &claimed[p.at].payload;
            let result =
                channels::send(ctx, event, payload.minutes, payload.channel, prefs_of(p.at)).await;
            (p, event, result, Utc::now())
        }
    }))
    .await;
    for (p, event, result, at) in results {
        match result {
            Ok(Delivered::Sent(external_id)) => sent.push((p, event, external_id, at)),
            Ok(Delivered::NotConfigured) => {
                out.push((p.at, Ok(ReminderOutcome::Skipped("channel not configured"))))
            }
            Err(err) => out.push((p.at, Err(err))),
        }
    }
    if sent.is_empty() {
        return out;
    }
    let records = sent
        .iter()
        .map(|(p, event, external_id, at)| {
            let payload = &claimed[p.at].payload;
            DeliveryRow {
                reminder_key: p.key.clone(),
                event_id: event.id.clone(),
                user_id: event.user_id.clone(),
                channel: payload.channel.as_str().to_owned(),
                minutes: payload.minutes as i32,
                due_at: due_at(event.start, payload.minutes),
                delivered_at: *at,
                external_id: external_id.clone(),
            }
        })
        .collect();
    if let Err(err) = store::record_deliveries(&ctx.db, records).await {
        let err = JobError::from(AppError::from(err));
        out.extend(sent.iter().map(|(p, ..)| (p.at, Err(err.clone()))));
        return out;
    }
    tracing::info!(delivered = sent.len(), "reminders delivered");
    for (p, _, external_id, _) in sent {
        tracing::debug!(
            channel = claimed[p.at].payload.channel.as_str(),
            minutes = claimed[p.at].payload.minutes,
            "reminder delivered"
        );
        out.push((p.at, Ok(ReminderOutcome::Delivered(external_id))));
    }
    out
}
