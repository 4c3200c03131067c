//! Queries of `ats_integrations` and of what goes with an integration when it
//! is deleted (its job posts closed, its mapping and runs removed).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};

use super::entities::{
    ats_integrations::{self as rows, Entity as Integrations},
    ats_job_syncs, ats_sync_runs, job_posts,
};
use crate::vocab::{JobPostStatus, Provider};

pub use rows::Model as AtsIntegrationRow;

/// Stores a new integration.
pub async fn insert(db: &impl ConnectionTrait, row: AtsIntegrationRow) -> Result<(), DbErr> {
    Integrations::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// One integration by id, whoever owns it (the caller checks the owner).
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<AtsIntegrationRow>, DbErr> {
    Integrations::find_by_id(id.to_owned()).one(db).await
}

/// The organization's integration with `provider`, if any.
pub async fn of_provider(
    db: &impl ConnectionTrait,
    organization_id: &str,
    provider: Provider,
) -> Result<Option<AtsIntegrationRow>, DbErr> {
    Integrations::find()
        .filter(rows::Column::OrganizationId.eq(organization_id))
        .filter(rows::Column::Provider.eq(provider))
        .one(db)
        .await
}

/// The organization's integrations, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    organization_id: &str,
) -> Result<Vec<AtsIntegrationRow>, DbErr> {
    Integrations::find()
        .filter(rows::Column::OrganizationId.eq(organization_id))
        .order_by_asc(rows::Column::CreatedAt)
        .order_by_asc(rows::Column::Id)
        .all(db)
        .await
}

/// Writes a changed integration.
pub async fn update(db: &impl ConnectionTrait, row: AtsIntegrationRow) -> Result<(), DbErr> {
    // every column is written (the key selects the row)
    row.into_active_model()
        .reset_all()
        .update(db)
        .await
        .map(|_| ())
}

/// Integrations whose scheduled sync is due by `now`, soonest first.
pub async fn due_for_sync(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<AtsIntegrationRow>, DbErr> {
    use sea_orm::QuerySelect;
    Integrations::find()
        .filter(rows::Column::NextSyncAt.lte(now))
        .order_by_asc(rows::Column::NextSyncAt)
        .limit(limit)
        .all(db)
        .await
}

/// Sets when the schedule syncs an integration next.
pub async fn set_next_sync(
    db: &impl ConnectionTrait,
    id: &str,
    at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    Integrations::update_many()
        .col_expr(
            rows::Column::NextSyncAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes the integration, closing its open job posts (never deleting
/// them) and removing its sync mapping and runs; answers how many posts were
/// closed.
pub async fn delete_closing_posts(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let closed = job_posts::Entity::update_many()
        .set(job_posts::ActiveModel {
            status: Set(JobPostStatus::Closed),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(job_posts::Column::IntegrationId.eq(id))
        .filter(job_posts::Column::Status.ne(JobPostStatus::Closed))
        .exec(db)
        .await?
        .rows_affected;
    ats_job_syncs::Entity::delete_many()
        .filter(ats_job_syncs::Column::IntegrationId.eq(id))
        .exec(db)
        .await?;
    ats_sync_runs::Entity::delete_many()
        .filter(ats_sync_runs::Column::IntegrationId.eq(id))
        .exec(db)
        .await?;
    Integrations::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(closed)
}
