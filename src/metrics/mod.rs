//! Prometheus metrics of one application instance: requests per RPC and calls per provider.
//!
//! Each [`Metrics`] owns its own registry, so two applications in one process
//! (as in the tests) keep separate counts. Every label value is a [`Label`]
//! (escaped on the page) taken from a closed set: RPC names of the served
//! descriptors, route templates, code names, provider and job names of our own
//! code, or `unknown`; never a raw path or anything else a caller sends.

mod label;

pub use self::label::Label;

use std::{sync::Arc, time::Duration};

use parking_lot::Mutex;
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

/// Labels of one served request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `grpc` or `http`.
    pub transport: Label,
    /// The full gRPC method (`/pkg.Service/Method`) of a served descriptor, the
    /// HTTP route template, or `unknown`.
    pub method: Label,
    /// The gRPC status code name or the HTTP status code.
    pub code: Label,
}

/// Labels of one outbound provider call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    /// Provider name, e.g. `linkedin`.
    pub provider: Label,
    /// What the call was for, e.g. `token`, `userinfo`.
    pub operation: Label,
    /// `ok`, `retryable`, `reauth`, `permanent`, `circuit_open`, `rate_limited`.
    pub outcome: Label,
}

/// Latency buckets in seconds, from 0.5 ms to 30 s.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The counters and histograms of one application, with their registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RequestLabels, Histogram, fn() -> Histogram>,
    provider_calls: Family<ProviderLabels, Counter>,
    provider_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every family registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("nextke");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds =
            Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(histogram);
        let provider_calls = Family::<ProviderLabels, Counter>::default();
        let provider_seconds =
            Family::<ProviderLabels, Histogram, fn() -> Histogram>::new_with_constructor(histogram);
        registry.register("requests", "Requests served", requests.clone());
        registry.register(
            "request_duration_seconds",
            "Time to serve a request",
            request_seconds.clone(),
        );
        registry.register(
            "provider_calls",
            "Outbound calls to providers, each attempt counted",
            provider_calls.clone(),
        );
        registry.register(
            "provider_call_duration_seconds",
            "Time of one outbound provider call attempt",
            provider_seconds.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry: Mutex::new(registry),
                requests,
                request_seconds,
                provider_calls,
                provider_seconds,
            }),
        }
    }

    /// Counts and times one served request. `method` must come from a closed
    /// set (see the module doc), never from the request.
    pub fn record_request(&self, transport: &str, method: &str, code: &str, elapsed: Duration) {
        let labels = RequestLabels {
            transport: transport.into(),
            method: method.into(),
            code: code.into(),
        };
        self.inner.requests.get_or_create(&labels).inc();
        self.inner
            .request_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts and times one outbound provider call attempt.
    pub fn record_provider_call(
        &self,
        provider: &str,
        operation: &str,
        outcome: &str,
        elapsed: Duration,
    ) {
        let labels = ProviderLabels {
            provider: provider.into(),
            operation: operation.into(),
            outcome: outcome.into(),
        };
        self.inner.provider_calls.get_or_create(&labels).inc();
        self.inner
            .provider_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Lets another module register its own metric family.
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        f(&mut self.inner.registry.lock())
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // encoding into a String cannot fail
        let _ = encode(&mut out, &self.inner.registry.lock());
        out
    }
}
