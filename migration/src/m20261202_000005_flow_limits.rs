//! Limits on starting authorization flows: a fixed-window counter per key
//! (`rate_windows`, shared by every replica), and pending flows looked up by
//! their user, newest first, so a cap can drop the oldest.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateWindows {
    Table,
    Key,
    WindowStartedAt,
    Hits,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    UserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateWindows::Table)
                    .if_not_exists()
                    .col(string_len(RateWindows::Key, 200).primary_key())
                    .col(timestamp_with_time_zone(RateWindows::WindowStartedAt))
                    .col(integer(RateWindows::Hits))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_states_user_created")
                    .table(OauthStates::Table)
                    .col(OauthStates::UserId)
                    .col(OauthStates::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_oauth_states_user_created")
                    .table(OauthStates::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RateWindows::Table).to_owned())
            .await
    }
}
