//! The one outbound HTTP client every provider integration uses.
//!
//! [`OutboundHttp::send`] takes a [`ProviderCall`] (provider, operation,
//! credential key, idempotency) and a closure that builds the request anew for
//! each attempt. Around every attempt it applies, per provider:
//! - a circuit breaker ([`BreakerState`]) that fails fast while the provider is down;
//! - a rate budget per credential (`governor`), paused by a `429` with `Retry-After`;
//! - retries of retryable outcomes with full-jitter exponential backoff, honoring
//!   `Retry-After` up to a cap;
//! - one classification of every failure into [`ProviderError`];
//! - a metrics sample (`ok`, `retryable`, `reauth`, `permanent`, `circuit_open`,
//!   `rate_limited`).
//!
//! Nothing here logs or keeps a URL, a header or a body of a request; of an
//! error answer only the status and a short machine code are kept, and its
//! body reaches a `debug!` log only through [`redact`].
//!
//! # Layout
//! - `client.rs`: [`OutboundHttp`] and the retry loop
//! - `call.rs`: [`ProviderCall`], [`ProviderResponse`]
//! - `config.rs`: [`OutboundConfig`] and the per-provider policies
//! - `error.rs`: [`ProviderError`] and the classification
//! - `redact.rs`: [`provider_code`] (the one piece of an error body kept) and
//!   [`redact`] (provider text made fit for a debug log)
//! - `retry.rs`: backoff and `Retry-After` parsing
//! - `breaker.rs`: the circuit breaker
//! - `budget.rs`: the rate budgets

mod breaker;
mod budget;
mod call;
mod client;
mod config;
mod error;
mod redact;
mod retry;
#[cfg(test)]
mod tests;

pub use breaker::BreakerState;
pub use call::{Classifier, ProviderCall, ProviderResponse};
pub use client::OutboundHttp;
pub use config::{BreakerConfig, BudgetConfig, OutboundConfig, ProviderPolicy, RetryPolicy};
pub use error::{classify_status, is_invalid_grant, ProviderError, TransportKind};
pub use redact::{
    is_safe_code, provider_code, redact, redact_known, secrets_of_request, MAX_CODE_CHARS,
    MAX_REDACTED_CHARS, REDACTED,
};
pub use retry::{backoff, backoff_ceiling, parse_retry_after, retry_after_header};
