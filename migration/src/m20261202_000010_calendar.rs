//! The calendar integration: each connected account's calendars, the events we
//! put in them, each user's reminder preferences, the deliveries made, and
//! in-app notifications.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Integrations::Table)
                    .if_not_exists()
                    // the connection's credential row (`oauth_credentials.id`)
                    .col(string_len(Integrations::ConnectionId, 36).primary_key())
                    .col(string_len(Integrations::UserId, 128))
                    .col(string_len(Integrations::Provider, 32))
                    .col(string_len(Integrations::AccountEmail, 320))
                    .col(json_binary(Integrations::Calendars))
                    .col(string_len(Integrations::DefaultCalendarId, 1024))
                    .col(boolean(Integrations::IsDefault))
                    .col(timestamp_with_time_zone(Integrations::CreatedAt))
                    .col(timestamp_with_time_zone(Integrations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_integrations_user")
                    .table(Integrations::Table)
                    .col(Integrations::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(string_len(Events::Id, 36).primary_key())
                    .col(string_len(Events::UserId, 128))
                    .col(string_len_null(Events::RequestId, 128))
                    .col(string_len(Events::EventType, 32))
                    .col(string_len(Events::Title, 1024))
                    .col(text(Events::Description))
                    .col(timestamp_with_time_zone(Events::StartAt))
                    .col(timestamp_with_time_zone(Events::EndAt))
                    .col(string_len(Events::TimeZone, 64))
                    .col(text(Events::Location))
                    .col(text(Events::MeetingUrl))
                    .col(json_binary(Events::Attendees))
                    .col(json_binary(Events::ReminderMinutes))
                    .col(string_len_null(Events::JobApplicationId, 128))
                    .col(string_len_null(Events::IntegrationId, 36))
                    .col(string_len_null(Events::Provider, 32))
                    .col(string_len_null(Events::CalendarId, 1024))
                    .col(string_len_null(Events::ProviderEventId, 1024))
                    .col(text_null(Events::HtmlLink))
                    .col(string_len(Events::SyncState, 32))
                    .col(text_null(Events::SyncError))
                    .col(string_len(Events::Status, 16))
                    .col(boolean(Events::NotifyAttendees))
                    // bumped by every change, so a push job sends the latest
                    .col(big_integer(Events::Version))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .col(timestamp_with_time_zone(Events::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_events_user_start")
                    .table(Events::Table)
                    .col(Events::UserId)
                    .col(Events::StartAt)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_calendar_events_request")
                    .table(Events::Table)
                    .col(Events::UserId)
                    .col(Events::RequestId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Preferences::Table)
                    .if_not_exists()
                    .col(string_len(Preferences::UserId, 128).primary_key())
                    .col(json_binary(Preferences::Channels))
                    .col(string_len(Preferences::Email, 320))
                    .col(string_len(Preferences::WhatsappNumber, 16))
                    .col(json_binary(Preferences::DefaultReminderMinutes))
                    .col(boolean(Preferences::EmailReconnectNotices))
                    .col(timestamp_with_time_zone(Preferences::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .if_not_exists()
                    // `{event}:{minutes}:{channel}`: one delivery per reminder and channel
                    .col(string_len(Deliveries::ReminderKey, 96).primary_key())
                    .col(string_len(Deliveries::EventId, 36))
                    .col(string_len(Deliveries::UserId, 128))
                    .col(string_len(Deliveries::Channel, 16))
                    .col(integer(Deliveries::Minutes))
                    .col(timestamp_with_time_zone(Deliveries::DueAt))
                    .col(timestamp_with_time_zone(Deliveries::DeliveredAt))
                    // the Message-ID, the WhatsApp message id or the notification id
                    .col(string_len(Deliveries::ExternalId, 256))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reminder_deliveries_event")
                    .table(Deliveries::Table)
                    .col(Deliveries::EventId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .if_not_exists()
                    .col(
                        big_integer(Notifications::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string_len(Notifications::UserId, 128))
                    .col(string_len(Notifications::Kind, 64))
                    .col(string_len(Notifications::Title, 1024))
                    .col(text(Notifications::Body))
                    .col(string_len_null(Notifications::EventId, 36))
                    // one notification per key (a reminder, a reconnect notice)
                    .col(string_len_null(Notifications::DedupKey, 160).unique_key())
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user_id")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Notifications::Table.into_iden(),
            Deliveries::Table.into_iden(),
            Preferences::Table.into_iden(),
            Events::Table.into_iden(),
            Integrations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Integrations {
    #[sea_orm(iden = "calendar_integrations")]
    Table,
    ConnectionId,
    UserId,
    Provider,
    AccountEmail,
    Calendars,
    DefaultCalendarId,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Events {
    #[sea_orm(iden = "calendar_events")]
    Table,
    Id,
    UserId,
    RequestId,
    EventType,
    Title,
    Description,
    StartAt,
    EndAt,
    TimeZone,
    Location,
    MeetingUrl,
    Attendees,
    ReminderMinutes,
    JobApplicationId,
    IntegrationId,
    Provider,
    CalendarId,
    ProviderEventId,
    HtmlLink,
    SyncState,
    SyncError,
    Status,
    NotifyAttendees,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Preferences {
    #[sea_orm(iden = "reminder_preferences")]
    Table,
    UserId,
    Channels,
    Email,
    WhatsappNumber,
    DefaultReminderMinutes,
    EmailReconnectNotices,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    #[sea_orm(iden = "reminder_deliveries")]
    Table,
    ReminderKey,
    EventId,
    UserId,
    Channel,
    Minutes,
    DueAt,
    DeliveredAt,
    ExternalId,
}

#[derive(DeriveIden)]
enum Notifications {
    #[sea_orm(iden = "notifications")]
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    EventId,
    DedupKey,
    CreatedAt,
    ReadAt,
}
