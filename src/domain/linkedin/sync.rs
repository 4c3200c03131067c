//! Syncing one user's profile: fetch what the connection can get and the user
//! keeps, store only what changed, schedule the next sync, audit it.
//!
//! The settings may change while LinkedIn answers: what was fetched is stored
//! under the settings read again under the profile row lock
//! ([`linkedin_profiles::lock`]) that `UpdateLinkedInSettings` takes too, so a
//! section switched off meanwhile is neither stored nor reported as changed.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, TransactionTrait};

use super::{
    client,
    connect::json,
    profile::{Basic, Capability, Profile, Section, SectionTimes},
    settings::{Frequency, Privacy},
};
use crate::vocab::ActivityName;
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        connections::{health, with_fresh_token, CallError},
        types::{ActivityStatus, Provider},
    },
    error::{AppError, Result},
    oauth::OAuthEndpoints,
    providers::profile::{FetchPlan, ProfileProvider},
    store::linkedin_profiles::{self, ProfileChange, ProfileRow},
};

/// Why a sync runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The user asked (`SyncLinkedInProfile`).
    Manual,
    /// The schedule.
    Scheduled,
}

/// What a sync did.
#[derive(Clone, Debug)]
pub struct SyncReport {
    pub changed: Vec<Section>,
    pub synced_at: DateTime<Utc>,
    pub next_sync_at: Option<DateTime<Utc>>,
    pub duration: Duration,
}

/// The stored profile of a row.
pub(super) fn stored_profile(row: &ProfileRow) -> Profile {
    fn parse<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Option<T> {
        serde_json::from_value(v.clone()).ok()
    }
    Profile {
        basic: parse(&row.basic).unwrap_or_default(),
        experience: row.experience.as_ref().and_then(parse),
        education: row.education.as_ref().and_then(parse),
        skills: row.skills.as_ref().and_then(parse),
    }
}

/// The privacy toggles of a row.
pub(super) fn privacy_of(row: &ProfileRow) -> Privacy {
    Privacy {
        picture: row.sync_picture,
        experience: row.sync_experience,
        education: row.sync_education,
        skills: row.sync_skills,
    }
}

/// A manual sync, at most once per user per `LINKEDIN_MANUAL_SYNC_INTERVAL_SECS`.
pub async fn sync_now(ctx: &AppContext, caller: &Identity) -> Result<SyncReport> {
    super::ensure_enabled(&ctx.config)?;
    let now = Utc::now();
    let interval = chrono::Duration::seconds(
        i64::try_from(ctx.config.linkedin.linkedin_manual_sync_interval_secs).unwrap_or(60),
    );
    if !linkedin_profiles::claim_manual_sync(&ctx.db, &caller.user_id, now, interval).await? {
        let row = linkedin_profiles::find(&ctx.db, &caller.user_id)
            .await?
            .ok_or(AppError::NotFound("linkedin connection"))?;
        let retry_at = row.last_manual_sync_at.unwrap_or(now) + interval;
        let wait = (retry_at - now).to_std().unwrap_or(Duration::from_secs(1));
        return Err(AppError::ResourceExhausted {
            message: format!(
                "one manual sync per {} s; try again at {}",
                interval.num_seconds(),
                retry_at.to_rfc3339()
            ),
            retry_after: Some(wait),
        });
    }
    sync_user(ctx, &caller.user_id, Trigger::Manual).await
}

/// Syncs one user's profile.
pub async fn sync_user(ctx: &AppContext, user_id: &str, trigger: Trigger) -> Result<SyncReport> {
    super::ensure_enabled(&ctx.config)?;
    let started = Instant::now();
    let row = linkedin_profiles::find(&ctx.db, user_id)
        .await?
        .ok_or(AppError::NotFound("linkedin connection"))?;
    let result = fetch_and_store(ctx, &row, started).await;
    let (status, message) = match &result {
        Ok(report) if report.changed.is_empty() => {
            (ActivityStatus::Success, "no changes".to_owned())
        }
        Ok(report) => (
            ActivityStatus::Success,
            format!(
                "changed: {}",
                report
                    .changed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Err(err) => (ActivityStatus::Failure, err.to_string()),
    };
    let trigger = match trigger {
        Trigger::Manual => "manual",
        Trigger::Scheduled => "scheduled",
    };
    record(
        &ctx.db,
        ActivityEvent {
            provider: Provider::LinkedIn,
            activity: ActivityName::ProfileSync,
            status,
            duration: started.elapsed(),
            message: format!("{trigger} sync: {message}"),
            user_id: Some(user_id),
            organization_id: None,
            connection_id: Some(&row.connection_id),
        },
    )
    .await?;
    result
}

/// A failed fetch as the sync's caller sees it.
fn fetch_error(failure: CallError) -> AppError {
    match failure {
        CallError::Reauth => AppError::FailedPrecondition(
            "LinkedIn no longer accepts this connection: reconnect needed".to_owned(),
        ),
        CallError::Provider(err) => err.into(),
        CallError::App(err) => err,
    }
}

async fn fetch(
    ctx: &AppContext,
    row: &ProfileRow,
    plan: FetchPlan,
) -> std::result::Result<crate::providers::profile::FetchedProfile, CallError> {
    let endpoints = OAuthEndpoints::linkedin(&ctx.config);
    let connection = ctx
        .oauth
        .connection(&row.connection_id)
        .await
        .map_err(|e| CallError::App(e.into()))?;
    let linkedin = client(ctx);
    let linkedin = &linkedin;
    with_fresh_token(ctx, &endpoints, &connection, |token| async move {
        linkedin.fetch_profile(&token, plan).await
    })
    .await
}

async fn fetch_and_store(
    ctx: &AppContext,
    row: &ProfileRow,
    started: Instant,
) -> Result<SyncReport> {
    let privacy = privacy_of(row);
    let capability = Capability::parse(&row.capability);
    let plan = FetchPlan {
        portability: capability == Capability::Portability,
        experience: privacy.experience,
        education: privacy.education,
        skills: privacy.skills,
    };
    let fetched = match fetch(ctx, row, plan).await {
        Ok(fetched) => fetched,
        Err(failure) => {
            match &failure {
                // with_fresh_token marked the connection
                CallError::Reauth => {}
                CallError::Provider(err) => {
                    health::failed(ctx, &row.connection_id, &format!("sync failed: {err}")).await?
                }
                CallError::App(_) => health::failed(ctx, &row.connection_id, "sync failed").await?,
            }
            return Err(fetch_error(failure));
        }
    };
    let capability = if capability == Capability::Portability && fetched.portability_refused {
        Capability::OpenIdConnect
    } else {
        capability
    };
    // the settings may have changed while we fetched: store under the ones in
    // force now, read under the row lock UpdateLinkedInSettings takes too
    let txn = ctx.db.begin().await?;
    let Some(row) = linkedin_profiles::lock(&txn, &row.user_id).await? else {
        txn.rollback().await?;
        return Err(AppError::NotFound("linkedin connection"));
    };
    let row = &row;
    let new = Profile::from_fetched(fetched, privacy_of(row), capability);
    let old = stored_profile(row);
    let changed = old.changed_sections(&new);
    let now = Utc::now();
    let frequency = Frequency::parse(&row.frequency).unwrap_or(Frequency::Weekly);
    let next_sync_at = frequency.next_after(now);
    let mut change = ProfileChange {
        last_synced_at: Set(Some(now)),
        next_sync_at: Set(next_sync_at),
        ..Default::default()
    };
    if capability.as_str() != row.capability {
        change.capability = Set(capability.as_str().to_owned());
    }
    if !changed.is_empty() {
        let mut times: SectionTimes =
            serde_json::from_value(row.sections_synced_at.clone()).unwrap_or_default();
        for section in &changed {
            if new.has(*section) {
                times.insert(section.as_str().to_owned(), now);
            } else {
                times.remove(section.as_str());
            }
        }
        change.sections_synced_at = Set(json(&times));
        change.last_changed_at = Set(Some(now));
        if changed.iter().any(|s| {
            !matches!(
                s,
                Section::Experience | Section::Education | Section::Skills
            )
        }) {
            change.basic = Set(json::<Basic>(&new.basic));
        }
        if changed.contains(&Section::Experience) {
            change.experience = Set(new.experience.as_ref().map(json));
        }
        if changed.contains(&Section::Education) {
            change.education = Set(new.education.as_ref().map(json));
        }
        if changed.contains(&Section::Skills) {
            change.skills = Set(new.skills.as_ref().map(json));
        }
    }
    linkedin_profiles::update(&txn, &row.user_id, change).await?;
    txn.commit().await?;
    health::succeeded(ctx, &row.connection_id).await?;
    Ok(SyncReport {
        changed,
        synced_at: now,
        next_sync_at,
        duration: started.elapsed(),
    })
}
