//! What the ATS domain asks of an applicant tracking system, and the parts
//! every ATS provider shares.
//!
//! # Layout
//! - [`job`]: [`job::AtsJob`], a job as every provider hands it over, and
//!   the lenient JSON readers the mappings share.
//! - [`greenhouse_jobs`], [`lever_jobs`]: each provider's JSON mapped.
//! - [`signature`]: the constant-time, length-checked HMAC-SHA256 checks.
//! - [`greenhouse_webhook`], [`lever_webhook`]: verifying and reading each
//!   provider's webhook deliveries, before and after the signature check.

pub mod greenhouse_jobs;
pub mod greenhouse_webhook;
pub mod job;
pub mod lever_jobs;
pub mod lever_webhook;
pub mod signature;
