//! Foundation tables: the activity log, pending OAuth flows and sealed OAuth credentials.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ActivityLogs::Table)
                    .if_not_exists()
                    .col(string_len(ActivityLogs::Id, 36).primary_key())
                    .col(string_len(ActivityLogs::IntegrationType, 32))
                    .col(string_len(ActivityLogs::Provider, 32))
                    .col(string_len(ActivityLogs::Activity, 64))
                    .col(string_len(ActivityLogs::Status, 16))
                    .col(big_integer(ActivityLogs::DurationMs))
                    .col(text(ActivityLogs::Message))
                    .col(string_len_null(ActivityLogs::UserId, 128))
                    .col(string_len_null(ActivityLogs::OrganizationId, 128))
                    .col(string_len_null(ActivityLogs::ConnectionId, 36))
                    .col(timestamp_with_time_zone(ActivityLogs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_activity_user", ActivityLogs::UserId),
            ("idx_activity_org", ActivityLogs::OrganizationId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ActivityLogs::Table)
                        .col(col)
                        .col(ActivityLogs::Id)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .if_not_exists()
                    .col(string_len(OauthStates::StateHash, 64).primary_key())
                    .col(string_len(OauthStates::Provider, 32))
                    .col(string_len(OauthStates::UserId, 128))
                    .col(string_len_null(OauthStates::OrganizationId, 128))
                    .col(binary(OauthStates::PkceVerifier))
                    .col(text(OauthStates::RedirectUri))
                    .col(text(OauthStates::Scopes))
                    .col(text(OauthStates::ReturnTo))
                    .col(timestamp_with_time_zone(OauthStates::ExpiresAt))
                    .col(timestamp_with_time_zone(OauthStates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_states_expires")
                    .table(OauthStates::Table)
                    .col(OauthStates::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthCredentials::Table)
                    .if_not_exists()
                    .col(string_len(OauthCredentials::Id, 36).primary_key())
                    .col(string_len(OauthCredentials::Provider, 32))
                    .col(string_len(OauthCredentials::Owner, 140))
                    .col(string_len(OauthCredentials::UserId, 128))
                    .col(string_len_null(OauthCredentials::OrganizationId, 128))
                    .col(string_len_null(OauthCredentials::AccountId, 256))
                    .col(text(OauthCredentials::Scopes))
                    .col(binary(OauthCredentials::AccessToken))
                    .col(binary_null(OauthCredentials::RefreshToken))
                    .col(timestamp_with_time_zone_null(
                        OauthCredentials::TokenExpiresAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        OauthCredentials::RefreshTokenExpiresAt,
                    ))
                    .col(string_len(OauthCredentials::KeyId, 32))
                    .col(integer(OauthCredentials::TokenVersion))
                    .col(string_len(OauthCredentials::State, 16))
                    .col(timestamp_with_time_zone_null(
                        OauthCredentials::LastSuccessAt,
                    ))
                    .col(timestamp_with_time_zone_null(OauthCredentials::LastErrorAt))
                    .col(text_null(OauthCredentials::LastError))
                    .col(timestamp_with_time_zone(OauthCredentials::ConnectedAt))
                    .col(timestamp_with_time_zone(OauthCredentials::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_oauth_credentials_owner")
                    .table(OauthCredentials::Table)
                    .col(OauthCredentials::Provider)
                    .col(OauthCredentials::Owner)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_oauth_credentials_user", OauthCredentials::UserId),
            (
                "idx_oauth_credentials_org",
                OauthCredentials::OrganizationId,
            ),
            (
                "idx_oauth_credentials_expiry",
                OauthCredentials::TokenExpiresAt,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(OauthCredentials::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthCredentials::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OauthStates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ActivityLogs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ActivityLogs {
    #[sea_orm(iden = "integration_activity_logs")]
    Table,
    Id,
    IntegrationType,
    Provider,
    Activity,
    Status,
    DurationMs,
    Message,
    UserId,
    OrganizationId,
    ConnectionId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    StateHash,
    Provider,
    UserId,
    OrganizationId,
    PkceVerifier,
    RedirectUri,
    Scopes,
    ReturnTo,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthCredentials {
    Table,
    Id,
    Provider,
    Owner,
    UserId,
    OrganizationId,
    AccountId,
    Scopes,
    AccessToken,
    RefreshToken,
    TokenExpiresAt,
    RefreshTokenExpiresAt,
    KeyId,
    TokenVersion,
    State,
    LastSuccessAt,
    LastErrorAt,
    LastError,
    ConnectedAt,
    UpdatedAt,
}
