//! Job kinds: their handlers and how they run.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use super::JobHandler;

/// How the jobs of one kind are run.
#[derive(Clone, Debug)]
pub struct KindSettings {
    /// Jobs of this kind running at once in one process.
    pub concurrency: usize,
    /// First retry delay; doubles with every attempt (with jitter).
    pub base_backoff: Duration,
    /// Largest retry delay.
    pub max_backoff: Duration,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// A provider whose open circuit delays this kind's jobs before they run.
    pub provider: Option<String>,
    /// Attempts before a job of this kind is kept as dead (`None`: the
    /// job's own, set when it was enqueued).
    pub max_attempts: Option<i32>,
    /// The jobs of one claim run as one batch ([`JobHandler::run_batch`]),
    /// for kinds whose jobs fall due together and share their reads and
    /// writes (reminders). A batch holds its slots until its last job ends.
    pub batch: bool,
    /// Jobs are claimed up to this long before their run time, so that a
    /// kind whose jobs fall due together can read and prepare ahead and act
    /// at the instant ([`Job::run_at`](super::Job::run_at)); the handler
    /// waits for it. A job held early holds its slot.
    pub lead: Duration,
}

impl Default for KindSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            lease: Duration::from_secs(60),
            provider: None,
            max_attempts: None,
            batch: false,
            lead: Duration::ZERO,
        }
    }
}

/// Every kind a worker pool runs.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<String, (KindSettings, Arc<dyn JobHandler>)>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a kind.
    pub fn register(
        &mut self,
        kind: impl Into<String>,
        settings: KindSettings,
        handler: impl JobHandler,
    ) -> &mut Self {
        self.kinds
            .insert(kind.into(), (settings, Arc::new(handler)));
        self
    }

    /// The registered kinds with their settings and handlers.
    pub fn kinds(&self) -> impl Iterator<Item = (&str, &KindSettings, &Arc<dyn JobHandler>)> {
        self.kinds
            .iter()
            .map(|(kind, (settings, handler))| (kind.as_str(), settings, handler))
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}
