//! Configuration of the outbound client: defaults plus per-provider overrides.
//!
//! Every duration is a plain field so tests can shrink it to milliseconds.

use std::{collections::HashMap, time::Duration};

/// Settings of the outbound client as a whole, with one [`ProviderPolicy`] per provider.
#[derive(Clone, Debug)]
pub struct OutboundConfig {
    /// Time allowed to open a TCP (and TLS) connection; shared by all providers
    /// because there is one pooled `reqwest::Client`.
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// `User-Agent` sent with every request.
    pub user_agent: String,
    /// Policy of every provider without its own entry in `providers`.
    pub defaults: ProviderPolicy,
    /// Complete policies of providers that differ from `defaults`, by provider name.
    pub providers: HashMap<String, ProviderPolicy>,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(90),
            user_agent: concat!("nextke-integrations/", env!("CARGO_PKG_VERSION")).to_owned(),
            defaults: ProviderPolicy::default(),
            providers: HashMap::new(),
        }
    }
}

impl OutboundConfig {
    /// The policy that applies to `provider`.
    pub fn policy(&self, provider: &str) -> &ProviderPolicy {
        self.providers.get(provider).unwrap_or(&self.defaults)
    }

    /// Overrides `provider`'s policy, starting from the current defaults.
    ///
    /// ```
    /// # use nextke_integrations::providers::http::OutboundConfig;
    /// let config = OutboundConfig::default().with_provider("lever", |p| {
    ///     p.budget.requests = 10;
    ///     p.budget.burst = 20;
    /// });
    /// assert_eq!(config.policy("lever").budget.burst, 20);
    /// ```
    pub fn with_provider(mut self, provider: &str, edit: impl FnOnce(&mut ProviderPolicy)) -> Self {
        let mut policy = self
            .providers
            .get(provider)
            .cloned()
            .unwrap_or_else(|| self.defaults.clone());
        edit(&mut policy);
        self.providers.insert(provider.to_owned(), policy);
        self
    }
}

/// How calls to one provider are timed, retried, limited and cut off.
#[derive(Clone, Debug)]
pub struct ProviderPolicy {
    /// Time allowed for one attempt, from sending to the last body byte
    /// (used unless the request builder set its own timeout).
    pub request_timeout: Duration,
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// Circuit breaker thresholds.
    pub breaker: BreakerConfig,
    /// Rate budget per credential.
    pub budget: BudgetConfig,
}

impl Default for ProviderPolicy {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            budget: BudgetConfig::default(),
        }
    }
}

/// When and how long to wait before trying a call again.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff ceiling of the first retry; doubles with every further retry.
    pub base_backoff: Duration,
    /// Upper bound of any backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` the client waits for in-line; a longer one ends
    /// the call with a retryable error carrying the delay, for a background job.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// Thresholds of a provider's circuit breaker.
#[derive(Clone, Debug)]
pub struct BreakerConfig {
    /// Sliding window over which outcomes are counted.
    pub window: Duration,
    /// Calls needed in the window before the failure rate is judged.
    pub min_calls: u32,
    /// Failure rate (0.0 to 1.0) at or above which the circuit opens.
    pub failure_rate: f64,
    /// How long the circuit stays open before letting probes through.
    pub open_duration: Duration,
    /// Calls let through at the same time while half-open.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            min_calls: 20,
            failure_rate: 0.5,
            open_duration: Duration::from_secs(30),
            half_open_probes: 1,
        }
    }
}

/// A provider's rate budget, applied per credential key.
#[derive(Clone, Debug)]
pub struct BudgetConfig {
    /// Requests allowed per `per` in the long run.
    pub requests: u32,
    /// The period `requests` refers to.
    pub per: Duration,
    /// Requests allowed back to back when the budget is full.
    pub burst: u32,
    /// How long a call may wait for capacity before failing `RateLimited`.
    pub max_wait: Duration,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            requests: 10,
            per: Duration::from_secs(1),
            burst: 20,
            max_wait: Duration::from_secs(5),
        }
    }
}
