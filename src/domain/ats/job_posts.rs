//! The platform's job posts: readable by every signed-in caller; the
//! provider's raw JSON (remote data) only for the organization's admins and
//! services.

use chrono::{DateTime, Utc};

use super::{access::reads_org, ensure_enabled};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::page_token,
    error::{AppError, Result},
    providers::ats::job::AtsQuestion,
    store::applications::{self as store, PostRow},
};

pub use crate::{providers::ats::job::QuestionKind, store::applications::PostFilter};

/// A job post as callers see it.
#[derive(Clone, Debug)]
pub struct JobPost {
    pub row: PostRow,
    pub questions: Vec<AtsQuestion>,
    /// Only when asked for and allowed.
    pub remote_data: Option<serde_json::Value>,
}

fn view(mut row: PostRow, remote: bool) -> JobPost {
    let questions = serde_json::from_value(row.questions.clone()).unwrap_or_default();
    let remote_data = if remote { row.remote_data.take() } else { None };
    row.remote_data = None;
    JobPost {
        row,
        questions,
        remote_data,
    }
}

/// One post; `include_remote_data` needs the organization's admin role or a
/// service (`PERMISSION_DENIED` otherwise).
pub async fn get(
    ctx: &AppContext,
    caller: &Identity,
    id: &str,
    include_remote_data: bool,
) -> Result<JobPost> {
    ensure_enabled(&ctx.config)?;
    let row = store::post(&ctx.db, id)
        .await?
        .ok_or(AppError::NotFound("job post"))?;
    if include_remote_data && !reads_org(caller, &row.organization_id) {
        return Err(AppError::PermissionDenied(
            "remote data is for the organization's admins".to_owned(),
        ));
    }
    Ok(view(row, include_remote_data))
}

/// A page of posts, most recently updated first.
pub async fn list(
    ctx: &AppContext,
    filter: PostFilter,
    page_size: u32,
    page_token_text: Option<&str>,
) -> Result<(Vec<JobPost>, Option<String>)> {
    ensure_enabled(&ctx.config)?;
    let size = match page_size {
        0 => 20,
        n if n > 100 => return Err(AppError::invalid("page_size", "must be at most 100")),
        n => n,
    };
    let after = match page_token_text {
        None => None,
        Some(token) => Some(page_token::decode(
            "posts",
            token,
            |key| {
                let (at, id) = key.split_once('|')?;
                let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
                uuid::Uuid::try_parse(id).ok()?;
                Some((at, id.to_owned()))
            },
            |(at, id): &(DateTime<Utc>, String)| {
                format!(
                    "{}|{id}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                )
            },
        )?),
    };
    let mut rows = store::posts(&ctx.db, &filter, after, u64::from(size) + 1).await?;
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    let next = more.then(|| rows.last()).flatten().map(|last| {
        page_token::encode(
            "posts",
            &format!(
                "{}|{}",
                last.updated_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                last.id
            ),
        )
    });
    Ok((rows.into_iter().map(|r| view(r, false)).collect(), next))
}
