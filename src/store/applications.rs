//! Queries of `applications`, their status history and their delivery to
//! the ATS (`ats_application_syncs`), and of the job posts they are for.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{
    application_status_history::{self as history, Entity as History},
    applications::{self as apps, Entity as Apps},
    ats_application_syncs::{self as syncs, Entity as Syncs},
    job_posts::{self as posts, Entity as Posts},
};
use crate::vocab::{ApplicationStatus, StatusSource};

pub use apps::Model as ApplicationRow;
pub use history::Model as HistoryRow;
pub use posts::Model as PostRow;
pub use syncs::Model as SyncRow;

/// One job post.
pub async fn post(db: &impl ConnectionTrait, id: &str) -> Result<Option<PostRow>, DbErr> {
    Posts::find_by_id(id.to_owned()).one(db).await
}

/// Filters of a job post listing.
#[derive(Clone, Debug, Default)]
pub struct PostFilter {
    pub organization_id: Option<String>,
    pub integration_id: Option<String>,
    pub status: Option<crate::vocab::JobPostStatus>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub remote: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// A page of job posts, most recently updated first, after `after`
/// (`(updated_at, id)` of the last row of the previous page).
pub async fn posts(
    db: &impl ConnectionTrait,
    filter: &PostFilter,
    after: Option<(DateTime<Utc>, String)>,
    limit: u64,
) -> Result<Vec<PostRow>, DbErr> {
    let mut query = Posts::find();
    if let Some(v) = &filter.organization_id {
        query = query.filter(posts::Column::OrganizationId.eq(v.clone()));
    }
    if let Some(v) = &filter.integration_id {
        query = query.filter(posts::Column::IntegrationId.eq(v.clone()));
    }
    if let Some(v) = filter.status {
        query = query.filter(posts::Column::Status.eq(v));
    }
    if let Some(v) = &filter.department {
        query = query.filter(posts::Column::Department.eq(v.clone()));
    }
    if let Some(v) = &filter.location {
        query = query.filter(posts::Column::Location.eq(v.clone()));
    }
    if let Some(v) = filter.remote {
        query = query.filter(posts::Column::Remote.eq(v));
    }
    if let Some(v) = filter.updated_since {
        query = query.filter(posts::Column::UpdatedAt.gte(v));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any().add(posts::Column::UpdatedAt.lt(at)).add(
                Condition::all()
                    .add(posts::Column::UpdatedAt.eq(at))
                    .add(posts::Column::Id.lt(id)),
            ),
        );
    }
    query
        .order_by_desc(posts::Column::UpdatedAt)
        .order_by_desc(posts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The user's application with this idempotency key.
pub async fn by_key(
    db: &impl ConnectionTrait,
    user_id: &str,
    key: &str,
) -> Result<Option<ApplicationRow>, DbErr> {
    Apps::find()
        .filter(apps::Column::UserId.eq(user_id))
        .filter(apps::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// One application.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<ApplicationRow>, DbErr> {
    Apps::find_by_id(id.to_owned()).one(db).await
}

/// Stores a new application.
pub async fn insert(db: &impl ConnectionTrait, row: ApplicationRow) -> Result<(), DbErr> {
    Apps::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Appends a status change.
pub async fn add_history(
    db: &impl ConnectionTrait,
    application_id: &str,
    status: ApplicationStatus,
    stage: &str,
    source: StatusSource,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    History::insert(history::ActiveModel {
        application_id: Set(application_id.to_owned()),
        status: Set(status),
        stage: Set(stage.to_owned()),
        source: Set(source),
        changed_at: Set(at),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// An application's history, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    application_id: &str,
) -> Result<Vec<HistoryRow>, DbErr> {
    History::find()
        .filter(history::Column::ApplicationId.eq(application_id))
        .order_by_asc(history::Column::Id)
        .limit(500)
        .all(db)
        .await
}

/// Sets an application's status and stage.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: &str,
    status: ApplicationStatus,
    stage: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Apps::update_many()
        .set(apps::ActiveModel {
            status: Set(status),
            stage: Set(stage.to_owned()),
            updated_at: Set(at),
            ..Default::default()
        })
        .filter(apps::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// A page of applications, newest first: the user's, or the organization's.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Option<&str>,
    organization_id: Option<&str>,
    job_post_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<ApplicationRow>, DbErr> {
    let mut query = Apps::find();
    if let Some(v) = user_id {
        query = query.filter(apps::Column::UserId.eq(v));
    }
    if let Some(v) = organization_id {
        query = query.filter(apps::Column::OrganizationId.eq(v));
    }
    if let Some(v) = job_post_id {
        query = query.filter(apps::Column::JobPostId.eq(v));
    }
    query
        .order_by_desc(apps::Column::CreatedAt)
        .order_by_desc(apps::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}

/// Stores an application's delivery row.
pub async fn insert_sync(db: &impl ConnectionTrait, row: SyncRow) -> Result<(), DbErr> {
    Syncs::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// An application's delivery row.
pub async fn sync_of(
    db: &impl ConnectionTrait,
    application_id: &str,
) -> Result<Option<SyncRow>, DbErr> {
    Syncs::find_by_id(application_id.to_owned()).one(db).await
}

/// The delivery row of the ATS's application `ats_id` in an integration.
pub async fn sync_by_ats_id(
    db: &impl ConnectionTrait,
    integration_id: &str,
    ats_id: &str,
) -> Result<Option<SyncRow>, DbErr> {
    Syncs::find()
        .filter(syncs::Column::IntegrationId.eq(integration_id))
        .filter(syncs::Column::AtsApplicationId.eq(ats_id))
        .one(db)
        .await
}

/// Writes a delivery row.
pub async fn save_sync(db: &impl ConnectionTrait, row: SyncRow) -> Result<(), DbErr> {
    Syncs::update(row.into_active_model().reset_all())
        .exec(db)
        .await
        .map(|_| ())
}
