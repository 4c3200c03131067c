//! The findings of `bench jobs`: a table for people and one JSON line for tools.

use std::time::Duration;

use serde_json::json;

use super::jobs::JobsArgs;

/// Least engine/baseline jobs-per-second ratio.
pub const MIN_RATIO: f64 = 0.70;
/// Least engine no-op jobs per second.
pub const MIN_ENGINE_JPS: f64 = 5_000.0;
/// Largest p99 lag of due jobs, before and while the prune runs, in ms.
pub const MAX_LAG_P99_MS: f64 = 100.0;

/// One throughput run.
#[derive(Clone, Debug)]
pub struct ThroughputRun {
    /// Jobs queued.
    pub jobs: u64,
    /// From the first claim until the last completion was written.
    pub elapsed: Duration,
    /// Jobs completed at the end (must equal `jobs`).
    pub completed: u64,
    /// Jobs that took more than one attempt (must be 0).
    pub repeated: u64,
}

impl ThroughputRun {
    /// A run of `jobs` that took `elapsed`.
    pub fn new(jobs: u64, elapsed: Duration, completed: u64, repeated: u64) -> Self {
        Self {
            jobs,
            elapsed,
            completed,
            repeated,
        }
    }

    /// Completed jobs per second.
    pub fn jps(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn sound(&self) -> bool {
        self.completed == self.jobs && self.repeated == 0
    }
}

/// Lag samples of one phase, sorted, in ms.
#[derive(Clone, Debug, Default)]
pub struct Lags(Vec<f64>);

impl Lags {
    /// Sorts the samples.
    pub fn new(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Self(samples)
    }

    /// Samples taken.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The `q` quantile (nearest rank), 0 without samples.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = (q * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }
}

/// The lag run on the large table.
#[derive(Clone, Debug)]
pub struct LagRun {
    /// Rows seeded.
    pub table_rows: u64,
    /// How long seeding (insert and vacuum) took.
    pub seed_secs: f64,
    /// Completed rows older than the retention before the prune.
    pub prunable: u64,
    /// Rows the prune deleted.
    pub pruned: u64,
    /// How long the prune took.
    pub prune_secs: f64,
    /// Due jobs enqueued during the run.
    pub enqueued: u64,
    /// Lag of jobs due before the prune started.
    pub before: Lags,
    /// Lag of jobs due while the prune ran.
    pub during: Lags,
    /// How long enqueueing (insert and commit) took before the prune.
    pub enqueue_before: Lags,
    /// How long enqueueing took while the prune ran.
    pub enqueue_during: Lags,
}

/// Everything one `bench jobs` run found.
#[derive(Clone, Debug)]
pub struct JobsReport {
    setup: String,
    lag_setup: String,
    /// (name, run), in order.
    runs: Vec<(String, ThroughputRun)>,
    best_baseline: f64,
    best_engine: f64,
    /// The lag run, unless skipped.
    pub lag: Option<LagRun>,
}

impl JobsReport {
    /// An empty report of a run with these settings.
    pub fn new(args: &JobsArgs) -> Self {
        Self {
            setup: format!(
                "{} no-op jobs per run, {} connections, claim batch {}, baseline {} claim+complete loops, \
                 engine concurrency {} polling every {} ms, best of {} rounds",
                args.jobs,
                args.connections,
                args.claim_batch,
                args.baseline_loops,
                args.concurrency,
                args.poll_ms,
                args.rounds.max(1)
            ),
            lag_setup: format!(
                "{} rows, {:.0} due jobs/s, engine polling every {} ms, {:.1} s before the prune",
                args.table_rows, args.lag_rate, args.lag_poll_ms, args.lag_before
            ),
            runs: Vec::new(),
            best_baseline: 0.0,
            best_engine: 0.0,
            lag: None,
        }
    }

    /// Records a baseline run.
    pub fn push_baseline(&mut self, round: usize, run: ThroughputRun) {
        self.best_baseline = self.best_baseline.max(run.jps());
        self.runs
            .push((format!("baseline claim+complete, round {round}"), run));
    }

    /// Records an engine run.
    pub fn push_engine(&mut self, round: usize, run: ThroughputRun) {
        self.best_engine = self.best_engine.max(run.jps());
        self.runs
            .push((format!("engine no-op handler, round {round}"), run));
    }

    fn ratio(&self) -> f64 {
        self.best_engine / self.best_baseline.max(f64::EPSILON)
    }

    fn sound(&self) -> bool {
        self.runs.iter().all(|(_, run)| run.sound())
    }

    /// (ratio, engine rate, lag p99 before and during the prune) met; the
    /// lag fails when it was not measured in both phases.
    fn verdicts(&self) -> (bool, bool, bool) {
        let sound = self.sound();
        let within = |lags: &Lags| lags.count() > 0 && lags.quantile(0.99) < MAX_LAG_P99_MS;
        (
            sound && self.ratio() >= MIN_RATIO,
            sound && self.best_engine >= MIN_ENGINE_JPS,
            self.lag
                .as_ref()
                .is_some_and(|lag| within(&lag.before) && within(&lag.during)),
        )
    }

    /// Prints the table, then the JSON line.
    pub fn print(&self) {
        let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
        println!();
        println!("nextke-integrations bench jobs: {}", self.setup);
        println!();
        println!(
            "{:<44} {:>10} {:>9} {:>10} {:>8}",
            "run", "jobs/s", "seconds", "completed", "repeated"
        );
        for (name, run) in &self.runs {
            println!(
                "{:<44} {:>10.0} {:>9.2} {:>10} {:>8}",
                name,
                run.jps(),
                run.elapsed.as_secs_f64(),
                run.completed,
                run.repeated
            );
        }
        if let Some(lag) = &self.lag {
            println!();
            println!("lag of due jobs: {}", self.lag_setup);
            println!(
                "  seeded in {:.1} s; prune deleted {} of {} old completed rows in {:.2} s; {} jobs enqueued",
                lag.seed_secs, lag.pruned, lag.prunable, lag.prune_secs, lag.enqueued
            );
            println!(
                "{:<44} {:>10} {:>9} {:>9} {:>9}",
                "phase", "jobs", "p50 ms", "p99 ms", "max ms"
            );
            for (name, lags) in [
                ("before the prune", &lag.before),
                ("while the prune runs", &lag.during),
                (
                    "  its enqueue (insert, commit), before",
                    &lag.enqueue_before,
                ),
                (
                    "  its enqueue (insert, commit), during",
                    &lag.enqueue_during,
                ),
            ] {
                println!(
                    "{:<44} {:>10} {:>9.1} {:>9.1} {:>9.1}",
                    name,
                    lags.count(),
                    lags.quantile(0.50),
                    lags.quantile(0.99),
                    lags.quantile(1.0)
                );
            }
        }
        let (ratio_ok, rate_ok, lag_ok) = self.verdicts();
        println!();
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            "target", "measured", "limit", ""
        );
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            "engine / baseline jobs per second",
            format!("{:.2}", self.ratio()),
            format!(">= {MIN_RATIO:.2}"),
            verdict(ratio_ok)
        );
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            "engine no-op jobs per second",
            format!("{:.0}", self.best_engine),
            format!(">= {MIN_ENGINE_JPS:.0}"),
            verdict(rate_ok)
        );
        let lag_p99 = match &self.lag {
            Some(lag) => format!(
                "{:.1} / {:.1} ms",
                lag.before.quantile(0.99),
                lag.during.quantile(0.99)
            ),
            None => "not measured".to_owned(),
        };
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            "p99 lag of due jobs, before / during prune",
            lag_p99,
            format!("< {MAX_LAG_P99_MS:.0} ms"),
            verdict(lag_ok)
        );
        if !self.sound() {
            println!("a run did not complete every job exactly once: see the table");
        }
        println!();
        println!("{}", self.json());
    }

    /// The findings as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        let (ratio_ok, rate_ok, lag_ok) = self.verdicts();
        let round = |x: f64, places: i32| {
            let scale = 10f64.powi(places);
            (x * scale).round() / scale
        };
        let lag = self.lag.as_ref().map(|lag| {
            json!({
                "table_rows": lag.table_rows,
                "enqueued": lag.enqueued,
                "pruned": lag.pruned,
                "prunable": lag.prunable,
                "prune_secs": round(lag.prune_secs, 2),
                "before_p50_ms": round(lag.before.quantile(0.50), 1),
                "before_jobs": lag.before.count(),
                "before_p99_ms": round(lag.before.quantile(0.99), 1),
                "before_max_ms": round(lag.before.quantile(1.0), 1),
                "during_jobs": lag.during.count(),
                "during_p50_ms": round(lag.during.quantile(0.50), 1),
                "during_p99_ms": round(lag.during.quantile(0.99), 1),
                "during_max_ms": round(lag.during.quantile(1.0), 1),
                "enqueue_before_p99_ms": round(lag.enqueue_before.quantile(0.99), 1),
                "enqueue_during_p99_ms": round(lag.enqueue_during.quantile(0.99), 1),
            })
        });
        json!({
            "bench": "nextke-integrations jobs",
            "baseline_jps": round(self.best_baseline, 0),
            "engine_jps": round(self.best_engine, 0),
            "ratio": round(self.ratio(), 3),
            "exactly_once": self.sound(),
            "lag": lag,
            "pass": {
                "ratio": ratio_ok,
                "engine_jps": rate_ok,
                "lag_p99": lag_ok,
                "all": ratio_ok && rate_ok && lag_ok,
            },
        })
    }
}
