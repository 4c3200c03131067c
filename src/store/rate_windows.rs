//! Queries of `rate_windows`: one statement counts a hit and says how many the
//! current window holds, so replicas sharing the database share the limit.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict, Query},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
};

use super::entities::rate_windows::{self as windows, Entity as RateWindows};

/// The window a hit was counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Hits in this window, the one just counted included.
    pub hits: i32,
    /// When this window began.
    pub started_at: DateTime<Utc>,
}

/// Counts one hit on `key` at `now`. A window older than `length` is replaced
/// by a new one starting now. Insert, reset and increment are one atomic
/// upsert, so concurrent hits are all counted.
pub async fn hit(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
    length: chrono::Duration,
) -> Result<Window, DbErr> {
    let expired = Expr::col((RateWindows, windows::Column::WindowStartedAt)).lte(now - length);
    let mut insert = Query::insert();
    insert
        .into_table(RateWindows)
        .columns([
            windows::Column::Key,
            windows::Column::WindowStartedAt,
            windows::Column::Hits,
        ])
        .values_panic([key.into(), now.into(), 1.into()])
        .on_conflict(
            OnConflict::column(windows::Column::Key)
                .values([
                    (
                        windows::Column::Hits,
                        Expr::case(expired.clone(), 1)
                            .finally(Expr::col((RateWindows, windows::Column::Hits)).add(1))
                            .into(),
                    ),
                    (
                        windows::Column::WindowStartedAt,
                        Expr::case(expired, now)
                            .finally(Expr::col((RateWindows, windows::Column::WindowStartedAt)))
                            .into(),
                    ),
                ])
                .to_owned(),
        )
        .returning(
            Query::returning().columns([windows::Column::Hits, windows::Column::WindowStartedAt]),
        );
    let row = db
        .query_one(db.get_database_backend().build(&insert))
        .await?
        .ok_or_else(|| DbErr::Custom("rate window upsert returned no row".to_owned()))?;
    Ok(Window {
        hits: row.try_get("", "hits")?,
        started_at: row.try_get("", "window_started_at")?,
    })
}

/// Deletes windows that ended before `cutoff`; returns how many.
pub async fn prune(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(RateWindows::delete_many()
        .filter(windows::Column::WindowStartedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
