//! Structured logging with `tracing`, and the span of every request.
//!
//! # Layout
//! - this module: the global subscriber (`LOG_FORMAT`, `RUST_LOG`);
//! - [`request`]: request ids and the span of one RPC or shim request.

pub mod request;

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber once; `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,h2=warn,hyper=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(fmt::layer().json().with_current_span(false))
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
    // a second init (tests) keeps the first subscriber
    let _ = result;
}
