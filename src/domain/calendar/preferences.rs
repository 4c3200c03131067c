//! Each user's reminder preferences: channels, addresses, default minutes.

use chrono::Utc;

use super::event::{self, Channel, DEFAULT_REMINDERS};
use crate::{
    auth::Identity,
    context::AppContext,
    error::{AppError, Result},
    store::reminders::{self as store, PreferencesRow},
};

/// A user's preferences (the defaults until they set any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preferences {
    pub channels: Vec<Channel>,
    pub email: String,
    pub whatsapp_number: String,
    pub default_reminder_minutes: Vec<u32>,
    pub email_reconnect_notices: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            channels: vec![Channel::InApp],
            email: String::new(),
            whatsapp_number: String::new(),
            default_reminder_minutes: DEFAULT_REMINDERS.to_vec(),
            email_reconnect_notices: false,
        }
    }
}

impl Preferences {
    /// Whether reminders go out on `channel`, with an address where it needs one.
    pub fn reaches(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
            && match channel {
                Channel::Email => !self.email.is_empty(),
                Channel::WhatsApp => !self.whatsapp_number.is_empty(),
                Channel::InApp => true,
            }
    }
}

/// A change of preferences: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct PreferencesUpdate {
    pub channels: Option<Vec<Channel>>,
    pub email: Option<String>,
    pub whatsapp_number: Option<String>,
    pub default_reminder_minutes: Option<Vec<i32>>,
    pub email_reconnect_notices: Option<bool>,
}

fn from_row(row: PreferencesRow) -> Preferences {
    let channels: Vec<String> = serde_json::from_value(row.channels).unwrap_or_default();
    let minutes: Vec<u32> =
        serde_json::from_value(row.default_reminder_minutes).unwrap_or_default();
    Preferences {
        channels: channels.iter().filter_map(|c| Channel::parse(c)).collect(),
        email: row.email,
        whatsapp_number: row.whatsapp_number,
        default_reminder_minutes: minutes,
        email_reconnect_notices: row.email_reconnect_notices,
    }
}

/// The user's preferences.
pub async fn of_user(db: &impl sea_orm::ConnectionTrait, user_id: &str) -> Result<Preferences> {
    Ok(store::preferences(db, user_id)
        .await?
        .map(from_row)
        .unwrap_or_default())
}

/// The preferences of each of `user_ids` (the defaults for those who set none).
pub async fn of_users(
    db: &impl sea_orm::ConnectionTrait,
    user_ids: &[String],
) -> Result<std::collections::HashMap<String, Preferences>> {
    let mut found: std::collections::HashMap<String, Preferences> =
        store::preferences_of(db, user_ids)
            .await?
            .into_iter()
            .map(|row| (row.user_id.clone(), from_row(row)))
            .collect();
    for user in user_ids {
        found.entry(user.clone()).or_default();
    }
    Ok(found)
}

/// The caller's preferences.
pub async fn get(ctx: &AppContext, caller: &Identity) -> Result<Preferences> {
    super::ensure_enabled(&ctx.config)?;
    of_user(&ctx.db, &caller.user_id).await
}

/// Changes the caller's preferences and answers them as stored.
pub async fn update(
    ctx: &AppContext,
    caller: &Identity,
    update: PreferencesUpdate,
) -> Result<Preferences> {
    super::ensure_enabled(&ctx.config)?;
    let mut prefs = of_user(&ctx.db, &caller.user_id).await?;
    if let Some(mut channels) = update.channels {
        channels.sort_unstable();
        channels.dedup();
        prefs.channels = channels;
    }
    if let Some(email) = update.email {
        prefs.email = if email.is_empty() {
            email
        } else {
            event::email(&email, "email")?
        };
    }
    if let Some(number) = update.whatsapp_number {
        prefs.whatsapp_number = if number.is_empty() {
            number
        } else {
            event::e164(&number, "whatsapp_number")?
        };
    }
    if let Some(minutes) = update.default_reminder_minutes {
        prefs.default_reminder_minutes =
            event::reminder_minutes(&minutes, "default_reminder_minutes")?;
    }
    if let Some(on) = update.email_reconnect_notices {
        prefs.email_reconnect_notices = on;
    }
    if prefs.channels.contains(&Channel::Email) && prefs.email.is_empty() {
        return Err(AppError::invalid(
            "email",
            "is required for the email channel",
        ));
    }
    if prefs.channels.contains(&Channel::WhatsApp) && prefs.whatsapp_number.is_empty() {
        return Err(AppError::invalid(
            "whatsapp_number",
            "is required for the WhatsApp channel",
        ));
    }
    store::save_preferences(
        &ctx.db,
        PreferencesRow {
            user_id: caller.user_id.clone(),
            channels: serde_json::json!(prefs
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()),
            email: prefs.email.clone(),
            whatsapp_number: prefs.whatsapp_number.clone(),
            default_reminder_minutes: serde_json::json!(prefs.default_reminder_minutes),
            email_reconnect_notices: prefs.email_reconnect_notices,
            updated_at: Utc::now(),
        },
    )
    .await?;
    Ok(prefs)
}
