//! Outbound side: how the service speaks to LinkedIn, calendars and ATS providers.
//!
//! # Layout
//! - [`http`]: the one outbound HTTP client every provider integration uses, with
//!   retries, `Retry-After`, rate budgets and a circuit breaker per provider.

pub mod http;
