//! Queries of `jobs` and `scheduler_ticks`: the queue's whole life cycle in
//! SQL that runs on PostgreSQL (claims with `FOR UPDATE SKIP LOCKED`) and on
//! SQLite (one statement, which SQLite runs alone).

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, LockBehavior, LockType, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{
    jobs::{self, Entity as Jobs},
    scheduler_ticks::{self, Entity as Ticks},
};

pub use jobs::Model as JobRow;

use crate::error::is_unique_violation;
pub use crate::vocab::JobState;

/// A job to insert.
pub struct NewJobRow {
    pub kind: String,
    pub payload: serde_json::Value,
    pub unique_key: Option<String>,
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
}

/// The row of a new pending job.
fn pending_row(row: NewJobRow, now: DateTime<Utc>) -> jobs::ActiveModel {
    jobs::ActiveModel {
        kind: Set(row.kind),
        payload: Set(row.payload),
        unique_key: Set(row.unique_key),
        state: Set(JobState::Pending),
        priority: Set(row.priority),
        run_at: Set(row.run_at),
        attempts: Set(0),
        max_attempts: Set(row.max_attempts),
        locked_by: Set(None),
        locked_until: Set(None),
        last_error: Set(None),
        user_id: Set(row.user_id),
        organization_id: Set(row.organization_id),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
        ..Default::default()
    }
}

/// The channel idle worker pools listen on (PostgreSQL): `"<kind> <epoch ms>"`,
/// the earliest `run_at` of jobs of that kind that just became pending.
pub const NOTIFY_CHANNEL: &str = "nextke_jobs";

/// Tells idle pools (PostgreSQL) that jobs of `kind` are pending from
/// `run_at` on. On a connection it is a statement of its own, sent after
/// the insert committed: a transaction that notifies holds PostgreSQL's one
/// notification lock through its commit's WAL flush, so notifying inside
/// every enqueue serialized all enqueues on the disk. Inside the caller's
/// transaction it is delivered when that commits, or never. Nothing on SQLite.
pub async fn notify_pending(
    db: &impl ConnectionTrait,
    kind: &str,
    run_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let payload = format!("{kind} {}", run_at.timestamp_millis());
    db.execute(sea_orm::Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [NOTIFY_CHANNEL.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// Inserts a job and notifies idle pools; `None` when a pending job with the
/// same unique key exists.
pub async fn insert(db: &impl ConnectionTrait, row: NewJobRow) -> Result<Option<i64>, DbErr> {
    let (kind, run_at) = (row.kind.clone(), row.run_at);
    match Jobs::insert(pending_row(row, Utc::now()))
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec(db)
        .await
    {
        Ok(result) => {
            notify_pending(db, &kind, run_at).await?;
            Ok(Some(result.last_insert_id))
        }
        Err(DbErr::RecordNotInserted) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Claims up to `limit` due jobs of `kind` for `worker` until `lease_until`,
/// highest priority and oldest run time first. Concurrent claimers never get
/// the same job. `max_attempts`, when the kind has a limit of its own, is
/// written into each claimed row, so the row (and whoever reads it: the lease
/// reaper, `ListFailedJobs`) shows the limit actually applied.
pub async fn claim(
    db: &impl ConnectionTrait,
    kind: &str,
    worker: &str,
    limit: u64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    max_attempts: Option<i32>,
) -> Result<Vec<JobRow>, DbErr> {
    claim_due_by(db, kind, worker, limit, now, now, lease_until, max_attempts).await
}

/// [`claim`] of the jobs due by `due_by`, which may be later than `now`: a
/// kind that prepares its jobs ahead of their instant claims them early.
#[allow(clippy::too_many_arguments)]
pub async fn claim_due_by(
    db: &impl ConnectionTrait,
    kind: &str,
    worker: &str,
    limit: u64,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    max_attempts: Option<i32>,
) -> Result<Vec<JobRow>, DbErr> {
    let mut due = Query::select();
    due.column(jobs::Column::Id)
        .from(Jobs)
        .and_where(jobs::Column::Kind.eq(kind))
        .and_where(jobs::Column::State.eq(JobState::Pending))
        .and_where(jobs::Column::RunAt.lte(due_by))
        .order_by(jobs::Column::Priority, Order::Desc)
        .order_by(jobs::Column::RunAt, Order::Asc)
        .limit(limit);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut update = Jobs::update_many();
    if let Some(max) = max_attempts {
        update = update.col_expr(jobs::Column::MaxAttempts, Expr::value(max.max(1)));
    }
    update
        .col_expr(jobs::Column::State, Expr::value(JobState::Running))
        .col_expr(jobs::Column::LockedBy, Expr::value(worker))
        .col_expr(jobs::Column::LockedUntil, Expr::value(lease_until))
        .col_expr(
            jobs::Column::Attempts,
            Expr::col(jobs::Column::Attempts).add(1),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(jobs::Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await
}

/// Marks jobs `worker` still holds as completed; returns how many it held.
pub async fn complete(
    db: &impl ConnectionTrait,
    ids: &[i64],
    worker: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let result = Jobs::update_many()
        .col_expr(jobs::Column::State, Expr::value(JobState::Completed))
        .col_expr(jobs::Column::CompletedAt, Expr::value(now))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(jobs::Column::Id.is_in(ids.iter().copied()))
        .filter(jobs::Column::LockedBy.eq(worker))
        .filter(jobs::Column::State.eq(JobState::Running))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// What happens to a job that did not succeed.
pub enum Outcome<'a> {
    /// Try again at this time (an attempt was spent).
    RetryAt(DateTime<Utc>, &'a str),
    /// Try again at this time without spending an attempt (provider busy).
    DelayUntil(DateTime<Utc>, &'a str),
    /// Give up: keep it dead with this error.
    Dead(&'a str),
}

/// Records a failed run of a job `worker` holds. A retry that would collide
/// with a newer pending job of the same key completes as superseded instead.
pub async fn finish_unsuccessfully(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    outcome: Outcome<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = Jobs::update_many()
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    update = match outcome {
        Outcome::RetryAt(at, error) => update
            .col_expr(jobs::Column::State, Expr::value(JobState::Pending))
            .col_expr(jobs::Column::RunAt, Expr::value(at))
            .col_expr(jobs::Column::LastError, Expr::value(error)),
        Outcome::DelayUntil(at, reason) => update
            .col_expr(jobs::Column::State, Expr::value(JobState::Pending))
            .col_expr(jobs::Column::RunAt, Expr::value(at))
            .col_expr(
                jobs::Column::Attempts,
                Expr::col(jobs::Column::Attempts).sub(1),
            )
            .col_expr(jobs::Column::LastError, Expr::value(reason)),
        Outcome::Dead(error) => update
            .col_expr(jobs::Column::State, Expr::value(JobState::Dead))
            .col_expr(jobs::Column::LastError, Expr::value(error)),
    };
    let result = update
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::LockedBy.eq(worker))
        .filter(jobs::Column::State.eq(JobState::Running))
        .exec(db)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_unique_violation(&err) => supersede(db, id, worker, now).await,
        Err(err) => Err(err),
    }
}

async fn supersede(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Jobs::update_many()
        .col_expr(jobs::Column::State, Expr::value(JobState::Completed))
        .col_expr(jobs::Column::CompletedAt, Expr::value(now))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            jobs::Column::LastError,
            Expr::value("superseded by a newer pending job with the same key"),
        )
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::LockedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives claimed jobs back without spending an attempt (graceful shutdown).
pub async fn release(
    db: &impl ConnectionTrait,
    ids: &[i64],
    worker: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut released = 0;
    for id in ids {
        let outcome = Outcome::DelayUntil(now, "released at shutdown");
        finish_unsuccessfully(db, *id, worker, outcome, now).await?;
        released += 1;
    }
    Ok(released)
}

/// Extends the leases of jobs `worker` is still running.
pub async fn extend_leases(
    db: &impl ConnectionTrait,
    ids: &[i64],
    worker: &str,
    until: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(Jobs::update_many()
        .col_expr(jobs::Column::LockedUntil, Expr::value(until))
        .filter(jobs::Column::Id.is_in(ids.iter().copied()))
        .filter(jobs::Column::LockedBy.eq(worker))
        .filter(jobs::Column::State.eq(JobState::Running))
        .exec(db)
        .await?
        .rows_affected)
}

/// Jobs whose worker vanished (lease expired) become pending again, or dead
/// when they used up their attempts. Returns (requeued, dead).
pub async fn reap_expired(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    let expired = || {
        Condition::all()
            .add(jobs::Column::State.eq(JobState::Running))
            .add(jobs::Column::LockedUntil.lt(now))
    };
    let dead = Jobs::update_many()
        .col_expr(jobs::Column::State, Expr::value(JobState::Dead))
        .col_expr(
            jobs::Column::LastError,
            Expr::value("worker lost (lease expired) on the last allowed attempt"),
        )
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(expired())
        .filter(Expr::col(jobs::Column::Attempts).gte(Expr::col(jobs::Column::MaxAttempts)))
        .exec(db)
        .await?
        .rows_affected;
    // a newer pending job of the same key will do the work
    let mut pending_keys = Query::select();
    pending_keys
        .column(jobs::Column::UniqueKey)
        .from(Jobs)
        .and_where(jobs::Column::State.eq(JobState::Pending))
        .and_where(jobs::Column::UniqueKey.is_not_null());
    Jobs::update_many()
        .col_expr(jobs::Column::State, Expr::value(JobState::Completed))
        .col_expr(jobs::Column::CompletedAt, Expr::value(now))
        .col_expr(
            jobs::Column::LastError,
            Expr::value("superseded by a newer pending job with the same key"),
        )
        .filter(expired())
        .filter(jobs::Column::UniqueKey.in_subquery(pending_keys))
        .exec(db)
        .await?;
    let requeued = Jobs::update_many()
        .col_expr(jobs::Column::State, Expr::value(JobState::Pending))
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            jobs::Column::LastError,
            Expr::value("worker lost (lease expired); retrying"),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(expired())
        .exec(db)
        .await?
        .rows_affected;
    Ok((requeued, dead))
}

/// Deletes up to `batch` completed jobs finished before `cutoff`.
pub async fn prune_completed(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let mut old = Query::select();
    old.column(jobs::Column::Id)
        .from(Jobs)
        .and_where(jobs::Column::State.eq(JobState::Completed))
        .and_where(jobs::Column::CompletedAt.lt(cutoff))
        // walk idx_jobs_completed oldest first, so each batch starts where the
        // last ended instead of rescanning the rows already deleted
        .order_by(jobs::Column::CompletedAt, Order::Asc)
        .limit(batch);
    Ok(Jobs::delete_many()
        .filter(jobs::Column::Id.in_subquery(old))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes scheduler ticks older than `cutoff`.
pub async fn prune_ticks(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(Ticks::delete_many()
        .filter(scheduler_ticks::Column::TickAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

/// Records a tick; true for the one caller that recorded it first.
pub async fn claim_tick(
    db: &impl ConnectionTrait,
    name: &str,
    tick_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let active = scheduler_ticks::ActiveModel {
        name: Set(name.to_owned()),
        tick_at: Set(tick_at),
        created_at: Set(Utc::now()),
    };
    match Ticks::insert(active)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await
    {
        Ok(rows) => Ok(rows == 1),
        Err(DbErr::RecordNotInserted) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Pending and dead counts per kind.
#[derive(Debug, Default, Clone)]
pub struct KindCounts {
    pub kind: String,
    pub pending: i64,
    pub dead: i64,
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct CountRow {
    kind: String,
    state: JobState,
    n: i64,
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct OldestRow {
    oldest: Option<DateTime<Utc>>,
}

/// Queue depth and dead jobs per kind, and the run time of the oldest due job.
pub async fn stats(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(Vec<KindCounts>, Option<DateTime<Utc>>), DbErr> {
    let rows = Jobs::find()
        .select_only()
        .column(jobs::Column::Kind)
        .column(jobs::Column::State)
        .column_as(jobs::Column::Id.count(), "n")
        .filter(jobs::Column::State.is_in([JobState::Pending, JobState::Dead]))
        .group_by(jobs::Column::Kind)
        .group_by(jobs::Column::State)
        .into_model::<CountRow>()
        .all(db)
        .await?;
    let mut counts: Vec<KindCounts> = Vec::new();
    for row in rows {
        let index = match counts.iter().position(|c| c.kind == row.kind) {
            Some(i) => i,
            None => {
                counts.push(KindCounts {
                    kind: row.kind.clone(),
                    ..Default::default()
                });
                counts.len() - 1
            }
        };
        if row.state == JobState::Pending {
            counts[index].pending = row.n;
        } else {
            counts[index].dead = row.n;
        }
    }
    let oldest = Jobs::find()
        .select_only()
        .column_as(jobs::Column::RunAt.min(), "oldest")
        .filter(jobs::Column::State.eq(JobState::Pending))
        .filter(jobs::Column::RunAt.lte(now))
        .into_model::<OldestRow>()
        .one(db)
        .await?
        .and_then(|r| r.oldest);
    Ok((counts, oldest))
}

/// Whose dead jobs a listing may show.
pub enum DeadScope<'a> {
    /// Every dead job (platform services).
    All,
    /// Dead jobs of these organizations.
    Organizations(&'a [String]),
}

fn scope_condition(scope: &DeadScope<'_>) -> Condition {
    match scope {
        DeadScope::All => Condition::all(),
        DeadScope::Organizations(orgs) => {
            Condition::all().add(jobs::Column::OrganizationId.is_in(orgs.iter().cloned()))
        }
    }
}

/// Dead jobs, newest first, ids below `before_id`.
pub async fn list_dead(
    db: &impl ConnectionTrait,
    scope: DeadScope<'_>,
    kind: Option<&str>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<JobRow>, DbErr> {
    let mut query = Jobs::find()
        .filter(jobs::Column::State.eq(JobState::Dead))
        .filter(scope_condition(&scope));
    if let Some(kind) = kind {
        query = query.filter(jobs::Column::Kind.eq(kind));
    }
    if let Some(id) = before_id {
        query = query.filter(jobs::Column::Id.lt(id));
    }
    query
        .order_by_desc(jobs::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Makes a dead job pending again, due now, with its attempts reset; the row
/// as the retry left it, or `None` when no dead job with that id is visible.
/// A pending job with the same key makes it fail with a unique-constraint
/// violation (see [`crate::error::AppError::from_write`]).
pub async fn retry_dead(
    db: &impl ConnectionTrait,
    id: i64,
    scope: DeadScope<'_>,
    now: DateTime<Utc>,
) -> Result<Option<JobRow>, DbErr> {
    let mut rows = Jobs::update_many()
        .col_expr(jobs::Column::State, Expr::value(JobState::Pending))
        .col_expr(jobs::Column::Attempts, Expr::value(0))
        .col_expr(jobs::Column::RunAt, Expr::value(now))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::State.eq(JobState::Dead))
        .filter(scope_condition(&scope))
        .exec_with_returning(db)
        .await?;
    Ok((rows.len() == 1).then(|| rows.remove(0)))
}

/// One job by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<JobRow>, DbErr> {
    Jobs::find_by_id(id).one(db).await
}

/// Rows per insert statement: 16 bind parameters each stays under the
/// PostgreSQL (65,535) and SQLite (32,766) limits.
const INSERT_CHUNK: usize = 1_000;

/// Inserts many jobs, a thousand per statement, then notifies idle pools once
/// per kind; those whose unique key already has a pending job are skipped.
/// Returns how many were inserted.
pub async fn insert_many(db: &impl ConnectionTrait, rows: Vec<NewJobRow>) -> Result<u64, DbErr> {
    let now = Utc::now();
    let mut earliest: Vec<(String, DateTime<Utc>)> = Vec::new();
    for row in &rows {
        match earliest.iter_mut().find(|(kind, _)| *kind == row.kind) {
            Some((_, at)) => *at = (*at).min(row.run_at),
            None => earliest.push((row.kind.clone(), row.run_at)),
        }
    }
    let mut inserted = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let models: Vec<jobs::ActiveModel> = rows
            .by_ref()
            .take(INSERT_CHUNK)
            .map(|row| pending_row(row, now))
            .collect();
        inserted += match Jobs::insert_many(models)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(db)
            .await
        {
            Ok(n) => n,
            Err(DbErr::RecordNotInserted) => 0,
            Err(err) => return Err(err),
        };
    }
    if inserted > 0 {
        for (kind, run_at) in &earliest {
            notify_pending(db, kind, *run_at).await?;
        }
    }
    Ok(inserted)
}

/// Deletes pending jobs with this unique key (work no longer wanted).
pub async fn delete_pending(db: &impl ConnectionTrait, unique_key: &str) -> Result<u64, DbErr> {
    Ok(Jobs::delete_many()
        .filter(jobs::Column::State.eq(JobState::Pending))
        .filter(jobs::Column::UniqueKey.eq(unique_key))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes the jobs with any of these unique keys that have not reached
/// their run time: pending ones, and those a kind with a lead claimed ahead
/// of it (running, due after `now`). A claimed job's handler finds its row
/// gone when it completes, which changes nothing.
pub async fn delete_unstarted_many(
    db: &impl ConnectionTrait,
    unique_keys: Vec<String>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if unique_keys.is_empty() {
        return Ok(0);
    }
    Ok(Jobs::delete_many()
        .filter(
            Condition::any()
                .add(jobs::Column::State.eq(JobState::Pending))
                .add(
                    Condition::all()
                        .add(jobs::Column::State.eq(JobState::Running))
                        .add(jobs::Column::RunAt.gt(now)),
                ),
        )
        .filter(jobs::Column::UniqueKey.is_in(unique_keys))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes the pending jobs with any of these unique keys.
pub async fn delete_pending_many(
    db: &impl ConnectionTrait,
    unique_keys: Vec<String>,
) -> Result<u64, DbErr> {
    if unique_keys.is_empty() {
        return Ok(0);
    }
    Ok(Jobs::delete_many()
        .filter(jobs::Column::State.eq(JobState::Pending))
        .filter(jobs::Column::UniqueKey.is_in(unique_keys))
        .exec(db)
        .await?
        .rows_affected)
}
