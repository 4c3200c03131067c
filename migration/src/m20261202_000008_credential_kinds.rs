//! One sealed credential store for every kind of connection: a connection row
//! says which kind of credential it holds (an OAuth user's tokens, an OAuth
//! client's credentials, an OAuth refresh-token client, an API key), may hold
//! the kind's sealed static secret and the sealed webhook signing secrets
//! (the current one, and the previous one until its grace period ends), and
//! carries the "expiry warned" mark that used to live on `linkedin_profiles`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthCredentials {
    Table,
    Id,
    CredentialKind,
    Secret,
    WebhookSecret,
    PreviousWebhookSecret,
    PreviousWebhookSecretUntil,
    ExpiryWarnedAt,
}

#[derive(DeriveIden)]
enum LinkedinProfiles {
    Table,
    ConnectionId,
    ExpiryNotifiedAt,
}

async fn add(manager: &SchemaManager<'_>, column: ColumnDef) -> Result<(), DbErr> {
    // one column per statement: SQLite alters one thing at a time
    manager
        .alter_table(
            Table::alter()
                .table(OauthCredentials::Table)
                .add_column(column)
                .to_owned(),
        )
        .await
}

async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            string_len(OauthCredentials::CredentialKind, 32)
                .default("oauth_user_token")
                .to_owned(),
        )
        .await?;
        add(manager, binary_null(OauthCredentials::Secret)).await?;
        add(manager, binary_null(OauthCredentials::WebhookSecret)).await?;
        add(
            manager,
            binary_null(OauthCredentials::PreviousWebhookSecret),
        )
        .await?;
        add(
            manager,
            timestamp_with_time_zone_null(OauthCredentials::PreviousWebhookSecretUntil),
        )
        .await?;
        add(
            manager,
            timestamp_with_time_zone_null(OauthCredentials::ExpiryWarnedAt),
        )
        .await?;
        // the mark moves from the profile to its connection
        let copy = Query::update()
            .table(OauthCredentials::Table)
            .value(
                OauthCredentials::ExpiryWarnedAt,
                SimpleExpr::SubQuery(
                    None,
                    Box::new(
                        Query::select()
                            .column(LinkedinProfiles::ExpiryNotifiedAt)
                            .from(LinkedinProfiles::Table)
                            .and_where(
                                Expr::col((
                                    LinkedinProfiles::Table,
                                    LinkedinProfiles::ConnectionId,
                                ))
                                .equals((OauthCredentials::Table, OauthCredentials::Id)),
                            )
                            .to_owned()
                            .into_sub_query_statement(),
                    ),
                ),
            )
            .to_owned();
        manager.exec_stmt(copy).await?;
        drop(
            manager,
            LinkedinProfiles::Table,
            LinkedinProfiles::ExpiryNotifiedAt,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LinkedinProfiles::Table)
                    .add_column(timestamp_with_time_zone_null(
                        LinkedinProfiles::ExpiryNotifiedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        for column in [
            OauthCredentials::ExpiryWarnedAt,
            OauthCredentials::PreviousWebhookSecretUntil,
            OauthCredentials::PreviousWebhookSecret,
            OauthCredentials::WebhookSecret,
            OauthCredentials::Secret,
            OauthCredentials::CredentialKind,
        ] {
            drop(manager, OauthCredentials::Table, column).await?;
        }
        Ok(())
    }
}
