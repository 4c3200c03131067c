//! The calendar's vocabulary and the checks of what callers send: event
//! types, states, channels, attendees, reminder minutes, zones, emails and
//! phone numbers. Every refusal names its field.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};

/// Longest title, in characters.
pub const TITLE_MAX: usize = 1024;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 8192;
/// Longest location or meeting URL, in characters.
pub const LOCATION_MAX: usize = 2048;
/// Most attendees of one event.
pub const ATTENDEES_MAX: usize = 100;
/// Most reminders of one event.
pub const REMINDERS_MAX: usize = 5;
/// Latest reminder, in minutes before the start (four weeks, as Google allows).
pub const REMINDER_MINUTES_MAX: u32 = 40_320;
/// Longest idempotency key.
pub const REQUEST_ID_MAX: usize = 128;
/// Longest email address.
pub const EMAIL_MAX: usize = 320;
/// Reminders when neither the request nor the user's preferences say.
pub const DEFAULT_REMINDERS: [u32; 2] = [15, 60];
/// Longest event, so a typo in a year cannot book a decade.
pub const EVENT_MAX_DAYS: i64 = 31;

/// What an event is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Interview,
    Deadline,
    CareerEvent,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interview => "interview",
            Self::Deadline => "deadline",
            Self::CareerEvent => "career_event",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "interview" => Some(Self::Interview),
            "deadline" => Some(Self::Deadline),
            "career_event" => Some(Self::CareerEvent),
            _ => None,
        }
    }

    /// How the event is named in reminders.
    pub fn label(self) -> &'static str {
        match self {
            Self::Interview => "Interview",
            Self::Deadline => "Deadline",
            Self::CareerEvent => "Career event",
        }
    }
}

/// Whether an event is in the provider's calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    Synced,
    Pending,
    Failed,
    NotConnected,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Synced => "synced",
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::NotConnected => "not_connected",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "synced" => Self::Synced,
            "pending" => Self::Pending,
            "failed" => Self::Failed,
            _ => Self::NotConnected,
        }
    }
}

/// Scheduled or cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventStatus {
    Scheduled,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Self {
        if raw == "cancelled" {
            Self::Cancelled
        } else {
            Self::Scheduled
        }
    }
}

/// A way a reminder reaches the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    #[serde(rename = "whatsapp")]
    WhatsApp,
    InApp,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::WhatsApp, Channel::InApp];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::WhatsApp => "whatsapp",
            Self::InApp => "in_app",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "email" => Some(Self::Email),
            "whatsapp" => Some(Self::WhatsApp),
            "in_app" => Some(Self::InApp),
            _ => None,
        }
    }
}

/// Someone invited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub optional: bool,
}

/// A checked IANA zone.
pub fn time_zone(raw: &str, field: &'static str) -> Result<Tz> {
    if raw.is_empty() {
        return Err(AppError::invalid(
            field,
            "is required (an IANA zone such as Europe/Berlin)",
        ));
    }
    if raw.len() > 64 {
        return Err(AppError::invalid(field, "is not a known IANA time zone"));
    }
    raw.parse::<Tz>()
        .map_err(|_| AppError::invalid(field, "is not a known IANA time zone"))
}

/// A text field of at most `max` characters without control characters
/// (newlines and tabs allowed where `multiline`).
pub fn text(raw: &str, field: &'static str, max: usize, multiline: bool) -> Result<String> {
    if raw.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if raw.chars().any(bad) {
        return Err(AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(raw.to_owned())
}

/// A title: 1 to 1,024 characters.
pub fn title(raw: &str) -> Result<String> {
    if raw.trim().is_empty() {
        return Err(AppError::invalid("title", "must not be empty"));
    }
    text(raw, "title", TITLE_MAX, false)
}

/// An email address in the plain `local@domain` form.
pub fn email(raw: &str, field: &'static str) -> Result<String> {
    let bad = || AppError::invalid(field, "is not a valid email address");
    if raw.is_empty() || raw.len() > EMAIL_MAX {
        return Err(bad());
    }
    if raw.chars().any(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\'
            )
    }) {
        return Err(bad());
    }
    let (local, domain) = raw.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.len() > 63
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return Err(bad());
    }
    Ok(raw.to_owned())
}

/// A phone number in E.164: `+`, a country code not starting with 0, 8 to
/// 15 digits in all.
pub fn e164(raw: &str, field: &'static str) -> Result<String> {
    let digits = raw.strip_prefix('+').unwrap_or("");
    let ok = digits.len() >= 8
        && digits.len() <= 15
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if !ok {
        return Err(AppError::invalid(
            field,
            "must be an E.164 number such as +254712345678",
        ));
    }
    Ok(raw.to_owned())
}

/// An http(s) URL.
pub fn url(raw: &str, field: &'static str) -> Result<String> {
    let text = text(raw, field, LOCATION_MAX, false)?;
    match url::Url::parse(&text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(text),
        _ => Err(AppError::invalid(field, "must be an http or https URL")),
    }
}

/// Reminder minutes: at most 5, each 0 to 40,320; sorted, without repeats.
pub fn reminder_minutes(raw: &[i32], field: &'static str) -> Result<Vec<u32>> {
    if raw.len() > REMINDERS_MAX {
        return Err(AppError::invalid(
            field,
            format!("at most {REMINDERS_MAX} reminders"),
        ));
    }
    let mut minutes = Vec::with_capacity(raw.len());
    for m in raw {
        let m = u32::try_from(*m)
            .ok()
            .filter(|m| *m <= REMINDER_MINUTES_MAX)
            .ok_or_else(|| {
                AppError::invalid(
                    field,
                    format!("each must be 0 to {REMINDER_MINUTES_MAX} minutes"),
                )
            })?;
        minutes.push(m);
    }
    minutes.sort_unstable();
    minutes.dedup();
    Ok(minutes)
}

/// Attendees: at most 100, each with a valid email, no repeats.
pub fn attendees(raw: Vec<Attendee>) -> Result<Vec<Attendee>> {
    if raw.len() > ATTENDEES_MAX {
        return Err(AppError::invalid(
            "attendees",
            format!("at most {ATTENDEES_MAX}"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for a in raw {
        let email = email(&a.email, "attendees.email")?;
        if !seen.insert(email.to_lowercase()) {
            return Err(AppError::invalid("attendees.email", "appears twice"));
        }
        let name = match a.name.as_deref() {
            None | Some("") => None,
            Some(n) => Some(text(n, "attendees.name", 256, false)?),
        };
        out.push(Attendee {
            email,
            name,
            optional: a.optional,
        });
    }
    Ok(out)
}

/// A start and an end: both set, end after start, at most 31 days apart.
pub fn span(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let start = start.ok_or_else(|| AppError::invalid("start_time", "is required"))?;
    let end = end.ok_or_else(|| AppError::invalid("end_time", "is required"))?;
    if end <= start {
        return Err(AppError::invalid("end_time", "must be after start_time"));
    }
    if end - start > chrono::Duration::days(EVENT_MAX_DAYS) {
        return Err(AppError::invalid(
            "end_time",
            format!("must be at most {EVENT_MAX_DAYS} days after start_time"),
        ));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(err: AppError) -> &'static str {
        match err {
            AppError::InvalidArgument { field, .. } => field,
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn zones_emails_numbers_and_minutes_are_checked() {
        assert!(time_zone("Europe/Berlin", "time_zone").is_ok());
        assert_eq!(
            field(time_zone("Mars/Olympus", "time_zone").unwrap_err()),
            "time_zone"
        );
        assert_eq!(field(time_zone("", "time_zone").unwrap_err()), "time_zone");
        assert!(email("ada@example.com", "email").is_ok());
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.org",
            "a b@x.org",
            "ada@x",
            "ada@-x.org",
            "<a@x.org>",
        ] {
            assert!(email(bad, "email").is_err(), "{bad}");
        }
        assert!(e164("+254712345678", "whatsapp_number").is_ok());
        for bad in [
            "254712345678",
            "+0123456789",
            "+12",
            "+2547123456789012",
            "+25471234567a",
        ] {
            assert!(e164(bad, "whatsapp_number").is_err(), "{bad}");
        }
        assert_eq!(reminder_minutes(&[60, 15, 15], "m").unwrap(), vec![15, 60]);
        assert!(reminder_minutes(&[-1], "m").is_err());
        assert!(reminder_minutes(&[40_321], "m").is_err());
        assert!(reminder_minutes(&[0, 40_320], "m").is_ok());
        assert!(reminder_minutes(&[1, 2, 3, 4, 5, 6], "m").is_err());
        assert_eq!(field(title("").unwrap_err()), "title");
        assert_eq!(field(title(&"x".repeat(1025)).unwrap_err()), "title");
        assert!(title(&"é".repeat(1024)).is_ok());
        assert!(url("https://meet.example.com/abc", "meeting_url").is_ok());
        assert!(url("javascript:alert(1)", "meeting_url").is_err());
    }
}
