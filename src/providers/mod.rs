//! Outbound: each provider's real API, through one shared HTTP client.

pub mod http;
pub mod linkedin;
pub mod profile;
