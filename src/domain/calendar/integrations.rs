//! The caller's connected calendar accounts: listing them, choosing the
//! default, disconnecting, and finding where an event goes.

use chrono::Utc;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};

use super::reminders;
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{
        connections,
        status::effective_state,
        types::{ConnectionState, Provider},
    },
    error::{AppError, Result},
    oauth::Revocation,
    store::{
        calendar_events,
        calendar_integrations::{self as store, IntegrationRow},
        credentials::{self, Credential},
    },
};

/// One calendar of an account, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCalendar {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub primary: bool,
}

/// A connected calendar account as the caller sees it.
#[derive(Clone, Debug)]
pub struct Integration {
    pub id: String,
    pub provider: Provider,
    pub account_email: String,
    pub state: ConnectionState,
    pub is_default: bool,
    pub calendars: Vec<StoredCalendar>,
    pub default_calendar_id: String,
    pub connected_at: chrono::DateTime<Utc>,
    pub last_error: Option<String>,
}

fn calendars_of(row: &IntegrationRow) -> Vec<StoredCalendar> {
    serde_json::from_value(row.calendars.clone()).unwrap_or_default()
}

fn view(row: IntegrationRow, connection: &Credential) -> Integration {
    Integration {
        calendars: calendars_of(&row),
        id: row.connection_id,
        provider: row.provider,
        account_email: row.account_email,
        state: effective_state(
            connection.state,
            connection.refresh_token.is_some(),
            connection.token_expires_at,
            Utc::now(),
        ),
        is_default: row.is_default,
        default_calendar_id: row.default_calendar_id,
        connected_at: connection.connected_at,
        last_error: connection.last_error.clone(),
    }
}

/// The caller's accounts, oldest first.
pub async fn list(ctx: &AppContext, caller: &Identity) -> Result<Vec<Integration>> {
    super::ensure_enabled(&ctx.config)?;
    list_of(ctx, &caller.user_id).await
}

/// A user's accounts with their connections.
pub async fn list_of(ctx: &AppContext, user_id: &str) -> Result<Vec<Integration>> {
    let rows = store::list(&ctx.db, user_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(connection) = credentials::find(&ctx.db, &row.connection_id).await? {
            out.push(view(row, &connection));
        }
    }
    Ok(out)
}

/// One of the caller's accounts and its connection.
async fn find(
    ctx: &AppContext,
    user_id: &str,
    integration_id: &str,
) -> Result<(IntegrationRow, Credential)> {
    if integration_id.is_empty() {
        return Err(AppError::invalid("integration_id", "is required"));
    }
    if integration_id.len() > 36 {
        return Err(AppError::NotFound("calendar integration"));
    }
    let row = store::find(&ctx.db, user_id, integration_id)
        .await?
        .ok_or(AppError::NotFound("calendar integration"))?;
    let connection = credentials::find(&ctx.db, integration_id)
        .await?
        .ok_or(AppError::NotFound("calendar integration"))?;
    Ok((row, connection))
}

/// Makes one of the caller's accounts (and one of its calendars) the default.
pub async fn set_default(
    ctx: &AppContext,
    caller: &Identity,
    integration_id: &str,
    calendar_id: &str,
) -> Result<Integration> {
    super::ensure_enabled(&ctx.config)?;
    let (row, _) = find(ctx, &caller.user_id, integration_id).await?;
    let calendars = calendars_of(&row);
    let calendar = if calendar_id.is_empty() {
        calendars
            .iter()
            .find(|c| c.primary)
            .or(calendars.first())
            .map(|c| c.id.clone())
            .unwrap_or_else(|| row.default_calendar_id.clone())
    } else {
        calendars
            .iter()
            .find(|c| c.id == calendar_id)
            .map(|c| c.id.clone())
            .ok_or(AppError::NotFound("calendar"))?
    };
    let txn = ctx.db.begin().await?;
    store::set_default(&txn, &caller.user_id, &row.connection_id, &calendar).await?;
    txn.commit().await?;
    let (row, connection) = find(ctx, &caller.user_id, integration_id).await?;
    Ok(view(row, &connection))
}

/// Where an event goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub integration_id: String,
    pub provider: Provider,
    pub calendar_id: String,
}

/// The account and calendar an event goes to: the one named, else the
/// default one; `None` when the user has connected no calendar.
pub async fn target(
    ctx: &AppContext,
    user_id: &str,
    integration_id: Option<&str>,
    calendar_id: Option<&str>,
) -> Result<Option<Target>> {
    let row = match integration_id {
        Some(id) => Some(find(ctx, user_id, id).await?.0),
        None => {
            if calendar_id.is_some() {
                return Err(AppError::invalid("calendar_id", "needs integration_id"));
            }
            let rows = store::list(&ctx.db, user_id).await?;
            let default = rows.iter().position(|r| r.is_default).unwrap_or(0);
            rows.into_iter().nth(default)
        }
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let calendar_id = match calendar_id {
        Some(id) => calendars_of(&row)
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.id)
            .ok_or(AppError::NotFound("calendar"))?,
        None => row.default_calendar_id.clone(),
    };
    Ok(Some(Target {
        integration_id: row.connection_id,
        provider: row.provider,
        calendar_id,
    }))
}

/// What a disconnect came to.
#[derive(Clone, Copy, Debug)]
pub struct Disconnected {
    pub revoked_at_provider: bool,
    pub reminders_cancelled: u64,
}

/// Disconnects one of the caller's accounts. Its events stay in the
/// provider's calendar; their reminders stay too, unless asked otherwise.
pub async fn disconnect(
    ctx: &AppContext,
    caller: &Identity,
    integration_id: &str,
    cancel_pending_reminders: bool,
) -> Result<Disconnected> {
    super::ensure_enabled(&ctx.config)?;
    let (_, connection) = find(ctx, &caller.user_id, integration_id).await?;
    let mut reminders_cancelled = 0;
    if cancel_pending_reminders {
        let upcoming =
            calendar_events::upcoming_in(&ctx.db, &caller.user_id, integration_id, Utc::now())
                .await?;
        let txn = ctx.db.begin().await?;
        for event in upcoming {
            let minutes: Vec<u32> =
                serde_json::from_value(event.reminder_minutes).unwrap_or_default();
            reminders_cancelled += reminders::unschedule(&txn, &event.id, &minutes).await?;
        }
        txn.commit().await?;
    }
    let revocation = connections::disconnect(ctx, &connection).await?;
    Ok(Disconnected {
        revoked_at_provider: revocation == Revocation::Confirmed,
        reminders_cancelled,
    })
}
