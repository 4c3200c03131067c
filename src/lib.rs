//! Next_KE Integrations: a gRPC backend connecting Next_KE's users and
//! organizations to LinkedIn, Google Calendar, Microsoft Outlook and ATS
//! platforms (Greenhouse, Lever, Workday, BambooHR).
//!
//! # Layout
//! - [`startup`]: the [`startup::Application`] that tests and `main` start alike.
//! - [`server`]: the accept loop with connection limits and timeouts.
//! - [`grpc`]: tonic adapters of `IntegrationService`, `CalendarService`,
//!   `AtsService`, plus health, reflection and grpc-web; handlers only convert.
//! - [`http`]: the axum shim (health, readiness, metrics, callbacks, webhooks).
//! - [`domain`]: the rules, free of transport types; `domain::connections` is the
//!   connection lifecycle every provider shares, each provider adding only its
//!   own parts through a `Connector`; `domain::linkedin` and
//!   `domain::calendar` (events, availability, reminders) hold only their own;
//!   `domain::notifications` the in-app notifications and their stream; the
//!   job kinds above the engine (`domain::sweeps`: token refresh, prune,
//!   rewrap; `domain::linkedin::jobs`; `domain::calendar::{reminders, push}`).
//! - [`oauth`]: authorization-code and client-credentials flows, sealed token
//!   storage, single-flight refresh.
//! - [`providers`]: outbound calls to providers through one HTTP client with
//!   retries, rate budgets and circuit breakers (LinkedIn, Google Calendar,
//!   Microsoft Graph, WhatsApp).
//! - [`delivery`]: reminder email over SMTP with an `.ics` attachment; beside
//!   [`providers`] in the layers, knowing neither [`store`] nor [`domain`].
//! - [`jobs`]: the background engine, a durable queue and a scheduler that
//!   know no job kind; the breaker gate is injected ([`jobs::Gate`]).
//! - [`store`]: SeaORM entities and queries, typed with [`vocab`], knowing no
//!   domain rule; the schema lives in `migration/`.
//! - [`vocab`]: the shared vocabulary at the bottom (`Provider`,
//!   `IntegrationKind`, `ConnectionState`, `ActivityName`, `ActivityStatus`,
//!   `JobState`), SeaORM string-backed enums every layer may use.
//! - [`audit`]: the audit writer (one activity row), at the bottom so `oauth/`
//!   records activity without importing the domain.
//! - [`error`]: the bottom layer's one error type and the one table every
//!   consumer (gRPC, HTTP, job outcome, activity row) answers from; a provider
//!   failure keeps its kind.
//! - [`limits`]: lengths of caller-supplied values, matching the columns.
//! - [`auth`], [`crypto`], [`secrets`], [`dev_secrets`]: caller identity and
//!   secrets at rest.
//! - [`demo`]: the whole service against the simulated providers of the
//!   `nextke-sandbox` workspace crate (`sandbox/`), which depends on nothing here
//!   so it shares no types with [`providers`].
//! - [`bench`]: the `bench` command measuring the performance targets.

pub mod audit;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod context;
pub mod crypto;
pub mod delivery;
pub mod demo;
pub mod demo_ats;
pub mod dev_secrets;
pub mod domain;
pub mod error;
pub mod fuzzing;
pub mod grpc;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod oauth;
pub mod providers;
pub mod secrets;
pub mod server;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod vocab;

pub mod proto {
    //! Generated protobuf and tonic code for `nextke.integrations.v1`.
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("nextke.integrations.v1");

    /// Encoded file descriptor set, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/nextke_descriptor.bin"));
}
