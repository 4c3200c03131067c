//! [`OutboundHttp`]: sends one provider call through the breaker, the rate
//! budget and the retry loop, recording every attempt in the metrics.

use std::{sync::Arc, time::Duration};

use dashmap::DashMap;
use reqwest::{RequestBuilder, StatusCode};
use tokio::time::Instant;

use super::{
    breaker::{Breaker, BreakerState},
    budget::{Budgets, ProviderBudget},
    call::{ProviderCall, ProviderResponse},
    config::{OutboundConfig, ProviderPolicy},
    error::{classify_status, transport_kind, ProviderError, TransportKind},
    redact::{redact_known, secrets_of_request},
    retry::{backoff, retry_after_header},
};
use crate::metrics::Metrics;

/// The outbound HTTP client shared by every provider integration; cloning is cheap.
#[derive(Clone)]
pub struct OutboundHttp {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: OutboundConfig,
    metrics: Metrics,
    breakers: DashMap<String, Arc<Breaker>>,
    budgets: Budgets,
}

impl std::fmt::Debug for OutboundHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundHttp")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A successful attempt: status, headers, body.
type Answer = (StatusCode, reqwest::header::HeaderMap, bytes::Bytes);

impl OutboundHttp {
    /// Builds the pooled client; fails only if the TLS backend cannot start.
    pub fn new(config: OutboundConfig, metrics: Metrics) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(config.pool_idle_timeout)
            .user_agent(config.user_agent.clone())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                config,
                metrics,
                breakers: DashMap::new(),
                budgets: Budgets::default(),
            }),
        })
    }

    /// The pooled client, to make the request builders handed to [`Self::send`].
    pub fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// The configuration in force.
    pub fn config(&self) -> &OutboundConfig {
        &self.inner.config
    }

    /// The state of `provider`'s circuit.
    pub fn breaker_state(&self, provider: &str) -> BreakerState {
        self.breaker(provider).state(Instant::now())
    }

    /// How long `provider`'s circuit stays open (at least a second), or `None`
    /// when calls may flow: the gate a worker pool asks before running a job
    /// that calls `provider`.
    pub fn circuit_wait(&self, provider: &str) -> Option<Duration> {
        match self.breaker_state(provider) {
            BreakerState::Open { until } => Some(
                until
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_secs(1)),
            ),
            _ => None,
        }
    }

    /// Whether `provider` has budget for `credential_key` right now, for a
    /// background job deciding whether to run or reschedule. `Ok` takes one
    /// unit, which that key's next [`Self::send`] spends instead of a new one;
    /// `Err` holds how long until capacity is expected.
    pub fn budget_available(
        &self,
        provider: &str,
        credential_key: Option<&str>,
    ) -> Result<(), Duration> {
        self.budget(provider).available(credential_key)
    }

    /// Pauses `provider`'s budget for `key` for `delay`: a provider that
    /// announces its remaining budget (Greenhouse's `X-RateLimit-Remaining`)
    /// is not sent more once it said none is left.
    pub fn pause_budget(&self, provider: &str, key: Option<&str>, delay: Duration) {
        self.budget(provider).pause(key, delay);
    }

    /// Sends a call, rebuilding the request with `build` for every attempt, and
    /// retrying retryable outcomes with full-jitter backoff and `Retry-After`.
    ///
    /// An answer with status 400 or more is an error, classified once; the
    /// request builder's own timeout, if set, wins over the provider's.
    pub async fn send<F>(
        &self,
        call: ProviderCall<'_>,
        mut build: F,
    ) -> Result<ProviderResponse, ProviderError>
    where
        F: FnMut() -> RequestBuilder,
    {
        let policy = self.inner.config.policy(call.provider);
        let breaker = self.breaker(call.provider);
        let budget = self.budget(call.provider);
        let max_attempts = policy.retry.max_attempts.max(1);
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let attempt_started = Instant::now();
            let result = self
                .attempt(&call, policy, &breaker, &budget, &mut build)
                .await;
            let outcome = match &result {
                Ok(_) => "ok",
                Err(err) => err.outcome(),
            };
            self.inner.metrics.record_provider_call(
                call.provider,
                call.operation,
                outcome,
                attempt_started.elapsed(),
            );
            let err = match result {
                Ok((status, headers, body)) => {
                    return Ok(ProviderResponse {
                        status,
                        headers,
                        body,
                        attempts: attempt,
                        elapsed: started.elapsed(),
                    })
                }
                Err(err) => err,
            };
            if !may_retry(&call, &err) {
                return Err(err);
            }
            let retry_after = err.retry_after();
            if let Some(delay) = retry_after.filter(|d| *d > policy.retry.max_retry_after) {
                tracing::warn!(
                    provider = call.provider,
                    operation = call.operation,
                    attempt,
                    status = err.status(),
                    wait_ms = millis(delay),
                    "provider asks to wait longer than allowed, giving up"
                );
                return Err(err);
            }
            if attempt >= max_attempts {
                if attempt == 1 {
                    return Err(err);
                }
                tracing::warn!(
                    provider = call.provider,
                    operation = call.operation,
                    attempt,
                    status = err.status(),
                    "provider call failed after all attempts"
                );
                return Err(ProviderError::Exhausted {
                    attempts: attempt,
                    last: Box::new(err),
                });
            }
            let wait = backoff(&policy.retry, attempt - 1).max(retry_after.unwrap_or_default());
            tracing::debug!(
                provider = call.provider,
                operation = call.operation,
                attempt,
                status = err.status(),
                outcome = err.outcome(),
                wait_ms = millis(wait),
                "retrying provider call"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: breaker, budget, request, classification.
    async fn attempt<F>(
        &self,
        call: &ProviderCall<'_>,
        policy: &ProviderPolicy,
        breaker: &Arc<Breaker>,
        budget: &ProviderBudget,
        build: &mut F,
    ) -> Result<Answer, ProviderError>
    where
        F: FnMut() -> RequestBuilder,
    {
        let provider = call.provider;
        // a dropped permit (budget refused, bad request, cancelled call) gives its slot back
        let permit =
            breaker
                .acquire(Instant::now())
                .map_err(|retry_in| ProviderError::CircuitOpen {
                    provider: provider.to_owned(),
                    retry_in,
                })?;
        if permit.is_probe() {
            tracing::info!(
                provider,
                operation = call.operation,
                "circuit half-open, sending probe"
            );
        }
        let waited = budget
            .acquire(call.credential_key)
            .await
            .map_err(|retry_in| ProviderError::RateLimited {
                provider: provider.to_owned(),
                retry_in,
            })?;
        if waited >= Duration::from_millis(1) {
            tracing::debug!(
                provider,
                operation = call.operation,
                wait_ms = millis(waited),
                "waited for rate budget"
            );
        }
        // reqwest's text may hold the URL or a header value: keep none of it
        let mut request = build().build().map_err(|_| ProviderError::InvalidRequest {
            provider: provider.to_owned(),
            message: "the request could not be built",
        })?;
        if request.timeout().is_none() {
            *request.timeout_mut() = Some(policy.request_timeout);
        }
        let debug = tracing::enabled!(tracing::Level::DEBUG);
        // an error body may echo them: kept only to redact it for the debug log
        let secrets = if debug {
            secrets_of_request(&request)
        } else {
            Vec::new()
        };
        let transport = |e: reqwest::Error| ProviderError::Transport {
            provider: provider.to_owned(),
            kind: transport_kind(&e),
        };
        let response = match self.inner.client.execute(request).await {
            Ok(response) => response,
            Err(e) => {
                permit.record(true, Instant::now());
                return Err(transport(e));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => {
                permit.record(true, Instant::now());
                return Err(transport(e));
            }
        };
        if status.as_u16() < 400 {
            permit.record(false, Instant::now());
            return Ok((status, headers, body));
        }
        let retry_after = retry_after_header(&headers);
        let err = call
            .classifier
            .and_then(|classify| classify(provider, status, &body, retry_after))
            .unwrap_or_else(|| classify_status(provider, status, &body, retry_after));
        if debug {
            tracing::debug!(
                provider,
                operation = call.operation,
                status = status.as_u16(),
                body = %redact_known(&String::from_utf8_lossy(&body), &secrets),
                "provider error answer"
            );
        }
        if call.pass_client_errors
            && matches!(
                err,
                ProviderError::Permanent { .. } | ProviderError::Reauth { .. }
            )
        {
            permit.record(false, Instant::now());
            return Ok((status, headers, body));
        }
        if let (StatusCode::TOO_MANY_REQUESTS, Some(delay)) = (status, retry_after) {
            budget.pause(call.credential_key, delay);
        }
        permit.record(err.is_provider_failure(), Instant::now());
        Err(err)
    }

    fn breaker(&self, provider: &str) -> Arc<Breaker> {
        if let Some(breaker) = self.inner.breakers.get(provider) {
            return Arc::clone(&breaker);
        }
        let config = self.inner.config.policy(provider).breaker.clone();
        Arc::clone(
            &self
                .inner
                .breakers
                .entry(provider.to_owned())
                .or_insert_with(|| Arc::new(Breaker::new(config))),
        )
    }

    fn budget(&self, provider: &str) -> Arc<ProviderBudget> {
        let config = &self.inner.config.policy(provider).budget;
        self.inner.budgets.provider(provider, config)
    }
}

/// Whether `err` may be retried for this call. Idempotent calls retry every
/// retryable answer or transport error; others only when the request certainly
/// did not reach the server, or when the provider asked for a retry with
/// 429/503 and `Retry-After`.
fn may_retry(call: &ProviderCall<'_>, err: &ProviderError) -> bool {
    match err {
        ProviderError::Transport { kind, .. } => call.idempotent || *kind == TransportKind::Connect,
        ProviderError::Retryable {
            status,
            retry_after,
            ..
        } => call.idempotent || (matches!(status, 429 | 503) && retry_after.is_some()),
        _ => false,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
