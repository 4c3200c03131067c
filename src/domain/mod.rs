//! The rules of the product, free of transport types: who may do what, what is
//! stored, what happens next.

pub mod activity;
pub mod ats;
pub mod calendar;
pub mod connections;
pub mod connectors;
pub mod failed_jobs;
pub mod linkedin;
pub mod notifications;
pub mod page_token;
pub mod readiness;
pub mod status;
pub mod sweeps;
pub mod types;
