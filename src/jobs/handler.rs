//! What a job kind implements, and how its failures are classified.

use std::time::Duration;

use crate::error::{AppError, JobOutcome};

/// A claimed job, as its handler sees it.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// When it is due; later than now only for a kind with a
    /// [`KindSettings::lead`](super::KindSettings::lead).
    pub run_at: chrono::DateTime<chrono::Utc>,
    /// 1 on the first run.
    pub attempt: i32,
    pub max_attempts: i32,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    /// Becomes `true` when the pool shuts down: a handler waiting for its
    /// job's instant gives the job back
    /// ([`JobError::Delay`] to its `run_at`) rather than hold the shutdown.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl Job {
    /// The payload as a typed value.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.payload.clone())
            .map_err(|err| JobError::Fatal(format!("bad payload for {}: {err}", self.kind)))
    }
}

/// Why a run did not succeed, and what to do about it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt after the kind's backoff.
    #[error("{0}")]
    Retry(String),
    /// Worth another attempt, not before this long.
    #[error("{1}")]
    RetryAfter(Duration, String),
    /// The provider is unavailable (circuit open, rate budget spent): run
    /// again after this long without spending an attempt.
    #[error("{1}")]
    Delay(Duration, String),
    /// Retrying cannot help: the job is dead at once.
    #[error("{0}")]
    Fatal(String),
    /// Nothing to retry and nothing wrong with the job (the connection was
    /// disconnected or needs its owner to reconnect, the integration is off):
    /// the handler recorded it where the owner sees it, and the job completes.
    #[error("{0}")]
    Settled(String),
}

impl From<AppError> for JobError {
    /// The job half of the one table ([`AppError::answer`]).
    fn from(err: AppError) -> Self {
        let outcome = err.answer().job;
        // `last_error` is secret-free: an internal error shows its outer context only
        let message = err.to_string();
        match outcome {
            JobOutcome::Retry { after: None } => JobError::Retry(message),
            JobOutcome::Retry { after: Some(wait) } => JobError::RetryAfter(wait, message),
            JobOutcome::Delay(wait) => JobError::Delay(wait, message),
            JobOutcome::Settled => JobError::Settled(message),
            JobOutcome::Fatal => JobError::Fatal(message),
        }
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(err: sea_orm::DbErr) -> Self {
        JobError::Retry(format!("database: {err}"))
    }
}

/// The code of one job kind. Handlers must be idempotent: a job whose worker
/// died runs again.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one job.
    async fn run(&self, job: &Job) -> Result<(), JobError>;

    /// Runs the jobs of one claim together (kinds with
    /// [`KindSettings::batch`](super::KindSettings::batch)): one result per
    /// job, in order. A handler overrides it to share its reads and writes
    /// over the batch; the default runs the jobs one by one, concurrently.
    async fn run_batch(&self, jobs: &[Job]) -> Vec<Result<(), JobError>> {
        futures::future::join_all(jobs.iter().map(|job| self.run(job))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FailureKind;

    #[test]
    fn app_errors_become_job_outcomes() {
        let secs = Duration::from_secs;
        let provider = |kind| AppError::provider("linkedin", kind, "detail");
        let until = chrono::Utc::now() + chrono::Duration::seconds(60);
        match JobError::from(provider(FailureKind::RateLimited { until })) {
            JobError::Delay(wait, message) => {
                assert!(wait > secs(55) && wait <= secs(60), "{wait:?}");
                assert!(message.contains("rate limit reached"), "{message}");
            }
            other => panic!("rate-limited is delayed: {other:?}"),
        }
        assert!(matches!(
            JobError::from(provider(FailureKind::CircuitOpen { retry_in: secs(5) })),
            JobError::Delay(wait, _) if wait == secs(5)
        ));
        assert!(matches!(
            JobError::from(provider(FailureKind::Retry { after: Some(secs(3)) })),
            JobError::RetryAfter(wait, _) if wait == secs(3)
        ));
        assert!(matches!(
            JobError::from(provider(FailureKind::Retry { after: None })),
            JobError::Retry(_)
        ));
        assert!(matches!(
            JobError::from(provider(FailureKind::Reauth)),
            JobError::Settled(_)
        ));
        assert!(matches!(
            JobError::from(provider(FailureKind::Permanent)),
            JobError::Fatal(_)
        ));
        assert!(matches!(
            JobError::from(AppError::FailedPrecondition("off".into())),
            JobError::Settled(_)
        ));
        match JobError::from(AppError::Internal(
            anyhow::anyhow!("inner").context("database error"),
        )) {
            JobError::Retry(message) => assert_eq!(message, "database error"),
            other => panic!("internal errors retry: {other:?}"),
        }
    }
}
