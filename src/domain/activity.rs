//! The audit trail: reading it back under the caller's visibility. The writer
//! ([`record`], [`ActivityEvent`]) lives at the bottom in [`crate::audit`] and
//! is re-exported here.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

pub use crate::audit::{record, ActivityEvent};
use crate::{
    auth::Identity,
    domain::{
        page_token,
        types::{ActivityName, ActivityStatus, IntegrationKind, Provider},
    },
    error::{AppError, Result},
    store::activity::{self as store, ListFilter, Scope},
};

pub use super::page_token::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// One activity as the caller sees it.
#[derive(Clone, Debug)]
pub struct Activity {
    pub id: String,
    pub kind: IntegrationKind,
    pub provider: Provider,
    pub activity: ActivityName,
    pub status: ActivityStatus,
    pub duration_ms: i64,
    pub message: String,
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What the caller asks to see.
#[derive(Clone, Debug, Default)]
pub struct ActivityQuery {
    pub kind: Option<IntegrationKind>,
    pub provider: Option<Provider>,
    pub status: Option<ActivityStatus>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// 0 means the default.
    pub page_size: u32,
    pub page_token: Option<String>,
    /// Only this organization's ATS activity.
    pub organization_id: Option<String>,
}

/// One page of activities and the token of the next.
#[derive(Clone, Debug)]
pub struct ActivityPage {
    pub activities: Vec<Activity>,
    pub next_page_token: Option<String>,
}

/// Lists the activities the caller may see, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Identity,
    query: ActivityQuery,
) -> Result<ActivityPage> {
    let page_size = crate::domain::page_token::page_size(query.page_size)?;
    if let (Some(start), Some(end)) = (query.start, query.end) {
        if start >= end {
            return Err(AppError::invalid("start_time", "must be before end_time"));
        }
    }
    let before_id = query
        .page_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(decode_page_token)
        .transpose()?;
    // a user sees their own activity, and the ATS activity of the
    // organizations they administer (ATS connections belong to organizations)
    let admin_orgs: Vec<String> = caller.admin_org_ids().map(str::to_owned).collect();
    let organization_kinds = &[IntegrationKind::Ats][..];
    let only_org;
    let scope = match query.organization_id.as_deref().filter(|o| !o.is_empty()) {
        Some(org) if caller.is_admin_of(org) => {
            only_org = [org.to_owned()];
            Scope {
                user_id: None,
                organization_ids: &only_org,
                organization_kinds,
            }
        }
        Some(org) if caller.is_member_of(org) => {
            return Err(AppError::PermissionDenied(
                "organization activity needs the admin role".to_owned(),
            ))
        }
        Some(_) => return Err(AppError::NotFound("organization")),
        None => Scope {
            user_id: Some(&caller.user_id),
            organization_ids: &admin_orgs,
            organization_kinds,
        },
    };
    let filter = ListFilter {
        integration_type: query.kind,
        provider: query.provider,
        status: query.status,
        start: query.start,
        end: query.end,
        before_id: before_id.as_deref(),
    };
    let mut rows = store::list(db, scope, filter, u64::from(page_size) + 1).await?;
    let next_page_token = if rows.len() > page_size as usize {
        rows.truncate(page_size as usize);
        rows.last().map(|r| encode_page_token(&r.id))
    } else {
        None
    };
    let activities = rows
        .into_iter()
        .map(|r| Activity {
            kind: r.integration_type,
            provider: r.provider,
            status: r.status,
            id: r.id,
            activity: r.activity,
            duration_ms: r.duration_ms,
            message: r.message,
            user_id: r.user_id,
            organization_id: r.organization_id,
            created_at: r.created_at,
        })
        .collect();
    Ok(ActivityPage {
        activities,
        next_page_token,
    })
}

/// Prefix of activity page tokens (the key is the last row's uuid).
const TOKEN_PREFIX: &str = "a1";

fn encode_page_token(last_id: &str) -> String {
    page_token::encode(TOKEN_PREFIX, last_id)
}

fn decode_page_token(token: &str) -> Result<String> {
    page_token::decode(
        TOKEN_PREFIX,
        token,
        |key| uuid::Uuid::parse_str(key).ok(),
        |id| id.hyphenated().to_string(),
    )
    .map(|id| id.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(decode_page_token(&encode_page_token(&id)).unwrap(), id);
        assert!(decode_page_token("not-base64!").is_err());
        assert!(decode_page_token(&page_token::encode("a1", "'; drop table")).is_err());
        assert!(decode_page_token(&encode_page_token(&id.to_uppercase())).is_err());
    }
}
