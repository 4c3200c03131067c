//! Rate budgets: one `governor` keyed limiter per provider, keyed by credential.
//!
//! A call without a credential key shares the provider's anonymous key. A
//! `429` with `Retry-After` pauses a key until then, so concurrent callers wait
//! instead of hammering the provider. [`Budgets::available`] lets a background
//! job check without sending: the unit it takes is kept as a credit for that
//! key's next call.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use dashmap::DashMap;
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use super::config::BudgetConfig;

/// The key of calls made without a credential.
const ANONYMOUS: &str = "";

/// The rate budgets of one provider.
pub struct ProviderBudget {
    limiter: DefaultKeyedRateLimiter<String>,
    max_wait: Duration,
    /// Keys paused by a provider's `Retry-After`, until the given instant.
    paused: DashMap<String, Instant>,
    /// Units taken by [`ProviderBudget::available`] and not yet spent, with their expiry.
    credits: DashMap<String, (u32, Instant)>,
}

impl std::fmt::Debug for ProviderBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderBudget")
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

/// The quota of a budget configuration: `requests` per `per`, bursts up to `burst`.
fn quota(config: &BudgetConfig) -> Quota {
    let requests = NonZeroU32::new(config.requests.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(config.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let period = (config.per / requests.get()).max(Duration::from_nanos(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(requests))
        .allow_burst(burst)
}

fn key_of(key: Option<&str>) -> String {
    key.unwrap_or(ANONYMOUS).to_owned()
}

impl ProviderBudget {
    /// A full budget for every key.
    pub fn new(config: &BudgetConfig) -> Self {
        Self {
            limiter: RateLimiter::keyed(quota(config)),
            max_wait: config.max_wait,
            paused: DashMap::new(),
            credits: DashMap::new(),
        }
    }

    /// Takes one unit for `key` without sleeping (from its credits first when
    /// `spend_credit`); `Err` holds how long until there is one.
    fn try_take(&self, key: &String, now: Instant, spend_credit: bool) -> Result<(), Duration> {
        if let Some(until) = self.paused.get(key).map(|u| *u) {
            if now < until {
                return Err(until - now);
            }
            self.paused.remove_if(key, |_, u| *u <= now);
        }
        if spend_credit {
            if let Some(mut credit) = self.credits.get_mut(key) {
                let (count, expires) = *credit;
                if count > 0 && now < expires {
                    credit.0 -= 1;
                    return Ok(());
                }
            }
        }
        self.credits
            .remove_if(key, |_, (count, expires)| *count == 0 || *expires <= now);
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Waits for one unit of `key`'s budget, up to the configured maximum wait;
    /// `Err` holds how long until capacity is expected.
    pub async fn acquire(&self, key: Option<&str>) -> Result<Duration, Duration> {
        let key = key_of(key);
        let start = Instant::now();
        let deadline = start + self.max_wait;
        loop {
            let now = Instant::now();
            match self.try_take(&key, now, true) {
                Ok(()) => return Ok(now - start),
                Err(wait) if now + wait > deadline => return Err(wait),
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Takes one unit now if there is one, keeping it as a credit for `key`'s
    /// next call; `Err` holds how long until there is.
    pub fn available(&self, key: Option<&str>) -> Result<(), Duration> {
        let key = key_of(key);
        let now = Instant::now();
        self.try_take(&key, now, false)?;
        let expires = now + self.max_wait.max(Duration::from_secs(1));
        self.credits
            .entry(key)
            .and_modify(|c| *c = (c.0 + 1, expires))
            .or_insert((1, expires));
        Ok(())
    }

    /// Pauses `key` for `delay` (a provider's `Retry-After`); a longer pause in place wins.
    pub fn pause(&self, key: Option<&str>, delay: Duration) {
        let until = Instant::now() + delay.min(Duration::from_secs(24 * 3600));
        self.paused
            .entry(key_of(key))
            .and_modify(|u| *u = (*u).max(until))
            .or_insert(until);
    }
}

/// The budgets of every provider, created on first use.
#[derive(Clone, Debug, Default)]
pub struct Budgets {
    providers: Arc<DashMap<String, Arc<ProviderBudget>>>,
}

impl Budgets {
    /// `provider`'s budget, created from `config` on first use.
    pub fn provider(&self, provider: &str, config: &BudgetConfig) -> Arc<ProviderBudget> {
        if let Some(budget) = self.providers.get(provider) {
            return Arc::clone(&budget);
        }
        Arc::clone(
            &self
                .providers
                .entry(provider.to_owned())
                .or_insert_with(|| Arc::new(ProviderBudget::new(config))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(requests: u32, burst: u32, max_wait_ms: u64) -> BudgetConfig {
        BudgetConfig {
            requests,
            per: Duration::from_secs(1),
            burst,
            max_wait: Duration::from_millis(max_wait_ms),
        }
    }

    #[tokio::test]
    async fn bursts_then_paces() {
        let budget = ProviderBudget::new(&config(20, 2, 1000));
        let start = Instant::now();
        for _ in 0..6 {
            budget.acquire(Some("a")).await.unwrap();
        }
        // 2 at once, then 4 more at 50 ms each
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(180), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");
    }

    #[tokio::test]
    async fn keys_are_independent_and_waits_are_bounded() {
        let budget = ProviderBudget::new(&config(1, 1, 10));
        budget.acquire(Some("a")).await.unwrap();
        let retry_in = budget.acquire(Some("a")).await.unwrap_err();
        assert!(retry_in > Duration::from_millis(900));
        budget.acquire(Some("b")).await.unwrap();
        budget.acquire(None).await.unwrap();
    }

    #[tokio::test]
    async fn available_keeps_a_credit_for_the_next_call() {
        let budget = ProviderBudget::new(&config(1, 1, 10));
        budget.available(Some("a")).unwrap();
        assert!(budget.available(Some("a")).is_err());
        // the unit taken by the check is spent by the call itself
        budget.acquire(Some("a")).await.unwrap();
        assert!(budget.acquire(Some("a")).await.is_err());
    }

    #[tokio::test]
    async fn pause_holds_callers() {
        let budget = ProviderBudget::new(&config(100, 100, 1000));
        budget.pause(Some("a"), Duration::from_millis(150));
        assert!(budget.available(Some("a")).unwrap_err() > Duration::from_millis(100));
        budget.available(Some("b")).unwrap();
        let start = Instant::now();
        budget.acquire(Some("a")).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(140));
    }
}
