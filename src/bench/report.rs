//! The benchmark's findings: a table for people and one JSON line for tools.

use serde_json::json;

use super::load::Outcome;

/// Least real/baseline throughput ratio.
pub const MIN_RATIO: f64 = 0.40;
/// Largest p99 at half the real server's maximum rate, in ms.
pub const MAX_P99_MS: f64 = 5.0;
/// Idle resident memory must stay under this, in MiB.
pub const MAX_IDLE_RSS_MIB: f64 = 40.0;

/// One measured run, summarized.
#[derive(Clone, Debug)]
pub struct Row {
    /// What ran.
    pub name: String,
    /// Successful calls per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th-percentile latency, ms.
    pub p99_ms: f64,
    /// Non-OK answers.
    pub errors: u64,
    /// The first non-OK answer.
    pub first_error: Option<String>,
}

impl Row {
    /// Summarizes a run.
    pub fn new(name: impl Into<String>, outcome: &Outcome) -> Self {
        Self {
            name: name.into(),
            rps: outcome.rps(),
            p50_ms: outcome.quantile_ms(0.50),
            p99_ms: outcome.quantile_ms(0.99),
            errors: outcome.errors,
            first_error: outcome.first_error.clone(),
        }
    }
}

/// Everything one benchmark run found.
#[derive(Clone, Debug)]
pub struct Report {
    /// How the load was shaped, for the heading.
    pub setup: String,
    /// Every run, in order.
    pub rows: Vec<Row>,
    /// Best closed-loop rate of the baseline.
    pub baseline_rps: f64,
    /// Best closed-loop rate of the real server.
    pub real_rps: f64,
    /// The open-loop run of the real server at half its best rate.
    pub real_half: Row,
    /// The rate it was paced at.
    pub half_rate: f64,
    /// Idle resident memory, or why it could not be measured.
    pub idle_rss_mib: Result<f64, String>,
}

impl Report {
    fn ratio(&self) -> f64 {
        self.real_rps / self.baseline_rps.max(f64::EPSILON)
    }

    fn errors(&self) -> u64 {
        self.rows.iter().map(|r| r.errors).sum()
    }

    fn verdicts(&self) -> (bool, bool, bool) {
        (
            self.ratio() >= MIN_RATIO,
            self.real_half.p99_ms <= MAX_P99_MS && self.real_half.errors == 0,
            self.idle_rss_mib
                .as_ref()
                .is_ok_and(|rss| *rss < MAX_IDLE_RSS_MIB),
        )
    }

    /// Prints the table, then the JSON line.
    pub fn print(&self) {
        let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
        println!();
        println!("nextke-integrations bench: {}", self.setup);
        println!();
        println!(
            "{:<44} {:>10} {:>9} {:>9} {:>8}",
            "run", "rps", "p50 ms", "p99 ms", "errors"
        );
        for row in &self.rows {
            println!(
                "{:<44} {:>10.0} {:>9.2} {:>9.2} {:>8}",
                row.name, row.rps, row.p50_ms, row.p99_ms, row.errors
            );
            if let Some(error) = &row.first_error {
                println!("    first error: {error}");
            }
        }
        let (ratio_ok, p99_ok, rss_ok) = self.verdicts();
        let rss = match &self.idle_rss_mib {
            Ok(mib) => format!("{mib:.1} MiB"),
            Err(why) => format!("n/a ({why})"),
        };
        println!();
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            "target", "measured", "limit", ""
        );
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            "real / baseline requests per second",
            format!("{:.2}", self.ratio()),
            format!(">= {MIN_RATIO:.2}"),
            verdict(ratio_ok)
        );
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            format!("p99 at half rate ({:.0}/s)", self.half_rate),
            format!("{:.2} ms", self.real_half.p99_ms),
            format!("<= {MAX_P99_MS} ms"),
            verdict(p99_ok)
        );
        println!(
            "{:<44} {:>16} {:>12} {:>6}",
            "idle server resident memory",
            rss,
            format!("< {MAX_IDLE_RSS_MIB} MiB"),
            verdict(rss_ok)
        );
        println!();
        println!("{}", self.json());
    }

    /// The findings as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        let (ratio_ok, p99_ok, rss_ok) = self.verdicts();
        let round = |x: f64, places: i32| {
            let scale = 10f64.powi(places);
            (x * scale).round() / scale
        };
        json!({
            "bench": "nextke-integrations",
            "baseline_rps": round(self.baseline_rps, 0),
            "real_rps": round(self.real_rps, 0),
            "ratio": round(self.ratio(), 3),
            "half_rate_rps": round(self.half_rate, 0),
            "half_rate_achieved_rps": round(self.real_half.rps, 0),
            "half_rate_p50_ms": round(self.real_half.p50_ms, 3),
            "half_rate_p99_ms": round(self.real_half.p99_ms, 3),
            "idle_rss_mib": self.idle_rss_mib.as_ref().ok().map(|m| round(*m, 1)),
            "errors": self.errors(),
            "pass": {
                "ratio": ratio_ok,
                "p99": p99_ok,
                "idle_rss": rss_ok,
                "all": ratio_ok && p99_ok && rss_ok,
            },
        })
    }
}
