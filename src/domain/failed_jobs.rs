//! Dead jobs for operators: who may see and retry them.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::{
    auth::Identity,
    domain::page_token,
    error::{AppError, Result},
    store::jobs::{self as store, DeadScope, JobRow},
    vocab::JobState,
};

/// A failed (or just retried) background job, as operators see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedJob {
    pub id: i64,
    /// The job kind (which handler runs it).
    pub kind: String,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last failure, secret-free.
    pub last_error: Option<String>,
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<JobRow> for FailedJob {
    fn from(row: JobRow) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            state: row.state,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            last_error: row.last_error,
            organization_id: row.organization_id,
            user_id: row.user_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One page of dead jobs.
pub struct FailedJobsPage {
    pub jobs: Vec<FailedJob>,
    pub next_page_token: Option<String>,
}

/// Platform services see every dead job; organization admins see their
/// organizations'; anyone else may not look.
fn scope(caller: &Identity) -> Result<(bool, Vec<String>)> {
    if caller.service {
        return Ok((true, Vec::new()));
    }
    let orgs: Vec<String> = caller.admin_org_ids().map(str::to_owned).collect();
    if orgs.is_empty() {
        return Err(AppError::PermissionDenied(
            "failed jobs are visible to platform services and organization admins".to_owned(),
        ));
    }
    Ok((false, orgs))
}

/// Dead jobs the caller may see, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Identity,
    kind: Option<&str>,
    page_size: u32,
    page_token: Option<&str>,
) -> Result<FailedJobsPage> {
    let (all, orgs) = scope(caller)?;
    let page_size = crate::domain::page_token::page_size(page_size)?;
    let before_id = page_token.map(decode_token).transpose()?;
    let scope = if all {
        DeadScope::All
    } else {
        DeadScope::Organizations(&orgs)
    };
    let mut jobs = store::list_dead(db, scope, kind, before_id, u64::from(page_size) + 1).await?;
    let next_page_token = if jobs.len() > page_size as usize {
        jobs.truncate(page_size as usize);
        jobs.last().map(|j| encode_token(j.id))
    } else {
        None
    };
    Ok(FailedJobsPage {
        jobs: jobs.into_iter().map(FailedJob::from).collect(),
        next_page_token,
    })
}

/// Makes a dead job the caller may see pending again.
pub async fn retry(db: &impl ConnectionTrait, caller: &Identity, job_id: i64) -> Result<FailedJob> {
    if job_id <= 0 {
        return Err(AppError::invalid("job_id", "must be a positive job id"));
    }
    let (all, orgs) = scope(caller)?;
    let scope = if all {
        DeadScope::All
    } else {
        DeadScope::Organizations(&orgs)
    };
    store::retry_dead(db, job_id, scope, Utc::now())
        .await
        .map_err(|err| AppError::from_write(err, "a pending job with the same key"))?
        .map(FailedJob::from)
        .ok_or(AppError::NotFound("failed job"))
}

/// Prefix of dead-job page tokens (the key is the last job's id).
const TOKEN_PREFIX: &str = "j1";

fn encode_token(id: i64) -> String {
    page_token::encode(TOKEN_PREFIX, &id.to_string())
}

fn decode_token(token: &str) -> Result<i64> {
    page_token::decode(
        TOKEN_PREFIX,
        token,
        |key| key.parse().ok().filter(|id: &i64| *id > 0),
        i64::to_string,
    )
}
