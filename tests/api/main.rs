//! The one integration-test binary: the real server on port 0 against a fresh
//! database, sandbox providers on loopback, real gRPC and grpc-web clients.
//!
//! Every test in [`db_tests!`] runs twice, on SQLite and on PostgreSQL
//! (`TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`);
//! a missing PostgreSQL fails those tests loudly.

mod helpers;

mod activity;
mod ats_applications;
mod ats_integrations;
mod ats_rig;
mod ats_sync;
mod ats_webhooks;
mod auth;
mod browser;
mod calendar;
mod calendar_rig;
mod connections;
mod credential_kinds;
mod crypto;
mod decoding;
mod errors;
mod flows;
mod fuzz_corpora;
mod grpc;
mod grpc_web;
mod inputs;
mod isolation;
mod jobs;
mod linkedin;
mod metrics;
mod notifications;
mod oauth;
mod outbound;
mod privacy_races;
mod provider_text;
mod reminders;
mod sweeps;
mod tracing_spans;
mod wake;
