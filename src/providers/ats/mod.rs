//! What the ATS domain asks of an applicant tracking system, and the parts
//! every ATS provider shares.
//!
//! # Layout
//! - [`signature`]: the constant-time, length-checked HMAC-SHA256 checks.
//! - [`greenhouse_webhook`], [`lever_webhook`]: verifying and reading each
//!   provider's webhook deliveries, before and after the signature check.

pub mod greenhouse_webhook;
pub mod lever_webhook;
pub mod signature;
