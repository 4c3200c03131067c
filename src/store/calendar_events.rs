//! Queries of `calendar_events`. Every read is scoped by the owning user.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::calendar_events::{self as rows, Entity as Events};

pub use rows::{ActiveModel as EventChange, Column as EventColumn, Model as EventRow};

/// One of the user's events (another user's id is `None`).
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: &str,
    event_id: &str,
) -> Result<Option<EventRow>, DbErr> {
    Events::find_by_id(event_id.to_owned())
        .filter(rows::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// An event by id alone, for background work that carries the id it was given.
pub async fn find_by_id(
    db: &impl ConnectionTrait,
    event_id: &str,
) -> Result<Option<EventRow>, DbErr> {
    Events::find_by_id(event_id.to_owned()).one(db).await
}

/// Events by id alone, for a batch of background work (missing ids are left out).
pub async fn find_many(
    db: &impl ConnectionTrait,
    event_ids: &[String],
) -> Result<Vec<EventRow>, DbErr> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    Events::find()
        .filter(rows::Column::Id.is_in(event_ids.iter().cloned()))
        .all(db)
        .await
}

/// One of the user's events, locked until the transaction ends (see
/// `linkedin_profiles::lock` for how the lock works on both databases).
pub async fn lock(
    db: &impl ConnectionTrait,
    user_id: &str,
    event_id: &str,
) -> Result<Option<EventRow>, DbErr> {
    let locked = Events::update_many()
        .col_expr(
            rows::Column::Version,
            Expr::col(rows::Column::Version).into(),
        )
        .filter(rows::Column::Id.eq(event_id))
        .filter(rows::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if locked.rows_affected == 0 {
        return Ok(None);
    }
    find(db, user_id, event_id).await
}

/// The user's event created with `request_id`, if any.
pub async fn find_by_request(
    db: &impl ConnectionTrait,
    user_id: &str,
    request_id: &str,
) -> Result<Option<EventRow>, DbErr> {
    Events::find()
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::RequestId.eq(request_id))
        .one(db)
        .await
}

/// Inserts a new event.
pub async fn insert(db: &impl ConnectionTrait, row: EventRow) -> Result<(), DbErr> {
    let active: rows::ActiveModel = row.into();
    Events::insert(active).exec_without_returning(db).await?;
    Ok(())
}

/// Applies `change` to the user's event, bumping its version.
pub async fn update(
    db: &impl ConnectionTrait,
    user_id: &str,
    event_id: &str,
    mut change: EventChange,
) -> Result<(), DbErr> {
    change.updated_at = Set(Utc::now());
    Events::update_many()
        .set(change)
        .col_expr(
            rows::Column::Version,
            Expr::col(rows::Column::Version).add(1),
        )
        .filter(rows::Column::Id.eq(event_id))
        .filter(rows::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records the outcome of a push of `version` to the provider; a row changed
/// since (a newer version) is left for the push that follows it.
pub async fn record_push(
    db: &impl ConnectionTrait,
    event_id: &str,
    version: i64,
    mut change: EventChange,
) -> Result<bool, DbErr> {
    change.updated_at = Set(Utc::now());
    let done = Events::update_many()
        .set(change)
        .filter(rows::Column::Id.eq(event_id))
        .filter(rows::Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Where a listing starts: after this (start, id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventCursor {
    pub start_at: DateTime<Utc>,
    pub id: String,
}

/// What a listing keeps.
#[derive(Clone, Debug, Default)]
pub struct EventFilter<'a> {
    /// Events ending after this.
    pub from: Option<DateTime<Utc>>,
    /// Events starting before this.
    pub until: Option<DateTime<Utc>>,
    pub event_type: Option<&'a str>,
    pub include_cancelled: bool,
}

/// The user's events in start order, after `cursor`, at most `limit`.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: &str,
    filter: &EventFilter<'_>,
    cursor: Option<&EventCursor>,
    limit: u64,
) -> Result<Vec<EventRow>, DbErr> {
    let mut query = Events::find().filter(rows::Column::UserId.eq(user_id));
    if let Some(from) = filter.from {
        query = query.filter(rows::Column::EndAt.gt(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(rows::Column::StartAt.lt(until));
    }
    if let Some(kind) = filter.event_type {
        query = query.filter(rows::Column::EventType.eq(kind));
    }
    if !filter.include_cancelled {
        query = query.filter(rows::Column::Status.ne("cancelled"));
    }
    if let Some(cursor) = cursor {
        query = query.filter(
            Condition::any()
                .add(rows::Column::StartAt.gt(cursor.start_at))
                .add(
                    Condition::all()
                        .add(rows::Column::StartAt.eq(cursor.start_at))
                        .add(rows::Column::Id.gt(cursor.id.clone())),
                ),
        );
    }
    query
        .order_by_asc(rows::Column::StartAt)
        .order_by_asc(rows::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The user's scheduled events overlapping `[from, until)`, at most `limit`.
pub async fn busy(
    db: &impl ConnectionTrait,
    user_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, DbErr> {
    Events::find()
        .select_only()
        .column(rows::Column::StartAt)
        .column(rows::Column::EndAt)
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::Status.eq("scheduled"))
        .filter(rows::Column::EndAt.gt(from))
        .filter(rows::Column::StartAt.lt(until))
        .order_by_asc(rows::Column::StartAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// The user's scheduled events in `integration_id` that start after `after`
/// (their reminders are cancelled on request at disconnect).
pub async fn upcoming_in(
    db: &impl ConnectionTrait,
    user_id: &str,
    integration_id: &str,
    after: DateTime<Utc>,
) -> Result<Vec<EventRow>, DbErr> {
    Events::find()
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::IntegrationId.eq(integration_id))
        .filter(rows::Column::Status.eq("scheduled"))
        .filter(rows::Column::StartAt.gt(after))
        .all(db)
        .await
}

/// Detaches the events of a disconnected account: they stay in the
/// provider's calendar, but we can no longer change them there.
pub async fn detach(db: &impl ConnectionTrait, integration_id: &str) -> Result<(), DbErr> {
    Events::update_many()
        .set(rows::ActiveModel {
            sync_state: Set("not_connected".to_owned()),
            integration_id: Set(None),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .filter(rows::Column::IntegrationId.eq(integration_id))
        .exec(db)
        .await?;
    Ok(())
}
