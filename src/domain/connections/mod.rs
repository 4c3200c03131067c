//! The lifecycle of a connection to a provider, whoever owns it (a user or an
//! organization) and whatever credential it holds: what every integration
//! shares, so that a provider's own module holds only what is truly its own.
//!
//! Layout:
//! - `integration`: what differs per OAuth integration (providers, paths,
//!   redirect pages, feature flag);
//! - `start`: starting an authorization flow; `browser`: the start page that
//!   binds the flow to the browser opening it (RFC 9700 §4.7.1);
//! - `callback`: the one callback of every OAuth provider;
//! - `connector`: the [`Connector`] each provider implements for its part;
//! - `token`: [`with_fresh_token`], a provider call with a fresh credential;
//! - `health`: the connection's state, last success and last error;
//! - `disconnect`: revoke, delete, drop pending jobs, audit;
//! - `expiry`: warning owners once of a connection that cannot refresh;
//! - `sweep`: the due-rows sweep of scheduled integrations.

pub mod browser;
pub mod callback;
pub mod connector;
pub mod disconnect;
pub mod expiry;
pub mod health;
pub mod integration;
pub mod start;
pub mod sweep;
pub mod token;

pub use self::{
    browser::{open_flow, start_page_url, BROWSER_COOKIE},
    callback::complete_callback,
    connector::{ConnectFailure, Connecting, Connector},
    disconnect::{disconnect, refresh_job_key},
    expiry::warn_expiring,
    integration::Integration,
    start::{start_auth, StartedAuth},
    sweep::{sweep_due, DueRows},
    token::{with_fresh_token, CallError},
};
