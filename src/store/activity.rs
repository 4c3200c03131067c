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

/// Whose rows a query may see: a user's own rows, and the rows of some
/// organizations restricted to some integration kinds. The caller decides who
/// may see what; this only says which rows that is.
#[derive(Default)]
pub struct Scope<'a> {
    /// Every row of this user.
    pub user_id: Option<&'a str>,
    /// Rows of these organizations...
    pub organization_ids: &'a [String],
    /// ...of these integration kinds only.
    pub organization_kinds: &'a [IntegrationKind],
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
    scope: Scope<'_>,
    filter: ListFilter<'_>,
    limit: u64,
) -> Result<Vec<logs::Model>, sea_orm::DbErr> {
    let mut visible = Condition::any();
    if let Some(user_id) = scope.user_id {
        visible = visible.add(logs::Column::UserId.eq(user_id));
    }
    if !scope.organization_ids.is_empty() && !scope.organization_kinds.is_empty() {
        visible = visible.add(
            Condition::all()
                .add(logs::Column::OrganizationId.is_in(scope.organization_ids.iter().cloned()))
                .add(logs::Column::IntegrationType.is_in(scope.organization_kinds.iter().copied())),
        );
    }
    if visible.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = Logs::find().filter(visible);
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
