//! Connecting a calendar account: starting the flow, and the calendar's part
//! of the shared callback (read the account and its calendars, store them
//! with the connection); forgetting them at disconnect.

use chrono::Utc;
use sea_orm::DatabaseTransaction;

use super::{client_of, integrations::StoredCalendar};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{
        connections::{self, ConnectFailure, Connecting, Connector, StartedAuth},
        notifications,
        types::Provider,
    },
    error::{AppError, Result},
    oauth::ConnectionOwner,
    store::{
        calendar_events,
        calendar_integrations::{self as store, IntegrationRow},
        credentials::Credential,
        notifications::NewNotification,
    },
};

/// Google: events, and read access for the calendar list and free/busy
/// (`calendar.events` alone cannot ask `freeBusy`).
pub const GOOGLE_SCOPES: [&str; 4] = [
    "openid",
    "email",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.readonly",
];
/// Microsoft Graph: a refresh token, the account, and calendars read-write
/// (which `getSchedule` accepts too).
pub const MICROSOFT_SCOPES: [&str; 3] = ["offline_access", "User.Read", "Calendars.ReadWrite"];

/// Starts connecting the caller's Google or Microsoft calendar.
pub async fn start_auth(
    ctx: &AppContext,
    caller: &Identity,
    provider: Option<Provider>,
) -> Result<StartedAuth> {
    super::ensure_enabled(&ctx.config)?;
    let (provider, scopes): (Provider, &[&str]) = match provider {
        Some(Provider::Google) => (Provider::Google, &GOOGLE_SCOPES),
        Some(Provider::Microsoft) => (Provider::Microsoft, &MICROSOFT_SCOPES),
        _ => {
            return Err(AppError::invalid(
                "provider",
                "must be PROVIDER_GOOGLE or PROVIDER_MICROSOFT",
            ))
        }
    };
    let owner = ConnectionOwner::User {
        user_id: caller.user_id.clone(),
    };
    connections::start_auth(ctx, &owner, provider, scopes).await
}

/// A calendar provider's part of the connection lifecycle.
pub struct CalendarConnector;

#[async_trait::async_trait]
impl Connector for CalendarConnector {
    async fn connect(&self, connecting: Connecting<'_>) -> std::result::Result<(), ConnectFailure> {
        let ctx = connecting.ctx;
        let provider = connecting.provider;
        let client = client_of(ctx, provider, None).ok_or_else(|| {
            ConnectFailure::new("unsupported_provider", "not a calendar provider")
        })?;
        let account = client
            .account(&connecting.tokens.access_token)
            .await
            .map_err(|_| {
                ConnectFailure::new("provider_error", "reading the calendar account failed")
            })?;
        let user_id = connecting.flow.user_id.clone();
        let calendars: Vec<StoredCalendar> = account
            .calendars
            .iter()
            .map(|c| StoredCalendar {
                id: c.id.clone(),
                name: c.name.clone(),
                primary: c.primary,
            })
            .collect();
        let primary = calendars
            .iter()
            .find(|c| c.primary)
            .or(calendars.first())
            .map(|c| c.id.clone())
            .unwrap_or_else(|| "primary".to_owned());
        let txn = connecting.begin().await?;
        let connection_id = connecting.save(&txn, Some(&account.email)).await?;
        let others = store::list(&txn, &user_id)
            .await
            .map_err(ConnectFailure::db)?;
        let first = !others.iter().any(|r| r.connection_id != connection_id);
        let now = Utc::now();
        store::upsert(
            &txn,
            IntegrationRow {
                connection_id: connection_id.clone(),
                user_id: user_id.clone(),
                provider,
                account_email: account.email.clone(),
                calendars: serde_json::json!(calendars),
                default_calendar_id: primary,
                is_default: first,
                created_at: now,
                updated_at: now,
            },
        )
        .await
        .map_err(ConnectFailure::db)?;
        let message = format!(
            "connected {provider} calendar ({} calendars)",
            calendars.len()
        );
        connecting.finish(txn, &connection_id, message).await
    }

    async fn needs_reauth(&self, ctx: &AppContext, connection: &Credential) {
        let provider = match connection.provider {
            Provider::Google => "Google Calendar",
            Provider::Microsoft => "Outlook",
            _ => "calendar",
        };
        // once per connection: a reconnect starts a new one (a new connected_at)
        let key = format!(
            "calendar.reconnect:{}:{}",
            connection.id,
            connection.connected_at.timestamp()
        );
        let notice = NewNotification {
            user_id: connection.user_id.clone(),
            kind: "calendar.reconnect".to_owned(),
            title: format!("Reconnect your {provider}"),
            body: format!(
                "{provider} no longer accepts our access. Reconnect it so your events and reminders stay in your calendar."
            ),
            event_id: None,
            dedup_key: Some(key),
        };
        match notifications::notify(ctx, notice.clone()).await {
            Ok((_, true)) => super::email::send_reconnect_notice(ctx, &notice).await,
            Ok((_, false)) => {}
            Err(err) => tracing::warn!(error = %err, "could not record the reconnect notice"),
        }
    }

    fn pending_jobs(&self, _connection: &Credential) -> Vec<String> {
        Vec::new()
    }

    async fn forget(
        &self,
        txn: &DatabaseTransaction,
        connection: &Credential,
    ) -> std::result::Result<(), sea_orm::DbErr> {
        let was_default = store::find(txn, &connection.user_id, &connection.id)
            .await?
            .is_some_and(|r| r.is_default);
        store::delete(txn, &connection.id).await?;
        calendar_events::detach(txn, &connection.id).await?;
        if was_default {
            if let Some(next) = store::list(txn, &connection.user_id)
                .await?
                .into_iter()
                .next()
            {
                store::set_default(
                    txn,
                    &connection.user_id,
                    &next.connection_id,
                    &next.default_calendar_id,
                )
                .await?;
            }
        }
        Ok(())
    }
}
