//! Queue metrics: depth, lag, runs, failures and dead jobs per kind.

use std::sync::atomic::AtomicU64;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
};

use crate::metrics::{Label, Metrics};

/// Labels of a per-kind series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// The job kind (a registered handler's name).
    pub kind: Label,
}

/// Labels of a run outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    /// The job kind (a registered handler's name).
    pub kind: Label,
    /// `ok`, `settled`, `retry`, `delayed`, `dead`, `panic`.
    pub outcome: String,
}

/// The job families, registered in the application's metrics.
#[derive(Clone)]
pub struct JobMetrics {
    runs: Family<RunLabels, Counter>,
    depth: Family<KindLabels, Gauge>,
    dead: Family<KindLabels, Gauge>,
    lag_seconds: Gauge<f64, AtomicU64>,
}

impl JobMetrics {
    /// Registers the job families in `metrics`.
    pub fn new(metrics: &Metrics) -> Self {
        let this = Self {
            runs: Family::default(),
            depth: Family::default(),
            dead: Family::default(),
            lag_seconds: Gauge::default(),
        };
        metrics.with_registry(|registry| {
            registry.register(
                "job_runs",
                "Job runs by kind and outcome (retry, delayed, dead count as failures)",
                this.runs.clone(),
            );
            registry.register(
                "job_queue_depth",
                "Pending jobs per kind",
                this.depth.clone(),
            );
            registry.register(
                "job_dead",
                "Dead jobs per kind, kept until retried",
                this.dead.clone(),
            );
            registry.register(
                "job_lag_seconds",
                "Now minus the run time of the oldest due pending job",
                this.lag_seconds.clone(),
            );
        });
        this
    }

    /// Counts one run.
    pub fn run(&self, kind: &str, outcome: &str) {
        self.runs
            .get_or_create(&RunLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Sets the gauges from a fresh reading of the table.
    pub fn set_queue(&self, per_kind: &[(String, i64, i64)], lag_seconds: f64) {
        self.depth.clear();
        self.dead.clear();
        for (kind, pending, dead) in per_kind {
            let labels = KindLabels {
                kind: kind.as_str().into(),
            };
            self.depth.get_or_create(&labels).set(*pending);
            self.dead.get_or_create(&labels).set(*dead);
        }
        self.lag_seconds.set(lag_seconds);
    }
}
