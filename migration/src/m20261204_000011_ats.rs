//! Applicant tracking systems: each organization's integration (its sealed
//! credentials stay in `oauth_credentials`), the platform's job posts and the
//! mapping of synced ones, sync runs, applications with their status history
//! and their delivery to the ATS, and the webhook deliveries received.

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
                    .col(string_len(Integrations::Id, 36).primary_key())
                    .col(string_len(Integrations::OrganizationId, 128))
                    .col(string_len(Integrations::Provider, 32))
                    // the credential row (`oauth_credentials.id`); replaced
                    // credentials get a new row, the integration keeps its id
                    .col(string_len(Integrations::ConnectionId, 36))
                    .col(boolean(Integrations::SyncJobs))
                    .col(boolean(Integrations::SyncApplications))
                    .col(json_binary(Integrations::WebhookEvents))
                    .col(integer(Integrations::SyncIntervalMinutes))
                    .col(timestamp_with_time_zone_null(Integrations::NextSyncAt))
                    // what may be shown of the credentials (never a secret)
                    .col(json_binary(Integrations::CredentialSummary))
                    .col(string_len(Integrations::CreatedBy, 128))
                    .col(timestamp_with_time_zone(Integrations::CreatedAt))
                    .col(timestamp_with_time_zone(Integrations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_ats_integrations_org_provider")
                    .table(Integrations::Table)
                    .col(Integrations::OrganizationId)
                    .col(Integrations::Provider)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ats_integrations_next_sync")
                    .table(Integrations::Table)
                    .col(Integrations::NextSyncAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobPosts::Table)
                    .if_not_exists()
                    .col(string_len(JobPosts::Id, 36).primary_key())
                    .col(string_len(JobPosts::OrganizationId, 128))
                    .col(string_len_null(JobPosts::IntegrationId, 36))
                    .col(string_len_null(JobPosts::Provider, 32))
                    .col(string_len_null(JobPosts::AtsJobId, 128))
                    .col(text(JobPosts::AtsUrl))
                    .col(string_len(JobPosts::Title, 1024))
                    .col(text(JobPosts::DescriptionHtml))
                    .col(text(JobPosts::DescriptionText))
                    .col(string_len(JobPosts::Department, 512))
                    .col(string_len(JobPosts::Location, 512))
                    .col(boolean(JobPosts::Remote))
                    .col(string_len(JobPosts::WorkplaceType, 16))
                    .col(string_len(JobPosts::EmploymentType, 128))
                    .col(double_null(JobPosts::SalaryMin))
                    .col(double_null(JobPosts::SalaryMax))
                    .col(string_len(JobPosts::SalaryCurrency, 8))
                    .col(string_len(JobPosts::SalaryInterval, 64))
                    .col(string_len(JobPosts::Status, 16))
                    .col(timestamp_with_time_zone_null(JobPosts::ClosesAt))
                    .col(json_binary(JobPosts::Questions))
                    // the provider's JSON as last synced
                    .col(json_binary_null(JobPosts::RemoteData))
                    .col(timestamp_with_time_zone(JobPosts::CreatedAt))
                    .col(timestamp_with_time_zone(JobPosts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_job_posts_org_updated",
                vec![JobPosts::OrganizationId, JobPosts::UpdatedAt],
            ),
            (
                "idx_job_posts_integration",
                vec![JobPosts::IntegrationId, JobPosts::Status],
            ),
            ("idx_job_posts_updated", vec![JobPosts::UpdatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(JobPosts::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(JobSyncs::Table)
                    .if_not_exists()
                    .col(string_len(JobSyncs::IntegrationId, 36))
                    .col(string_len(JobSyncs::AtsJobId, 128))
                    .col(string_len(JobSyncs::JobPostId, 36))
                    // SHA-256 of the mapped job: an equal hash is not written
                    .col(string_len(JobSyncs::ContentHash, 64))
                    // the last run whose listing had it: a complete run closes
                    // the posts it did not see
                    .col(string_len(JobSyncs::LastSeenRunId, 36))
                    .col(timestamp_with_time_zone(JobSyncs::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(JobSyncs::IntegrationId)
                            .col(JobSyncs::AtsJobId),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .if_not_exists()
                    .col(string_len(SyncRuns::Id, 36).primary_key())
                    .col(string_len(SyncRuns::IntegrationId, 36))
                    .col(string_len(SyncRuns::Trigger, 16))
                    .col(string_len(SyncRuns::State, 16))
                    .col(integer(SyncRuns::PagesFetched))
                    .col(integer(SyncRuns::Created))
                    .col(integer(SyncRuns::Updated))
                    .col(integer(SyncRuns::Unchanged))
                    .col(integer(SyncRuns::Closed))
                    .col(integer(SyncRuns::Failed))
                    .col(json_binary(SyncRuns::Errors))
                    .col(text_null(SyncRuns::Error))
                    // where the next page starts (the provider's cursor or
                    // offset); null before the first page
                    .col(text_null(SyncRuns::NextPage))
                    .col(boolean(SyncRuns::Resumed))
                    // the process running it and its lease: a run whose lease
                    // ran out was stopped by a crash and is resumed
                    .col(string_len_null(SyncRuns::Worker, 128))
                    .col(timestamp_with_time_zone_null(SyncRuns::LeaseUntil))
                    .col(timestamp_with_time_zone(SyncRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(SyncRuns::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ats_sync_runs_integration")
                    .table(SyncRuns::Table)
                    .col(SyncRuns::IntegrationId)
                    .col(SyncRuns::StartedAt)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // one running sync per integration, whichever process runs it
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_ats_sync_runs_running ON ats_sync_runs (integration_id) WHERE state = 'running'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .if_not_exists()
                    .col(string_len(Applications::Id, 36).primary_key())
                    .col(string_len(Applications::JobPostId, 36))
                    .col(string_len(Applications::OrganizationId, 128))
                    .col(string_len(Applications::UserId, 128))
                    .col(string_len(Applications::IdempotencyKey, 128))
                    .col(string_len(Applications::FirstName, 255))
                    .col(string_len(Applications::LastName, 255))
                    .col(string_len(Applications::Email, 320))
                    .col(string_len(Applications::Phone, 32))
                    .col(string_len(Applications::LinkedinUrl, 2048))
                    .col(text(Applications::CoverLetter))
                    .col(json_binary(Applications::Answers))
                    .col(string_len(Applications::ResumeFilename, 255))
                    .col(string_len(Applications::ResumeContentType, 128))
                    .col(big_integer(Applications::ResumeSize))
                    .col(blob_null(Applications::Resume))
                    .col(string_len(Applications::Status, 16))
                    .col(string_len(Applications::Stage, 512))
                    .col(timestamp_with_time_zone(Applications::CreatedAt))
                    .col(timestamp_with_time_zone(Applications::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_applications_user_key")
                    .table(Applications::Table)
                    .col(Applications::UserId)
                    .col(Applications::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_applications_org_created")
                    .table(Applications::Table)
                    .col(Applications::OrganizationId)
                    .col(Applications::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StatusHistory::Table)
                    .if_not_exists()
                    .col(
                        big_integer(StatusHistory::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string_len(StatusHistory::ApplicationId, 36))
                    .col(string_len(StatusHistory::Status, 16))
                    .col(string_len(StatusHistory::Stage, 512))
                    .col(string_len(StatusHistory::Source, 16))
                    .col(timestamp_with_time_zone(StatusHistory::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_application_status_history_app")
                    .table(StatusHistory::Table)
                    .col(StatusHistory::ApplicationId)
                    .col(StatusHistory::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApplicationSyncs::Table)
                    .if_not_exists()
                    .col(string_len(ApplicationSyncs::ApplicationId, 36).primary_key())
                    .col(string_len(ApplicationSyncs::IntegrationId, 36))
                    .col(string_len(ApplicationSyncs::State, 16))
                    .col(integer(ApplicationSyncs::Attempts))
                    .col(text_null(ApplicationSyncs::LastError))
                    // Greenhouse application, Lever opportunity
                    .col(string_len_null(ApplicationSyncs::AtsApplicationId, 128))
                    .col(string_len_null(ApplicationSyncs::AtsCandidateId, 128))
                    .col(timestamp_with_time_zone_null(ApplicationSyncs::SyncedAt))
                    .col(timestamp_with_time_zone(ApplicationSyncs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ats_application_syncs_ats_id")
                    .table(ApplicationSyncs::Table)
                    .col(ApplicationSyncs::IntegrationId)
                    .col(ApplicationSyncs::AtsApplicationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .if_not_exists()
                    .col(string_len(WebhookDeliveries::Id, 36).primary_key())
                    .col(string_len(WebhookDeliveries::IntegrationId, 36))
                    .col(string_len(WebhookDeliveries::Provider, 32))
                    // Greenhouse-Event-ID, Lever's token
                    .col(string_len(WebhookDeliveries::DedupeKey, 256))
                    .col(string_len(WebhookDeliveries::Event, 128))
                    .col(string_len(WebhookDeliveries::BodySha256, 64))
                    .col(blob(WebhookDeliveries::Body))
                    .col(string_len(WebhookDeliveries::State, 16))
                    .col(text_null(WebhookDeliveries::Error))
                    .col(timestamp_with_time_zone(WebhookDeliveries::ReceivedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::ProcessedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_webhook_deliveries_key")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::IntegrationId)
                    .col(WebhookDeliveries::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDeliveries::Table.into_iden(),
            ApplicationSyncs::Table.into_iden(),
            StatusHistory::Table.into_iden(),
            Applications::Table.into_iden(),
            SyncRuns::Table.into_iden(),
            JobSyncs::Table.into_iden(),
            JobPosts::Table.into_iden(),
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
    #[sea_orm(iden = "ats_integrations")]
    Table,
    Id,
    OrganizationId,
    Provider,
    ConnectionId,
    SyncJobs,
    SyncApplications,
    WebhookEvents,
    SyncIntervalMinutes,
    NextSyncAt,
    CredentialSummary,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JobPosts {
    Table,
    Id,
    OrganizationId,
    IntegrationId,
    Provider,
    AtsJobId,
    AtsUrl,
    Title,
    DescriptionHtml,
    DescriptionText,
    Department,
    Location,
    Remote,
    WorkplaceType,
    EmploymentType,
    SalaryMin,
    SalaryMax,
    SalaryCurrency,
    SalaryInterval,
    Status,
    ClosesAt,
    Questions,
    RemoteData,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JobSyncs {
    #[sea_orm(iden = "ats_job_syncs")]
    Table,
    IntegrationId,
    AtsJobId,
    JobPostId,
    ContentHash,
    LastSeenRunId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncRuns {
    #[sea_orm(iden = "ats_sync_runs")]
    Table,
    Id,
    IntegrationId,
    Trigger,
    State,
    PagesFetched,
    Created,
    Updated,
    Unchanged,
    Closed,
    Failed,
    Errors,
    Error,
    NextPage,
    Resumed,
    Worker,
    LeaseUntil,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    JobPostId,
    OrganizationId,
    UserId,
    IdempotencyKey,
    FirstName,
    LastName,
    Email,
    Phone,
    LinkedinUrl,
    CoverLetter,
    Answers,
    ResumeFilename,
    ResumeContentType,
    ResumeSize,
    Resume,
    Status,
    Stage,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StatusHistory {
    #[sea_orm(iden = "application_status_history")]
    Table,
    Id,
    ApplicationId,
    Status,
    Stage,
    Source,
    ChangedAt,
}

#[derive(DeriveIden)]
enum ApplicationSyncs {
    #[sea_orm(iden = "ats_application_syncs")]
    Table,
    ApplicationId,
    IntegrationId,
    State,
    Attempts,
    LastError,
    AtsApplicationId,
    AtsCandidateId,
    SyncedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    IntegrationId,
    Provider,
    DedupeKey,
    Event,
    BodySha256,
    Body,
    State,
    Error,
    ReceivedAt,
    ProcessedAt,
}
