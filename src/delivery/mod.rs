//! Outbound delivery of reminders that is not a provider API: email over
//! SMTP with a calendar attachment. It sits beside `providers/` in the
//! layers and knows neither `store/` nor `domain/`: the notifications domain
//! decides what to send and when, this module only builds and sends it.
//! (WhatsApp reminders go through [`crate::providers::whatsapp`], an HTTP
//! API behind the shared outbound client.)
//!
//! # Layout
//! - [`email`]: [`email::Mailer`] (pooled async SMTP over rustls),
//!   [`email::reminder_email`] (the MIME message) and [`email::DeliveryError`].
//! - [`ics`]: the iCalendar object of one event (RFC 5545).
//! - [`smtp_pool`]: the SMTP connection pool (`TCP_NODELAY`, bounded, in
//!   arrival order) under [`email::Mailer`].
//! - [`slots`]: the send slots of a channel with a fixed throughput, which
//!   centre a burst on its instant.

pub mod email;
pub mod ics;
pub mod slots;
pub mod smtp_pool;

pub use email::{DeliveryError, EmailSettings, Mailer, ReminderEmail, SmtpTls};
pub use ics::IcsEvent;
pub use slots::SendSlots;
