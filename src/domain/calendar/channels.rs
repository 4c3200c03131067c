//! Sending one reminder on one channel: email (SMTP), WhatsApp (a Cloud API
//! template message) or in-app (a notification, streamed to watchers).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{event::Channel, events::Event, preferences::Preferences};
use crate::{
    context::AppContext, domain::notifications, error::AppError, jobs::JobError,
    store::notifications::NewNotification,
};

/// What a send came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Sent; the channel's id of it (Message-ID, WhatsApp message id, notification id).
    Sent(String),
    /// The channel is not configured in this deployment.
    NotConfigured,
}

/// "in 15 minutes", "in 1 hour", "in 2 days", "now".
pub fn lead_time(minutes: u32) -> String {
    let plural = |n: u32, unit: &str| {
        if n == 1 {
            format!("in 1 {unit}")
        } else {
            format!("in {n} {unit}s")
        }
    };
    match minutes {
        0 => "now".to_owned(),
        m if m % 1440 == 0 => plural(m / 1440, "day"),
        m if m % 60 == 0 => plural(m / 60, "hour"),
        m => plural(m, "minute"),
    }
}

/// The start as the user reads it: "Monday 29 March 2027, 09:00 (Europe/Berlin)".
pub fn local_start(start: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<Tz>() {
        Ok(tz) => format!(
            "{} ({zone})",
            start.with_timezone(&tz).format("%A %-d %B %Y, %H:%M")
        ),
        Err(_) => format!("{} (UTC)", start.format("%A %-d %B %Y, %H:%M")),
    }
}

/// The reminder's headline: "Interview: Backend engineer at Acme starts in 1 hour".
pub fn headline(event: &Event, minutes: u32) -> String {
    let lead = lead_time(minutes);
    if minutes == 0 {
        format!("{}: {} starts now", event.event_type.label(), event.title)
    } else {
        format!(
            "{}: {} starts {lead}",
            event.event_type.label(),
            event.title
        )
    }
}

/// Sends the reminder of `event` on `channel`, email or WhatsApp (in-app
/// reminders are created together, [`in_app_notices`]).
pub async fn send(
    ctx: &AppContext,
    event: &Event,
    minutes: u32,
    channel: Channel,
    prefs: &Preferences,
) -> Result<Delivered, JobError> {
    match channel {
        Channel::Email => email(ctx, event, minutes, prefs).await,
        Channel::WhatsApp => whatsapp(ctx, event, minutes, prefs).await,
        Channel::InApp => Err(JobError::Fatal(
            "in-app reminders are created together".to_owned(),
        )),
    }
}

/// The in-app notification of the reminder `key` of `event`.
pub fn in_app_notice(event: &Event, minutes: u32, key: &str) -> NewNotification {
    let mut body = local_start(event.start, &event.time_zone);
    if !event.location.is_empty() {
        body.push_str(&format!(" · {}", event.location));
    }
    if !event.meeting_url.is_empty() {
        body.push_str(&format!(" · {}", event.meeting_url));
    }
    NewNotification {
        user_id: event.user_id.clone(),
        kind: "reminder".to_owned(),
        title: headline(event, minutes),
        body,
        event_id: Some(event.id.clone()),
        dedup_key: Some(key.to_owned()),
    }
}

/// Creates in-app reminders together (one insert) and wakes their users'
/// streams; answers each reminder key's notification id.
pub async fn in_app_notices(
    ctx: &AppContext,
    notices: Vec<NewNotification>,
) -> Result<HashMap<String, String>, JobError> {
    let rows = notifications::notify_many(ctx, notices)
        .await
        .map_err(JobError::from)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.dedup_key?, row.id.to_string())))
        .collect())
}

async fn email(
    ctx: &AppContext,
    event: &Event,
    minutes: u32,
    prefs: &Preferences,
) -> Result<Delivered, JobError> {
    let Some(mailer) = ctx.senders.mailer.as_ref() else {
        return Ok(Delivered::NotConfigured);
    };
    let message_id = super::email::message_id(mailer, &event.id, minutes);
    let message = super::email::reminder_message(mailer, event, minutes, &prefs.email, &message_id)
        .map_err(|e| JobError::Fatal(e.to_string()))?;
    mailer.send(message).await.map_err(|e| {
        if e.is_retryable() {
            JobError::Retry(e.to_string())
        } else {
            JobError::Fatal(e.to_string())
        }
    })?;
    Ok(Delivered::Sent(message_id))
}

async fn whatsapp(
    ctx: &AppContext,
    event: &Event,
    minutes: u32,
    prefs: &Preferences,
) -> Result<Delivered, JobError> {
    let Some(client) = ctx.senders.whatsapp.as_ref() else {
        return Ok(Delivered::NotConfigured);
    };
    let mut place = event.location.clone();
    if place.is_empty() {
        place = event.meeting_url.clone();
    }
    if place.is_empty() {
        place = "-".to_owned();
    }
    let parameters = [
        event.title.clone(),
        local_start(event.start, &event.time_zone),
        lead_time(minutes),
        place,
    ];
    let id = client
        .send_template(&prefs.whatsapp_number, &parameters)
        .await
        .map_err(|e| JobError::from(AppError::from(e)))?;
    Ok(Delivered::Sent(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_times_read_naturally() {
        assert_eq!(lead_time(15), "in 15 minutes");
        assert_eq!(lead_time(1), "in 1 minute");
        assert_eq!(lead_time(60), "in 1 hour");
        assert_eq!(lead_time(120), "in 2 hours");
        assert_eq!(lead_time(1440), "in 1 day");
        assert_eq!(lead_time(90), "in 90 minutes");
        assert_eq!(lead_time(0), "now");
    }

    #[test]
    fn the_start_is_shown_in_the_events_zone() {
        let start = "2027-03-29T07:00:00Z".parse().unwrap();
        assert_eq!(
            local_start(start, "Europe/Berlin"),
            "Monday 29 March 2027, 09:00 (Europe/Berlin)"
        );
    }
}
