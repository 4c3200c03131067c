//! A circuit breaker for one provider.
//!
//! Closed, it counts call outcomes in a sliding time window and opens when at
//! least `min_calls` were made and the share of failures reaches the threshold.
//! Open, it refuses calls until `open_duration` has passed. Half-open, it lets
//! up to `half_open_probes` calls through at once: a probe success closes it, a
//! probe failure opens it again.
//!
//! Every method takes the current [`Instant`], so tests drive the clock.
//! A [`Permit`] dropped without a recorded outcome (a cancelled call) gives its
//! probe slot back.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use parking_lot::Mutex;
use tokio::time::Instant;

use super::config::BreakerConfig;

/// Outcomes kept per window at most; beyond that the oldest are dropped,
/// which only makes the window shorter under very high call rates.
const MAX_SAMPLES: usize = 10_000;

/// The state of a provider's circuit, as reported to callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls fail fast until `until`.
    Open {
        /// When the circuit becomes half-open.
        until: Instant,
    },
    /// A limited number of probe calls are let through.
    HalfOpen,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32 },
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Bumped at every phase change, so late outcomes of an older phase are ignored.
    generation: u64,
    /// `(when, failed)` of calls finished while closed, oldest first.
    samples: VecDeque<(Instant, bool)>,
}

/// A circuit breaker; cheap to share behind an [`Arc`].
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

/// Leave to make one call, to be settled with [`Permit::record`].
#[derive(Debug)]
pub struct Permit {
    breaker: Arc<Breaker>,
    generation: u64,
    probe: bool,
    settled: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State {
                phase: Phase::Closed,
                generation: 0,
                samples: VecDeque::new(),
            }),
        }
    }

    /// The state at `now` (an open circuit past its time reports half-open).
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.state.lock().phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if now < until => BreakerState::Open { until },
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Asks leave to call at `now`; `Err` holds how long until it is worth asking again.
    pub fn acquire(self: &Arc<Self>, now: Instant) -> Result<Permit, Duration> {
        let mut state = self.state.lock();
        if let Phase::Open { until } = state.phase {
            if now < until {
                return Err(until - now);
            }
            state.phase = Phase::HalfOpen { in_flight: 0 };
            state.generation += 1;
        }
        let probe = match &mut state.phase {
            Phase::Closed => false,
            Phase::HalfOpen { in_flight } if *in_flight < self.config.half_open_probes.max(1) => {
                *in_flight += 1;
                true
            }
            // probes are out; their verdict is expected soon
            _ => return Err(self.config.open_duration.min(Duration::from_secs(1))),
        };
        Ok(Permit {
            breaker: Arc::clone(self),
            generation: state.generation,
            probe,
            settled: false,
        })
    }

    fn settle(&self, generation: u64, probe: bool, outcome: Option<bool>, now: Instant) {
        let mut state = self.state.lock();
        if state.generation != generation {
            return;
        }
        match (&mut state.phase, outcome) {
            (Phase::Closed, Some(failed)) => {
                state.samples.push_back((now, failed));
                if state.samples.len() > MAX_SAMPLES {
                    state.samples.pop_front();
                }
                self.evaluate(&mut state, now);
            }
            (Phase::HalfOpen { in_flight }, outcome) if probe => {
                *in_flight = in_flight.saturating_sub(1);
                match outcome {
                    Some(false) => Self::transition(&mut state, Phase::Closed),
                    Some(true) => {
                        let until = now + self.config.open_duration;
                        Self::transition(&mut state, Phase::Open { until });
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    fn evaluate(&self, state: &mut State, now: Instant) {
        let horizon = now.checked_sub(self.config.window);
        while let Some((at, _)) = state.samples.front() {
            match horizon {
                Some(h) if *at < h => {
                    state.samples.pop_front();
                }
                _ => break,
            }
        }
        let calls = state.samples.len();
        if calls == 0 || calls < self.config.min_calls as usize {
            return;
        }
        let failures = state.samples.iter().filter(|(_, failed)| *failed).count();
        if failures as f64 / calls as f64 >= self.config.failure_rate {
            let until = now + self.config.open_duration;
            Self::transition(state, Phase::Open { until });
        }
    }

    fn transition(state: &mut State, phase: Phase) {
        tracing::debug!(from = ?state.phase, to = ?phase, "circuit breaker transition");
        state.phase = phase;
        state.generation += 1;
        state.samples.clear();
    }
}

impl Permit {
    /// Records the call's outcome at `now`: `failed` for 5xx, timeouts and
    /// connection errors; any other answer is a success for the breaker.
    pub fn record(mut self, failed: bool, now: Instant) {
        self.settled = true;
        self.breaker
            .settle(self.generation, self.probe, Some(failed), now);
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker
                .settle(self.generation, self.probe, None, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Arc<Breaker> {
        Arc::new(Breaker::new(BreakerConfig {
            window: Duration::from_secs(10),
            min_calls: 4,
            failure_rate: 0.5,
            open_duration: Duration::from_secs(5),
            half_open_probes: 1,
        }))
    }

    fn call(b: &Arc<Breaker>, failed: bool, now: Instant) {
        b.acquire(now).unwrap().record(failed, now);
    }

    #[test]
    fn opens_only_after_min_calls_and_threshold() {
        let b = breaker();
        let t = Instant::now();
        call(&b, true, t);
        call(&b, true, t);
        call(&b, false, t);
        assert_eq!(b.state(t), BreakerState::Closed, "below min_calls");
        call(&b, false, t);
        // 2 of 4 failed = 50 % >= threshold
        assert!(matches!(b.state(t), BreakerState::Open { .. }));
        assert_eq!(b.acquire(t).unwrap_err(), Duration::from_secs(5));
    }

    #[test]
    fn stays_closed_below_threshold_and_forgets_old_outcomes() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            call(&b, true, t);
        }
        // the three failures slide out of the window
        let later = t + Duration::from_secs(11);
        for _ in 0..4 {
            call(&b, false, later);
        }
        call(&b, true, later);
        assert_eq!(b.state(later), BreakerState::Closed);
    }

    #[test]
    fn half_open_probe_success_closes() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..4 {
            call(&b, true, t);
        }
        let t1 = t + Duration::from_secs(5);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        let probe = b.acquire(t1).unwrap();
        assert!(probe.is_probe());
        assert!(b.acquire(t1).is_err(), "one probe at a time");
        probe.record(false, t1);
        assert_eq!(b.state(t1), BreakerState::Closed);
        assert!(!b.acquire(t1).unwrap().is_probe());
    }

    #[test]
    fn half_open_probe_failure_reopens() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..4 {
            call(&b, true, t);
        }
        let t1 = t + Duration::from_secs(6);
        b.acquire(t1).unwrap().record(true, t1);
        assert_eq!(
            b.state(t1),
            BreakerState::Open {
                until: t1 + Duration::from_secs(5)
            }
        );
    }

    #[test]
    fn dropped_probe_frees_its_slot() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..4 {
            call(&b, true, t);
        }
        let t1 = t + Duration::from_secs(5);
        drop(b.acquire(t1).unwrap());
        assert!(b.acquire(t1).unwrap().is_probe());
    }

    #[test]
    fn late_outcomes_of_an_older_phase_are_ignored() {
        let b = breaker();
        let t = Instant::now();
        let early = b.acquire(t).unwrap();
        for _ in 0..4 {
            call(&b, true, t);
        }
        let t1 = t + Duration::from_secs(5);
        let probe = b.acquire(t1).unwrap();
        early.record(false, t1);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        probe.record(false, t1);
        assert_eq!(b.state(t1), BreakerState::Closed);
    }
}
