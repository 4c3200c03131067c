//! `linkedin_profiles`: each user's LinkedIn settings, schedule and synced profile.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Profiles::Table)
                    .if_not_exists()
                    .col(string_len(Profiles::UserId, 128).primary_key())
                    .col(string_len(Profiles::ConnectionId, 36))
                    .col(string_len(Profiles::Capability, 32))
                    .col(boolean(Profiles::SyncPicture))
                    .col(boolean(Profiles::SyncExperience))
                    .col(boolean(Profiles::SyncEducation))
                    .col(boolean(Profiles::SyncSkills))
                    .col(string_len(Profiles::Frequency, 16))
                    .col(json_binary(Profiles::Basic))
                    .col(json_binary_null(Profiles::Experience))
                    .col(json_binary_null(Profiles::Education))
                    .col(json_binary_null(Profiles::Skills))
                    .col(json_binary(Profiles::SectionsSyncedAt))
                    .col(timestamp_with_time_zone_null(Profiles::LastSyncedAt))
                    .col(timestamp_with_time_zone_null(Profiles::LastChangedAt))
                    .col(timestamp_with_time_zone_null(Profiles::NextSyncAt))
                    .col(timestamp_with_time_zone_null(Profiles::LastManualSyncAt))
                    .col(timestamp_with_time_zone_null(Profiles::ExpiryNotifiedAt))
                    .col(timestamp_with_time_zone(Profiles::CreatedAt))
                    .col(timestamp_with_time_zone(Profiles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_linkedin_profiles_next_sync")
                    .table(Profiles::Table)
                    .col(Profiles::NextSyncAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Profiles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Profiles {
    #[sea_orm(iden = "linkedin_profiles")]
    Table,
    UserId,
    ConnectionId,
    Capability,
    SyncPicture,
    SyncExperience,
    SyncEducation,
    SyncSkills,
    Frequency,
    Basic,
    Experience,
    Education,
    Skills,
    SectionsSyncedAt,
    LastSyncedAt,
    LastChangedAt,
    NextSyncAt,
    LastManualSyncAt,
    ExpiryNotifiedAt,
    CreatedAt,
    UpdatedAt,
}
