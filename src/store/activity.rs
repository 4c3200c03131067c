//! Queries of `integration_activity_logs`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::vocab::{ActivityName, ActivityStatus, IntegrationKind, Provider};

use super::entities::integration_activity_logs::{self as logs, Entity as Logs};

/// A new row of the activity log.
pub struct NewActivity<'a> {
    pub integration_type: IntegrationKind,
    pub provider: Provider,
    pub activity: ActivityName,
    pub status: ActivityStatus,
    pub duration_ms: i64,
    pub message: &'a str,
    pub user_id: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub connection_id: Option<&'a str>,
}

/// Writes one row; works inside a transaction too.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: NewActivity<'_>,
) -> Result<String, sea_orm::DbErr> {
    let id = uuid::Uuid::now_v7().to_string();
    let model = logs::ActiveModel {
        id: Set(id.clone()),
        integration_type: Set(row.integration_type),
        provider: Set(row.provider),
        activity: Set(row.activity),
        status: Set(row.status),
        duration_ms: Set(row.duration_ms),
        message: Set(row.message.to_owned()),
        user_id: Set(row.user_id.map(str::to_owned)),
        organization_id: Set(row.organization_id.map(str::to_owned)),
        connection_id: Set(row.connection_id.map(str::to_owned)),
        created_at: Set(Utc::now()),
    };
    Logs::insert(model).exec_without_returning(db).await?;
    Ok(id)
}

/// Whose rows a query may see.
pub enum Visibility<'a> {
    /// The caller's own rows, plus the ATS rows of the organizations they administer.
    Caller {
        user_id: &'a str,
        admin_org_ids: &'a [String],
    },
    /// One organization's ATS rows (the caller was checked to be its admin).
    Organization(&'a str),
}

/// Filters of a listing; `None` means any.
#[derive(Default)]
pub struct ListFilter<'a> {
    pub integration_type: Option<IntegrationKind>,
    pub provider: Option<Provider>,
    pub status: Option<ActivityStatus>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Only ids strictly below this one (the previous page's last id).
    pub before_id: Option<&'a str>,
}

/// Newest first, at most `limit` rows.
pub async fn list(
    db: &impl ConnectionTrait,
    visibility: Visibility<'_>,
    filter: ListFilter<'_>,
    limit: u64,
) -> Result<Vec<logs::Model>, sea_orm::DbErr> {
    let ats = IntegrationKind::Ats;
    let scope = match visibility {
        Visibility::Caller {
            user_id,
            admin_org_ids,
        } => {
            let mut scope = Condition::any().add(logs::Column::UserId.eq(user_id));
            if !admin_org_ids.is_empty() {
                scope = scope.add(
                    Condition::all()
                        .add(logs::Column::OrganizationId.is_in(admin_org_ids.iter().cloned()))
                        .add(logs::Column::IntegrationType.eq(ats)),
                );
            }
            scope
        }
        Visibility::Organization(org) => Condition::all()
            .add(logs::Column::OrganizationId.eq(org))
            .add(logs::Column::IntegrationType.eq(ats)),
    };
    let mut query = Logs::find().filter(scope);
    if let Some(v) = filter.integration_type {
        query = query.filter(logs::Column::IntegrationType.eq(v));
    }
    if let Some(v) = filter.provider {
        query = query.filter(logs::Column::Provider.eq(v));
    }
    if let Some(v) = filter.status {
        query = query.filter(logs::Column::Status.eq(v));
    }
    if let Some(v) = filter.start {
        query = query.filter(logs::Column::CreatedAt.gte(v));
    }
    if let Some(v) = filter.end {
        query = query.filter(logs::Column::CreatedAt.lt(v));
    }
    if let Some(v) = filter.before_id {
        query = query.filter(logs::Column::Id.lt(v));
    }
    query
        .order_by_desc(logs::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
