//! The lifecycle of a connection to a provider, whoever owns it: what every
//! OAuth integration shares, so that a provider's own module holds only what
//! is truly its own.
//!
//! Layout: `browser` (the start page that binds a flow to the browser that
//! opens it, RFC 9700 §4.7.1), `integration` (what differs per integration:
//! its providers, paths and redirect pages).

pub mod browser;
pub mod integration;

pub use self::{
    browser::{open_flow, start_page_url, BROWSER_COOKIE},
    integration::Integration,
};
