//! Queries of a job sync: its run row (one running per integration, with a
//! lease), the mapping of the page's ATS ids, the batched upserts of job
//! posts and mapping rows, and the closing of posts a complete listing no
//! longer had.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};

use super::entities::{
    ats_job_syncs::{self as maps, Entity as Maps},
    ats_sync_runs::{self as runs, Entity as Runs},
    job_posts::{self as posts, Entity as Posts},
};
use crate::vocab::{JobPostStatus, SyncRunState};

pub use maps::Model as MappingRow;
pub use posts::Model as JobPostRow;
pub use runs::Model as RunRow;

/// Rows per insert statement (well under PostgreSQL's 65,535 parameters).
const CHUNK: usize = 1_000;

/// Inserts a new running run; fails with a unique violation when another
/// run of the integration is running.
pub async fn insert_run(db: &impl ConnectionTrait, row: RunRow) -> Result<(), DbErr> {
    Runs::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// The integration's running run, if any.
pub async fn running(
    db: &impl ConnectionTrait,
    integration_id: &str,
) -> Result<Option<RunRow>, DbErr> {
    Runs::find()
        .filter(runs::Column::IntegrationId.eq(integration_id))
        .filter(runs::Column::State.eq(SyncRunState::Running))
        .one(db)
        .await
}

/// Takes over a running run whose lease ended before `now` (its process
/// died); `false` when another took it first or it ended.
pub async fn take_over(
    db: &impl ConnectionTrait,
    run_id: &str,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = Runs::update_many()
        .set(runs::ActiveModel {
            worker: Set(Some(worker.to_owned())),
            lease_until: Set(Some(lease_until)),
            resumed: Set(true),
            ..Default::default()
        })
        .filter(runs::Column::Id.eq(run_id))
        .filter(runs::Column::State.eq(SyncRunState::Running))
        .filter(
            Condition::any()
                .add(runs::Column::LeaseUntil.is_null())
                .add(runs::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The integration's newest run.
pub async fn latest_run(
    db: &impl ConnectionTrait,
    integration_id: &str,
) -> Result<Option<RunRow>, DbErr> {
    use sea_orm::QueryOrder;
    Runs::find()
        .filter(runs::Column::IntegrationId.eq(integration_id))
        .order_by_desc(runs::Column::StartedAt)
        .order_by_desc(runs::Column::Id)
        .one(db)
        .await
}

/// A page of the integration's runs, newest first, after `offset` ones.
pub async fn runs_page(
    db: &impl ConnectionTrait,
    integration_id: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<RunRow>, DbErr> {
    use sea_orm::QueryOrder;
    Runs::find()
        .filter(runs::Column::IntegrationId.eq(integration_id))
        .order_by_desc(runs::Column::StartedAt)
        .order_by_desc(runs::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}

/// The run as it is now.
pub async fn run(db: &impl ConnectionTrait, run_id: &str) -> Result<Option<RunRow>, DbErr> {
    Runs::find_by_id(run_id.to_owned()).one(db).await
}

/// Writes a run's figures, its next page and a longer lease (the page's
/// transaction), as long as `worker` holds it; `false` when it does not.
pub async fn save_run(
    db: &impl ConnectionTrait,
    row: &RunRow,
    worker: &str,
) -> Result<bool, DbErr> {
    let done = Runs::update_many()
        .set(runs::ActiveModel {
            state: Set(row.state),
            pages_fetched: Set(row.pages_fetched),
            created: Set(row.created),
            updated: Set(row.updated),
            unchanged: Set(row.unchanged),
            closed: Set(row.closed),
            failed: Set(row.failed),
            errors: Set(row.errors.clone()),
            error: Set(row.error.clone()),
            next_page: Set(row.next_page.clone()),
            lease_until: Set(row.lease_until),
            finished_at: Set(row.finished_at),
            ..Default::default()
        })
        .filter(runs::Column::Id.eq(&row.id))
        .filter(runs::Column::Worker.eq(worker))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The mapping rows of `ats_ids` in the integration, by ATS id.
pub async fn mappings(
    db: &impl ConnectionTrait,
    integration_id: &str,
    ats_ids: &[String],
) -> Result<HashMap<String, MappingRow>, DbErr> {
    let mut out = HashMap::with_capacity(ats_ids.len());
    for chunk in ats_ids.chunks(CHUNK) {
        let rows = Maps::find()
            .filter(maps::Column::IntegrationId.eq(integration_id))
            .filter(maps::Column::AtsJobId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| (r.ats_job_id.clone(), r)));
    }
    Ok(out)
}

/// Every mapping row of the integration, by ATS id (read once per sync run:
/// a hundred thousand rows are a few megabytes, and one read instead of one
/// per page).
pub async fn all_mappings(
    db: &impl ConnectionTrait,
    integration_id: &str,
) -> Result<HashMap<String, MappingRow>, DbErr> {
    Ok(Maps::find()
        .filter(maps::Column::IntegrationId.eq(integration_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.ats_job_id.clone(), r))
        .collect())
}

/// Inserts or replaces job posts by id, a statement per thousand.
pub async fn upsert_posts(db: &impl ConnectionTrait, rows: Vec<JobPostRow>) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<posts::ActiveModel> = rows
            .by_ref()
            .take(CHUNK)
            .map(IntoActiveModel::into_active_model)
            .collect();
        Posts::insert_many(chunk)
            .on_conflict(
                OnConflict::column(posts::Column::Id)
                    .update_columns([
                        posts::Column::AtsUrl,
                        posts::Column::Title,
                        posts::Column::DescriptionHtml,
                        posts::Column::DescriptionText,
                        posts::Column::Department,
                        posts::Column::Location,
                        posts::Column::Remote,
                        posts::Column::WorkplaceType,
                        posts::Column::EmploymentType,
                        posts::Column::SalaryMin,
                        posts::Column::SalaryMax,
                        posts::Column::SalaryCurrency,
                        posts::Column::SalaryInterval,
                        posts::Column::Status,
                        posts::Column::ClosesAt,
                        posts::Column::Questions,
                        posts::Column::RemoteData,
                        posts::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Inserts or replaces mapping rows, a statement per thousand.
pub async fn upsert_mappings(
    db: &impl ConnectionTrait,
    rows: Vec<MappingRow>,
) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<maps::ActiveModel> = rows
            .by_ref()
            .take(CHUNK)
            .map(IntoActiveModel::into_active_model)
            .collect();
        Maps::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([maps::Column::IntegrationId, maps::Column::AtsJobId])
                    .update_columns([
                        maps::Column::JobPostId,
                        maps::Column::ContentHash,
                        maps::Column::LastSeenRunId,
                        maps::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Closes the integration's open posts whose ATS id is not in `seen`;
/// answers how many.
pub async fn close_missing(
    db: &impl ConnectionTrait,
    integration_id: &str,
    seen: &HashSet<String>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let all: Vec<(String, String)> = Maps::find()
        .select_only()
        .column(maps::Column::AtsJobId)
        .column(maps::Column::JobPostId)
        .filter(maps::Column::IntegrationId.eq(integration_id))
        .into_tuple()
        .all(db)
        .await?;
    let missing: Vec<String> = all
        .into_iter()
        .filter(|(ats_id, _)| !seen.contains(ats_id))
        .map(|(_, post)| post)
        .collect();
    let mut closed = 0;
    for chunk in missing.chunks(CHUNK) {
        closed += Posts::update_many()
            .set(posts::ActiveModel {
                status: Set(JobPostStatus::Closed),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(posts::Column::Id.is_in(chunk.iter().cloned()))
            .filter(posts::Column::Status.ne(JobPostStatus::Closed))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(closed)
}

/// Closes the post mapped from one ATS job.
pub async fn close_by_ats_id(
    db: &impl ConnectionTrait,
    integration_id: &str,
    ats_job_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let Some(mapping) = Maps::find_by_id((integration_id.to_owned(), ats_job_id.to_owned()))
        .one(db)
        .await?
    else {
        return Ok(0);
    };
    Ok(Posts::update_many()
        .set(posts::ActiveModel {
            status: Set(JobPostStatus::Closed),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(posts::Column::Id.eq(mapping.job_post_id))
        .filter(posts::Column::Status.ne(JobPostStatus::Closed))
        .exec(db)
        .await?
        .rows_affected)
}
