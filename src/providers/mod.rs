//! Outbound: each provider's real API, through one shared HTTP client.
//!
//! # Layout
//! - `http/`: [`http::OutboundHttp`], the shared client (retries, budgets, breaker).
//! - [`profile`], [`linkedin`]: the LinkedIn profile source.
//! - [`ats`]: what the ATS domain asks of an applicant tracking system, and
//!   the webhook checks of Greenhouse and Lever.
//! - [`greenhouse`], [`lever`]: Harvest v3 with the Job Board API, and
//!   Lever's Data API.
//! - [`calendar`]: what the calendar domain asks of a calendar provider;
//!   [`google_calendar`] and [`microsoft_graph`] implement it.
//! - [`whatsapp`]: template messages through the WhatsApp Business Cloud API.
//! - `rest.rs`: URL building and the bearer header the REST clients share.

pub mod ats;
pub mod calendar;
pub mod google_calendar;
pub mod greenhouse;
pub mod http;
pub mod lever;
pub mod linkedin;
pub mod microsoft_graph;
pub mod profile;
mod rest;
#[cfg(test)]
mod testing;
pub mod whatsapp;
