//! Reminder emails over SMTP: [`Mailer`] on our pool of lettre connections
//! ([`SmtpPool`], rustls for TLS), and [`reminder_email`],
//! which builds `multipart/mixed` = `multipart/alternative` (text, HTML) plus
//! an optional `.ics` attachment (`text/calendar; method=PUBLISH`), with our
//! own `Message-ID` so a resend is recognizable.
//!
//! Send failures are classified once ([`DeliveryError`]): a 4xx reply is
//! worth retrying, a 5xx is not, and a connection, TLS or timeout failure is
//! worth retrying. No error carries the server's reply text, the password or
//! an address.

use std::time::Duration;

use std::sync::Arc;

use lettre::{
    message::{header::ContentType, Attachment, Mailbox, MultiPart},
    transport::smtp::{authentication::Credentials, extension::ClientId},
    Message,
};

use super::smtp_pool::{PoolError, SmtpPool, SmtpTarget};
use secrecy::{ExposeSecret, SecretString};

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a local relay or a test sink only).
    None,
    /// Plain connect, then `STARTTLS`, required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Where and as whom reminder emails are sent.
#[derive(Clone, Debug)]
pub struct EmailSettings {
    /// SMTP server host name (also the name its TLS certificate must carry).
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// User name for `AUTH`, when the server wants one.
    pub username: Option<String>,
    /// Password for `AUTH`; `Debug` prints it redacted.
    pub password: Option<SecretString>,
    /// The sender (`Next_KE <reminders@nextke.example>`).
    pub from: Mailbox,
    /// Transport security.
    pub tls: SmtpTls,
    /// Connections kept open at most (lettre's pool).
    pub pool_size: u32,
    /// Time allowed for each SMTP command.
    pub timeout: Duration,
    /// Name given in `EHLO`; by default the sender's domain.
    pub hello_name: Option<String>,
}

impl EmailSettings {
    /// Settings with a pool of 4 connections, a 30 s timeout and the
    /// sender's domain as `EHLO` name.
    pub fn new(host: impl Into<String>, port: u16, from: Mailbox, tls: SmtpTls) -> Self {
        Self {
            host: host.into(),
            port,
            username: None,
            password: None,
            from,
            tls,
            pool_size: 4,
            timeout: Duration::from_secs(30),
            hello_name: None,
        }
    }
}

/// Why an email was not built or not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The server answered a transient (4xx) reply: try again later.
    #[error("smtp server answered {code}, worth retrying")]
    Transient {
        /// The SMTP reply code.
        code: u16,
    },
    /// The server refused for good (5xx reply).
    #[error("smtp server refused the message ({code})")]
    Permanent {
        /// The SMTP reply code.
        code: u16,
    },
    /// No usable connection (connect, TLS, timeout, dropped, unreadable reply).
    #[error("smtp connection failed, worth retrying")]
    Connection,
    /// The settings cannot make a transport.
    #[error("invalid smtp settings: {0}")]
    Settings(&'static str),
    /// The message cannot be built.
    #[error("invalid email: {0}")]
    Message(&'static str),
}

impl DeliveryError {
    /// Whether sending the same message later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::Connection)
    }

    /// Classifies a lettre SMTP error, keeping only the reply code.
    fn of_smtp(err: &lettre::transport::smtp::Error) -> Self {
        match err.status().map(u16::from) {
            Some(code) if err.is_transient() => Self::Transient { code },
            Some(code) if err.is_permanent() => Self::Permanent { code },
            // a client-side refusal (no recipients and the like) cannot pass later
            _ if err.is_client() => Self::Message("refused by the smtp client"),
            _ => Self::Connection,
        }
    }
}

/// One reminder email.
#[derive(Clone, Debug)]
pub struct ReminderEmail {
    /// The recipient.
    pub to: Mailbox,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// An iCalendar object to attach as `invite.ics`, when any.
    pub ics: Option<String>,
    /// Our `Message-ID`, `<local@domain>` (stable per reminder, so a resend
    /// carries the same one).
    pub message_id: String,
}

/// The file name of the calendar attachment.
pub const ICS_FILE_NAME: &str = "invite.ics";
/// The content type of the calendar attachment.
pub const ICS_CONTENT_TYPE: &str = "text/calendar; charset=utf-8; method=PUBLISH";

/// Whether `id` is a `Message-ID` of the `<left@right>` form (RFC 5322
/// §3.6.4) with no white space or control characters.
fn is_message_id(id: &str) -> bool {
    let Some(inner) = id.strip_prefix('<').and_then(|i| i.strip_suffix('>')) else {
        return false;
    };
    let Some((left, right)) = inner.split_once('@') else {
        return false;
    };
    !left.is_empty()
        && !right.is_empty()
        && !right.contains('@')
        && inner
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '(' | ')'))
}

/// Builds the reminder email from `from`.
pub fn reminder_email(from: &Mailbox, email: ReminderEmail) -> Result<Message, DeliveryError> {
    if !is_message_id(&email.message_id) {
        return Err(DeliveryError::Message("the message id is not <left@right>"));
    }
    let alternative = MultiPart::alternative_plain_html(email.text, email.html);
    let body = match email.ics {
        Some(ics) => {
            let content_type = ContentType::parse(ICS_CONTENT_TYPE)
                .map_err(|_| DeliveryError::Message("bad calendar content type"))?;
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new(ICS_FILE_NAME.to_owned()).body(ics, content_type))
        }
        None => MultiPart::mixed().multipart(alternative),
    };
    Message::builder()
        .from(from.clone())
        .to(email.to)
        .subject(email.subject)
        .message_id(Some(email.message_id))
        .multipart(body)
        .map_err(|_| DeliveryError::Message("the message could not be built"))
}

/// Sends email through one pooled SMTP transport; cloning is cheap.
#[derive(Clone)]
pub struct Mailer {
    pool: Arc<SmtpPool>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `settings`; connects lazily, on the first send, through
    /// a pool of `pool_size` connections ([`SmtpPool`]).
    pub fn new(settings: &EmailSettings) -> Result<Self, DeliveryError> {
        let hello = settings
            .hello_name
            .clone()
            .unwrap_or_else(|| settings.from.email.domain().to_owned());
        let credentials = match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            )),
            (None, None) => None,
            _ => {
                return Err(DeliveryError::Settings(
                    "smtp user name and password go together",
                ))
            }
        };
        let pool = SmtpPool::new(
            SmtpTarget {
                host: settings.host.clone(),
                port: settings.port,
                tls: settings.tls,
                hello: ClientId::Domain(hello),
                credentials,
                timeout: settings.timeout,
            },
            settings.pool_size.max(1),
        )
        .map_err(|_| DeliveryError::Settings("tls is not available for this host"))?;
        Ok(Self {
            pool: Arc::new(pool),
            from: settings.from.clone(),
        })
    }

    /// The sender of every message.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// [`reminder_email`] from this mailer's sender.
    pub fn reminder_email(&self, email: ReminderEmail) -> Result<Message, DeliveryError> {
        reminder_email(&self.from, email)
    }

    /// Sends `message`; the error keeps the SMTP reply code only.
    pub async fn send(&self, message: Message) -> Result<(), DeliveryError> {
        let outcome = self
            .pool
            .send(message.envelope(), &message.formatted())
            .await;
        match outcome {
            Ok(()) => Ok(()),
            Err(err) => {
                let failure = match &err {
                    PoolError::Smtp(err) => DeliveryError::of_smtp(err),
                    PoolError::Io(_) | PoolError::Timeout => DeliveryError::Connection,
                };
                tracing::warn!(
                    retryable = failure.is_retryable(),
                    error = %failure,
                    "reminder email not sent"
                );
                Err(failure)
            }
        }
    }
}

#[cfg(test)]
mod tests;
