//! Queries of `notifications`. Every read is scoped by the owning user.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};

use super::entities::notifications::{self as rows, Entity as Notifications};

pub use rows::Model as NotificationRow;

/// A notification to create.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub user_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub event_id: Option<String>,
    /// At most one notification per key.
    pub dedup_key: Option<String>,
}

fn active_model(new: NewNotification, created_at: DateTime<Utc>) -> rows::ActiveModel {
    rows::ActiveModel {
        id: NotSet,
        user_id: Set(new.user_id),
        kind: Set(new.kind),
        title: Set(new.title),
        body: Set(new.body),
        event_id: Set(new.event_id),
        dedup_key: Set(new.dedup_key),
        created_at: Set(created_at),
        read_at: Set(None),
    }
}

/// Creates a notification; with a key already used, nothing is created.
/// Returns the notification and whether it is new.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewNotification,
) -> Result<(NotificationRow, bool), DbErr> {
    let key = new.dedup_key.clone();
    let inserted = Notifications::insert(active_model(new, Utc::now()))
        .on_conflict(
            OnConflict::column(rows::Column::DedupKey)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_with_returning(db)
        .await?;
    match inserted {
        TryInsertResult::Inserted(row) => Ok((row, true)),
        TryInsertResult::Conflicted | TryInsertResult::Empty => {
            let key = key.ok_or_else(|| DbErr::RecordNotInserted)?;
            let row = by_key(db, &key).await?.ok_or(DbErr::RecordNotInserted)?;
            Ok((row, false))
        }
    }
}

/// Creates notifications in one statement, each with its dedup key; a key
/// used already creates nothing. Returns the notification of every key (new
/// or earlier).
pub async fn create_many(
    db: &impl ConnectionTrait,
    news: Vec<NewNotification>,
) -> Result<Vec<NotificationRow>, DbErr> {
    let keys: Vec<String> = news.iter().filter_map(|n| n.dedup_key.clone()).collect();
    if keys.len() != news.len() {
        return Err(DbErr::Custom(
            "notifications created together need a dedup key each".to_owned(),
        ));
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    Notifications::insert_many(news.into_iter().map(|new| active_model(new, now)))
        .on_conflict(
            OnConflict::column(rows::Column::DedupKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Notifications::find()
        .filter(rows::Column::DedupKey.is_in(keys))
        .all(db)
        .await
}

async fn by_key(db: &impl ConnectionTrait, key: &str) -> Result<Option<NotificationRow>, DbErr> {
    Notifications::find()
        .filter(rows::Column::DedupKey.eq(key))
        .one(db)
        .await
}

/// The user's notifications newest first, before `before` (an id), at most `limit`.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: &str,
    unread_only: bool,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<NotificationRow>, DbErr> {
    let mut query = Notifications::find().filter(rows::Column::UserId.eq(user_id));
    if unread_only {
        query = query.filter(rows::Column::ReadAt.is_null());
    }
    if let Some(before) = before {
        query = query.filter(rows::Column::Id.lt(before));
    }
    query
        .order_by_desc(rows::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The user's notifications after `after` (an id), oldest first, at most `limit`.
pub async fn after(
    db: &impl ConnectionTrait,
    user_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<NotificationRow>, DbErr> {
    Notifications::find()
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::Id.gt(after))
        .order_by_asc(rows::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The id of the user's newest notification (0 when none).
pub async fn newest_id(db: &impl ConnectionTrait, user_id: &str) -> Result<i64, DbErr> {
    let id: Option<Option<i64>> = Notifications::find()
        .select_only()
        .column_as(rows::Column::Id.max(), "id")
        .filter(rows::Column::UserId.eq(user_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(id.flatten().unwrap_or(0))
}

/// How many of the user's notifications are unread.
pub async fn unread_count(db: &impl ConnectionTrait, user_id: &str) -> Result<u64, DbErr> {
    Notifications::find()
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::ReadAt.is_null())
        .count(db)
        .await
}

/// Marks the user's unread notifications among `ids` (all of them when
/// `None`) read at `at`; returns how many changed.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: &str,
    ids: Option<&[i64]>,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = Notifications::update_many()
        .col_expr(rows::Column::ReadAt, sea_orm::sea_query::Expr::value(at))
        .filter(rows::Column::UserId.eq(user_id))
        .filter(rows::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(rows::Column::Id.is_in(ids.iter().copied()));
    }
    Ok(update.exec(db).await?.rows_affected)
}
