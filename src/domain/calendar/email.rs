//! The reminder email (text, HTML and an `.ics` of the event) and the
//! reconnect notice, written for the user; the SMTP side is `delivery::email`.

use chrono::Utc;
use lettre::{message::Mailbox, Message};

use super::{
    channels::{headline, lead_time, local_start},
    events::Event,
    preferences,
};
use crate::{
    context::AppContext,
    delivery::{
        email::{DeliveryError, Mailer, ReminderEmail},
        ics::{render, IcsEvent},
    },
    store::notifications::NewNotification,
};

/// The `Message-ID` of a reminder email, derived from the reminder, so a
/// second send of the same reminder shows as a duplicate:
/// `<reminder.<event>.<minutes>.email@<domain of SMTP_FROM>>`.
pub fn message_id(mailer: &Mailer, event_id: &str, minutes: u32) -> String {
    let domain = mailer.from().email.domain().to_owned();
    format!("<reminder.{event_id}.{minutes}.email@{domain}>")
}

/// Text put into the HTML part: `& < > " '` escaped.
fn escape_html(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

/// The reminder email of `event`, `minutes` before it, to `to`.
pub fn reminder_message(
    mailer: &Mailer,
    event: &Event,
    minutes: u32,
    to: &str,
    message_id: &str,
) -> Result<Message, DeliveryError> {
    let to: Mailbox = to
        .parse()
        .map_err(|_| DeliveryError::Message("the recipient is not an email address"))?;
    let when = local_start(event.start, &event.time_zone);
    let subject = headline(event, minutes);
    let mut text = format!("{subject}.\n\nWhen: {when}\n");
    let mut html = format!(
        "<p><strong>{}</strong> starts {}.</p><p>When: {}</p>",
        escape_html(&event.title),
        escape_html(&lead_time(minutes)),
        escape_html(&when)
    );
    if !event.location.is_empty() {
        text.push_str(&format!("Where: {}\n", event.location));
        html.push_str(&format!("<p>Where: {}</p>", escape_html(&event.location)));
    }
    if !event.meeting_url.is_empty() {
        text.push_str(&format!("Join: {}\n", event.meeting_url));
        html.push_str(&format!(
            "<p><a href=\"{0}\">Join the meeting</a></p>",
            escape_html(&event.meeting_url)
        ));
    }
    if !event.description.is_empty() {
        text.push_str(&format!("\n{}\n", event.description));
        html.push_str(&format!("<p>{}</p>", escape_html(&event.description)));
    }
    let ics = render(&IcsEvent {
        uid: format!("{}@next.ke", event.id),
        stamp: Utc::now(),
        sequence: u32::try_from(event.version.saturating_sub(1)).unwrap_or(0),
        start: event.start,
        end: event.end,
        summary: event.title.clone(),
        description: (!event.description.is_empty()).then(|| event.description.clone()),
        location: (!event.location.is_empty()).then(|| event.location.clone()),
        url: (!event.meeting_url.is_empty()).then(|| event.meeting_url.clone()),
    });
    mailer.reminder_email(ReminderEmail {
        to,
        subject,
        text,
        html,
        ics: Some(ics),
        message_id: message_id.to_owned(),
    })
}

/// Emails the reconnect notice too, when the user asked for it and email is
/// configured; a failure is logged (the in-app notice is there either way).
pub async fn send_reconnect_notice(ctx: &AppContext, notice: &NewNotification) {
    let Some(mailer) = ctx.senders.mailer.as_ref() else {
        return;
    };
    let prefs = match preferences::of_user(&ctx.db, &notice.user_id).await {
        Ok(prefs) => prefs,
        Err(err) => {
            tracing::warn!(error = %err, "could not read reminder preferences");
            return;
        }
    };
    if !prefs.email_reconnect_notices || prefs.email.is_empty() {
        return;
    }
    let Ok(to) = prefs.email.parse::<Mailbox>() else {
        return;
    };
    let domain = mailer.from().email.domain().to_owned();
    let key = notice
        .dedup_key
        .clone()
        .unwrap_or_default()
        .replace(':', ".");
    let message = mailer.reminder_email(ReminderEmail {
        to,
        subject: notice.title.clone(),
        text: notice.body.clone(),
        html: format!("<p>{}</p>", escape_html(&notice.body)),
        ics: None,
        message_id: format!("<{key}@{domain}>"),
    });
    let sent = match message {
        Ok(message) => mailer.send(message).await,
        Err(err) => Err(err),
    };
    if let Err(err) = sent {
        tracing::warn!(error = %err, "could not email the reconnect notice");
    }
}
