//! Enqueueing jobs, on a connection or inside the caller's transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

use crate::store::jobs::{self, NewJobRow};

/// Attempts a job gets unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    kind: String,
    payload: serde_json::Value,
    unique_key: Option<String>,
    priority: i32,
    run_at: DateTime<Utc>,
    max_attempts: i32,
    user_id: Option<String>,
    organization_id: Option<String>,
}

impl NewJob {
    /// A job of `kind` with a JSON payload, due now. Never put a secret in a
    /// payload: store it sealed and pass its row id.
    pub fn new(kind: impl Into<String>, payload: impl Serialize) -> Self {
        Self {
            kind: kind.into(),
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
            unique_key: None,
            priority: 0,
            run_at: Utc::now(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            user_id: None,
            organization_id: None,
        }
    }

    /// While a pending job has this key, enqueueing another is a no-op.
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    /// Higher runs first among due jobs of the kind.
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Not before `at`.
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = at;
        self
    }

    /// Not before `delay` from now.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.run_at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        self
    }

    /// Attempts before the job is kept as dead.
    pub fn max_attempts(mut self, attempts: i32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The user the work is for.
    pub fn for_user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// The organization the work is for (its admins may see it failed).
    pub fn for_organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization_id = Some(organization_id.into());
        self
    }

    /// The kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }
}

impl From<NewJob> for NewJobRow {
    fn from(job: NewJob) -> Self {
        NewJobRow {
            kind: job.kind,
            payload: job.payload,
            unique_key: job.unique_key,
            priority: job.priority,
            run_at: job.run_at,
            max_attempts: job.max_attempts,
            user_id: job.user_id,
            organization_id: job.organization_id,
        }
    }
}

/// Enqueues many jobs in one statement (inside the caller's transaction when
/// given one); jobs whose unique key is pending already are skipped. Returns
/// how many were enqueued.
pub async fn enqueue_many(db: &impl ConnectionTrait, jobs: Vec<NewJob>) -> Result<u64, DbErr> {
    jobs::insert_many(db, jobs.into_iter().map(NewJobRow::from).collect()).await
}

/// Enqueues `job` on `db`, which may be the transaction of the domain change
/// the job follows (so both commit or neither does). Returns the job id, or
/// `None` when a pending job with the same unique key already exists.
pub async fn enqueue(db: &impl ConnectionTrait, job: NewJob) -> Result<Option<i64>, DbErr> {
    jobs::insert(db, job.into()).await
}
