//! The background engine: a durable queue in the database, worker pools that
//! claim from it, and a scheduler that decides when periodic sweeps are due.
//! It knows no job kind: the sweeps live above it (`domain::sweeps`,
//! `domain::linkedin::jobs`) and register their handlers and schedules, and
//! the breaker gate comes in as a [`Gate`] function set at startup.
//!
//! Layout: `queue` (enqueue, also inside a domain transaction: the outbox),
//! `handler` (what a job kind implements and how its errors are classified),
//! `registry` (kinds, their settings and handlers), `worker` (claiming,
//! running, completing, leases, graceful shutdown, the injected gate), `wake`
//! (PostgreSQL notifications that wake a pool when work comes due),
//! `scheduler` (cron ticks, once across replicas), `metrics`.
//!
//! A job runs at least once and, because handlers are idempotent, takes effect
//! once: a worker that dies loses its lease and the job runs again; a finished
//! job is completed only by the worker still holding its lease.

mod handler;
mod metrics;
mod queue;
mod registry;
mod scheduler;
mod wake;
mod worker;

pub use self::{
    handler::{Job, JobError, JobHandler},
    metrics::JobMetrics,
    queue::{enqueue, enqueue_many, NewJob},
    registry::{KindSettings, Registry},
    scheduler::{fire, start_scheduler, tick_of, Schedule, SchedulerHandle},
    worker::{new_worker_id, retry_delay, Gate, WorkerConfig, WorkerPool},
};
