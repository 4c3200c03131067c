//! A worker pool: one claiming loop per job kind with its own concurrency,
//! heartbeats that extend the leases of running jobs, a completer that marks
//! finished jobs in batches, a reaper that requeues jobs of vanished workers,
//! and a graceful shutdown that finishes or releases what it holds.

use std::{
    collections::HashMap,
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use futures::FutureExt;
use parking_lot::Mutex;
use rand::Rng;
use sea_orm::DatabaseConnection;
use tokio::{
    sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore},
    task::{JoinHandle, JoinSet},
};

use super::{
    handler::{Job, JobError},
    metrics::JobMetrics,
    registry::{KindSettings, Registry},
    wake::{self, KindWake, Wakes},
    JobHandler,
};
use crate::store::jobs::{self as store, Outcome};

/// Asked before a job of a kind with a [`KindSettings::provider`] runs: how
/// long that provider is unavailable (its circuit open), or `None` to run now.
/// Injected at startup (the outbound client's breakers), so the engine knows
/// nothing of providers.
pub type Gate = Arc<dyn Fn(&str) -> Option<Duration> + Send + Sync>;

/// How a pool claims and stops.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// This pool's lease-holder name; unique per pool.
    pub worker_id: String,
    /// Wait between claims when the queue is empty.
    pub poll_interval: Duration,
    /// Most jobs claimed by one query.
    pub claim_batch: u64,
    /// How often leases of vanished workers are looked for.
    pub reap_interval: Duration,
    /// How long shutdown waits for running jobs before releasing them.
    pub shutdown_grace: Duration,
    /// How often the queue gauges are refreshed (`None`: never).
    pub stats_interval: Option<Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: new_worker_id(),
            poll_interval: Duration::from_millis(500),
            claim_batch: 64,
            reap_interval: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
            stats_interval: Some(Duration::from_secs(10)),
        }
    }
}

/// Longest a claim waits for running jobs to free more slots when fewer
/// than a full batch are free.
const CLAIM_COALESCE: Duration = Duration::from_millis(2);

/// A fresh lease-holder name: process id and a random suffix.
pub fn new_worker_id() -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("w{}-{}", std::process::id(), &suffix[..12])
}

struct Shared {
    db: DatabaseConnection,
    worker_id: String,
    /// Claimed jobs not yet finished, with their kind.
    in_flight: Mutex<HashMap<i64, String>>,
    completions: mpsc::UnboundedSender<i64>,
    metrics: Option<JobMetrics>,
    gate: Option<Gate>,
}

/// A running worker pool.
pub struct WorkerPool {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
    completer: JoinHandle<()>,
    /// Kept alive as long as the pool: the listener stops when it goes.
    _wakes: Wakes,
}

impl WorkerPool {
    /// Starts claiming every registered kind. `gate`, when given, is asked
    /// before each job of a kind naming a provider runs (see [`Gate`]).
    pub fn start(
        db: DatabaseConnection,
        registry: &Registry,
        config: WorkerConfig,
        metrics: Option<JobMetrics>,
        gate: Option<Gate>,
    ) -> Self {
        let (completions, completed) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            db,
            worker_id: config.worker_id.clone(),
            in_flight: Mutex::new(HashMap::new()),
            completions,
            metrics,
            gate,
        });
        let (stop, stopped) = watch::channel(false);
        let wakes: Wakes = Arc::new(
            registry
                .kinds()
                .map(|(kind, _, _)| (kind.to_owned(), Arc::new(KindWake::default())))
                .collect(),
        );
        wake::listen(&shared.db, &wakes);
        let loops = registry
            .kinds()
            .map(|(kind, settings, handler)| {
                tokio::spawn(kind_loop(
                    shared.clone(),
                    kind.to_owned(),
                    settings.clone(),
                    handler.clone(),
                    config.clone(),
                    wakes[kind].clone(),
                    stopped.clone(),
                ))
            })
            .collect();
        let mut background = vec![tokio::spawn(reaper(
            shared.clone(),
            config.reap_interval,
            stopped.clone(),
        ))];
        if let Some(every) = config.stats_interval {
            background.push(tokio::spawn(stats(shared.clone(), every, stopped)));
        }
        let completer = tokio::spawn(completer(shared.clone(), completed));
        tracing::info!(worker = %config.worker_id, kinds = registry.kinds().count(), "worker pool started");
        Self {
            shared,
            stop,
            loops,
            background,
            completer,
            _wakes: wakes,
        }
    }

    /// This pool's lease-holder name.
    pub fn worker_id(&self) -> &str {
        &self.shared.worker_id
    }

    /// Stops claiming, lets running jobs finish within the grace period,
    /// releases the rest without spending their attempts, and flushes
    /// completions.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in self.loops {
            let _ = handle.await;
        }
        for handle in self.background {
            let _ = handle.await;
        }
        let leftover: Vec<i64> = self.shared.in_flight.lock().keys().copied().collect();
        if !leftover.is_empty() {
            match store::release(
                &self.shared.db,
                &leftover,
                &self.shared.worker_id,
                Utc::now(),
            )
            .await
            {
                Ok(n) => tracing::info!(released = n, "released unfinished jobs"),
                Err(err) => {
                    tracing::warn!(error = %err, "could not release jobs; their leases will expire")
                }
            }
        }
        drop(self.shared);
        let _ = self.completer.await;
    }
}

async fn kind_loop(
    shared: Arc<Shared>,
    kind: String,
    settings: KindSettings,
    handler: Arc<dyn JobHandler>,
    config: WorkerConfig,
    wake: Arc<KindWake>,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut heartbeat = tokio::time::interval((settings.lease / 3).max(Duration::from_millis(100)));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let lease = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::seconds(60));
    let lead = chrono::Duration::from_std(settings.lead).unwrap_or(chrono::Duration::zero());
    let full_batch = config
        .claim_batch
        .max(1)
        .min(settings.concurrency.max(1) as u64);
    loop {
        if *stop.borrow() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        let free = permits.available_permits() as u64;
        if free == 0 {
            tokio::select! {
                _ = tasks.join_next() => {}
                _ = stop.changed() => {}
                _ = heartbeat.tick() => extend_leases(&shared, &kind, lease).await,
            }
            continue;
        }
        if free < full_batch && !tasks.is_empty() {
            // some slots are free while jobs run: the jobs finishing within
            // a moment join this claim, so short jobs are claimed in full
            // batches rather than a query for every few of them
            let _ = tokio::time::timeout(CLAIM_COALESCE, async {
                while (permits.available_permits() as u64) < full_batch {
                    if tasks.join_next().await.is_none() {
                        break;
                    }
                }
            })
            .await;
            while tasks.try_join_next().is_some() {}
        }
        let free = permits.available_permits() as u64;
        let wanted = free.min(config.claim_batch.max(1));
        wake.claiming(lead);
        let now = Utc::now();
        let claimed = store::claim_due_by(
            &shared.db,
            &kind,
            &shared.worker_id,
            wanted,
            now + lead,
            now,
            now + lead + lease,
            settings.max_attempts,
        )
        .await;
        let jobs = match claimed {
            Ok(jobs) => jobs,
            Err(err) => {
                tracing::warn!(kind = %kind, error = %err, "claim failed");
                tokio::select! {
                    _ = tokio::time::sleep(config.poll_interval) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
        };
        let got = jobs.len() as u64;
        let mut batch = Vec::new();
        for row in jobs {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            shared.in_flight.lock().insert(row.id, kind.clone());
            let job = Job {
                id: row.id,
                kind: row.kind,
                payload: row.payload,
                run_at: row.run_at,
                attempt: row.attempts,
                max_attempts: row.max_attempts,
                user_id: row.user_id,
                organization_id: row.organization_id,
                stopping: stop.clone(),
            };
            if settings.batch {
                batch.push((job, permit));
            } else {
                tasks.spawn(run_one(
                    shared.clone(),
                    handler.clone(),
                    settings.clone(),
                    job,
                    permit,
                ));
            }
        }
        if !batch.is_empty() {
            tasks.spawn(run_batch(
                shared.clone(),
                handler.clone(),
                settings.clone(),
                batch,
            ));
        }
        if got < wanted {
            // until the next poll, or the earliest due time heard of, or a wake-up
            tokio::select! {
                _ = tokio::time::sleep(wake.sleep_for(config.poll_interval, lead)) => {}
                _ = wake.woken() => {}
                _ = stop.changed() => {}
                _ = heartbeat.tick() => extend_leases(&shared, &kind, lease).await,
            }
        }
    }
    let drained = tokio::time::timeout(config.shutdown_grace, async {
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                _ = heartbeat.tick() => extend_leases(&shared, &kind, lease).await,
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(kind = %kind, "jobs still running after the grace period; releasing them");
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

async fn extend_leases(shared: &Shared, kind: &str, lease: chrono::Duration) {
    let ids: Vec<i64> = shared
        .in_flight
        .lock()
        .iter()
        .filter(|(_, k)| k.as_str() == kind)
        .map(|(id, _)| *id)
        .collect();
    if ids.is_empty() {
        return;
    }
    if let Err(err) =
        store::extend_leases(&shared.db, &ids, &shared.worker_id, Utc::now() + lease).await
    {
        tracing::warn!(kind = %kind, error = %err, "could not extend leases");
    }
}

/// Delay before retry `attempt` (1-based): doubles each time, with the upper
/// half jittered, so delays grow yet replicas do not retry in lockstep.
pub fn retry_delay(settings: &KindSettings, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let ceiling = settings
        .base_backoff
        .saturating_mul(2u32.saturating_pow(exp))
        .min(settings.max_backoff);
    let half = ceiling / 2;
    half + half.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
}

async fn run_one(
    shared: Arc<Shared>,
    handler: Arc<dyn JobHandler>,
    settings: KindSettings,
    job: Job,
    permit: OwnedSemaphorePermit,
) {
    let started = Instant::now();
    let result = match circuit_gate(&shared, &settings) {
        Some(wait) => Err(JobError::Delay(wait, "provider circuit open".to_owned())),
        None => AssertUnwindSafe(handler.run(&job))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(JobError::Retry("handler panicked".to_owned()))),
    };
    settle(&shared, &settings, &job, result, started).await;
    drop(permit);
}

/// Runs the jobs of one claim as a batch ([`KindSettings::batch`]).
async fn run_batch(
    shared: Arc<Shared>,
    handler: Arc<dyn JobHandler>,
    settings: KindSettings,
    batch: Vec<(Job, OwnedSemaphorePermit)>,
) {
    let started = Instant::now();
    let (jobs, permits): (Vec<Job>, Vec<OwnedSemaphorePermit>) = batch.into_iter().unzip();
    let every = |err: JobError| jobs.iter().map(|_| Err(err.clone())).collect::<Vec<_>>();
    let results = match circuit_gate(&shared, &settings) {
        Some(wait) => every(JobError::Delay(wait, "provider circuit open".to_owned())),
        None => {
            let ran = AssertUnwindSafe(handler.run_batch(&jobs))
                .catch_unwind()
                .await;
            match ran {
                Ok(results) if results.len() == jobs.len() => results,
                Ok(results) => {
                    tracing::warn!(kind = %jobs[0].kind, jobs = jobs.len(), results = results.len(), "batch handler answered the wrong number of results");
                    every(JobError::Retry("batch handler lost results".to_owned()))
                }
                Err(_) => every(JobError::Retry("handler panicked".to_owned())),
            }
        }
    };
    for (job, result) in jobs.iter().zip(results) {
        settle(&shared, &settings, job, result, started).await;
    }
    drop(permits);
}

/// Records what became of one run: completed (in the completer's next
/// batch), retried, delayed or dead.
async fn settle(
    shared: &Shared,
    settings: &KindSettings,
    job: &Job,
    result: Result<(), JobError>,
    started: Instant,
) {
    let now = Utc::now();
    let to_time =
        |d: Duration| now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1));
    let (outcome, label) = match &result {
        Ok(()) => (None, "ok"),
        Err(JobError::Settled(_)) => (None, "settled"),
        Err(JobError::Delay(wait, reason)) => {
            (Some(Outcome::DelayUntil(to_time(*wait), reason)), "delayed")
        }
        Err(JobError::Fatal(error)) => (Some(Outcome::Dead(error)), "dead"),
        Err(JobError::Retry(error)) | Err(JobError::RetryAfter(_, error))
            if job.attempt >= job.max_attempts =>
        {
            (Some(Outcome::Dead(error)), "dead")
        }
        Err(JobError::Retry(error)) => (
            Some(Outcome::RetryAt(
                to_time(retry_delay(settings, job.attempt)),
                error,
            )),
            "retry",
        ),
        Err(JobError::RetryAfter(wait, error)) => {
            let delay = retry_delay(settings, job.attempt).max(*wait);
            (Some(Outcome::RetryAt(to_time(delay), error)), "retry")
        }
    };
    match outcome {
        None => {
            if let Err(err) = &result {
                tracing::info!(kind = %job.kind, job = job.id, error = %err, "job settled: nothing to retry");
            }
            let _ = shared.completions.send(job.id);
        }
        Some(outcome) => {
            if let Err(err) = &result {
                tracing::warn!(
                    kind = %job.kind, job = job.id, attempt = job.attempt,
                    outcome = label, error = %err, "job did not succeed"
                );
            }
            if let Err(err) =
                store::finish_unsuccessfully(&shared.db, job.id, &shared.worker_id, outcome, now)
                    .await
            {
                tracing::warn!(job = job.id, error = %err, "could not record job failure; its lease will expire");
            }
        }
    }
    if let Some(metrics) = &shared.metrics {
        metrics.run(&job.kind, label);
    }
    tracing::debug!(kind = %job.kind, job = job.id, outcome = label, elapsed_ms = started.elapsed().as_millis() as u64, "job ran");
    shared.in_flight.lock().remove(&job.id);
}

fn circuit_gate(shared: &Shared, settings: &KindSettings) -> Option<Duration> {
    let provider = settings.provider.as_deref()?;
    (shared.gate.as_ref()?)(provider)
}

async fn completer(shared: Arc<Shared>, mut completed: mpsc::UnboundedReceiver<i64>) {
    // the pool's own sender lives in `shared`; the channel closes when the
    // last `Shared` is dropped at shutdown
    let db = shared.db.clone();
    let worker = shared.worker_id.clone();
    drop(shared);
    while let Some(first) = completed.recv().await {
        let mut ids = vec![first];
        while ids.len() < 512 {
            match completed.try_recv() {
                Ok(id) => ids.push(id),
                Err(_) => break,
            }
        }
        for attempt in 0..3u32 {
            match store::complete(&db, &ids, &worker, Utc::now()).await {
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(jobs = ids.len(), error = %err, "could not complete jobs");
                    tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
                }
            }
        }
    }
}

async fn reaper(shared: Arc<Shared>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        match store::reap_expired(&shared.db, Utc::now()).await {
            Ok((0, 0)) => {}
            Ok((requeued, dead)) => tracing::info!(requeued, dead, "reaped jobs of lost workers"),
            Err(err) => tracing::warn!(error = %err, "reaping failed"),
        }
    }
}

async fn stats(shared: Arc<Shared>, every: Duration, mut stop: watch::Receiver<bool>) {
    let Some(metrics) = shared.metrics.clone() else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = Utc::now();
        match store::stats(&shared.db, now).await {
            Ok((counts, oldest)) => {
                let per_kind: Vec<_> = counts
                    .into_iter()
                    .map(|c| (c.kind, c.pending, c.dead))
                    .collect();
                let lag = oldest
                    .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
                    .unwrap_or(0.0);
                metrics.set_queue(&per_kind, lag);
            }
            Err(err) => tracing::warn!(error = %err, "queue stats failed"),
        }
    }
}
