//! Reading the connection, changing settings, disconnecting.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, TransactionTrait};

use super::{
    connect::json,
    profile::{completeness, Capability, Profile, Section, SectionTimes},
    settings::{Frequency, Privacy, SettingsUpdate},
    sync::{privacy_of, stored_profile},
};
use crate::vocab::ActivityName;
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        connections,
        status::effective_state,
        types::{ActivityStatus, ConnectionState, Provider},
    },
    error::{AppError, Result},
    store::{
        credentials,
        linkedin_profiles::{self, ProfileChange},
    },
};

/// The caller's connection as `GetLinkedInProfile` shows it.
#[derive(Clone, Debug)]
pub struct ProfileView {
    pub state: ConnectionState,
    pub connected_at: DateTime<Utc>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_changed_at: Option<DateTime<Utc>>,
    pub next_sync_at: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub synced_sections: Vec<(Section, DateTime<Utc>)>,
    pub privacy: Privacy,
    pub frequency: Frequency,
    pub capability: Capability,
    pub profile: Profile,
    pub completeness_percent: u8,
    pub missing_sections: Vec<Section>,
    pub last_error: Option<String>,
}

/// Reads the caller's LinkedIn connection and profile.
pub async fn get_profile(ctx: &AppContext, caller: &Identity) -> Result<ProfileView> {
    super::ensure_enabled(&ctx.config)?;
    let row = linkedin_profiles::find(&ctx.db, &caller.user_id)
        .await?
        .ok_or(AppError::NotFound("linkedin connection"))?;
    let connection = credentials::find(&ctx.db, &row.connection_id)
        .await?
        .ok_or(AppError::NotFound("linkedin connection"))?;
    let privacy = privacy_of(&row);
    let profile = stored_profile(&row);
    let (completeness_percent, missing_sections) = completeness(&profile, privacy);
    let times: SectionTimes =
        serde_json::from_value(row.sections_synced_at.clone()).unwrap_or_default();
    let mut synced_sections: Vec<(Section, DateTime<Utc>)> = times
        .iter()
        .filter_map(|(name, at)| Section::parse(name).map(|s| (s, *at)))
        .collect();
    synced_sections.sort();
    Ok(ProfileView {
        state: effective_state(
            connection.state,
            connection.refresh_token.is_some(),
            connection.token_expires_at,
            Utc::now(),
        ),
        connected_at: connection.connected_at,
        last_synced_at: row.last_synced_at,
        last_changed_at: row.last_changed_at,
        next_sync_at: row.next_sync_at,
        token_expires_at: connection.token_expires_at,
        synced_sections,
        privacy,
        frequency: Frequency::parse(&row.frequency).unwrap_or(Frequency::Weekly),
        capability: Capability::parse(&row.capability),
        profile,
        completeness_percent,
        missing_sections,
        last_error: connection.last_error,
    })
}

/// Settings after an update.
#[derive(Clone, Debug)]
pub struct SettingsView {
    pub privacy: Privacy,
    pub frequency: Frequency,
    pub next_sync_at: Option<DateTime<Utc>>,
    pub deleted: Vec<Section>,
}

/// Changes privacy toggles and frequency; a toggle turned off deletes that
/// section's stored data in the same write.
pub async fn update_settings(
    ctx: &AppContext,
    caller: &Identity,
    update: SettingsUpdate,
) -> Result<SettingsView> {
    super::ensure_enabled(&ctx.config)?;
    let started = Instant::now();
    let txn = ctx.db.begin().await?;
    // the lock a sync's write takes too: a sync in flight either stored its
    // data before this (and it is deleted here) or sees these settings
    let row = linkedin_profiles::lock(&txn, &caller.user_id)
        .await?
        .ok_or(AppError::NotFound("linkedin connection"))?;
    let old = privacy_of(&row);
    let privacy = Privacy {
        picture: update.picture.unwrap_or(old.picture),
        experience: update.experience.unwrap_or(old.experience),
        education: update.education.unwrap_or(old.education),
        skills: update.skills.unwrap_or(old.skills),
    };
    let old_frequency = Frequency::parse(&row.frequency).unwrap_or(Frequency::Weekly);
    let frequency = update.frequency.unwrap_or(old_frequency);
    let mut change = ProfileChange {
        sync_picture: Set(privacy.picture),
        sync_experience: Set(privacy.experience),
        sync_education: Set(privacy.education),
        sync_skills: Set(privacy.skills),
        frequency: Set(frequency.as_str().to_owned()),
        ..Default::default()
    };
    let mut deleted = Vec::new();
    let mut times: SectionTimes =
        serde_json::from_value(row.sections_synced_at.clone()).unwrap_or_default();
    let mut profile = stored_profile(&row);
    if old.picture && !privacy.picture {
        profile.basic.picture_url = None;
        change.basic = Set(json(&profile.basic));
        deleted.push(Section::Picture);
    }
    if old.experience && !privacy.experience {
        change.experience = Set(None);
        deleted.push(Section::Experience);
    }
    if old.education && !privacy.education {
        change.education = Set(None);
        deleted.push(Section::Education);
    }
    if old.skills && !privacy.skills {
        change.skills = Set(None);
        deleted.push(Section::Skills);
    }
    if !deleted.is_empty() {
        for section in &deleted {
            times.remove(section.as_str());
        }
        change.sections_synced_at = Set(json(&times));
    }
    let next_sync_at = if frequency != old_frequency {
        let next = frequency.next_after(Utc::now());
        change.next_sync_at = Set(next);
        next
    } else {
        row.next_sync_at
    };
    linkedin_profiles::update(&txn, &caller.user_id, change).await?;
    let deleted_names: Vec<&str> = deleted.iter().map(|s| s.as_str()).collect();
    record(
        &txn,
        ActivityEvent {
            provider: Provider::LinkedIn,
            activity: ActivityName::SettingsUpdate,
            status: ActivityStatus::Success,
            duration: started.elapsed(),
            message: format!(
                "frequency {}; deleted: {}",
                frequency.as_str(),
                if deleted_names.is_empty() {
                    "nothing".to_owned()
                } else {
                    deleted_names.join(", ")
                }
            ),
            user_id: Some(&caller.user_id),
            organization_id: None,
            connection_id: Some(&row.connection_id),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(SettingsView {
        privacy,
        frequency,
        next_sync_at,
        deleted,
    })
}

/// Revokes the token at LinkedIn where possible, deletes the profile, the
/// tokens and pending syncs, and keeps an audit row without personal data.
/// Returns whether LinkedIn confirmed the revocation.
pub async fn disconnect(ctx: &AppContext, caller: &Identity) -> Result<bool> {
    super::ensure_enabled(&ctx.config)?;
    let owner = credentials::user_owner(&caller.user_id);
    let connection = credentials::find_by_owner(&ctx.db, Provider::LinkedIn, &owner).await?;
    let Some(connection) = connection else {
        // a profile left without its connection goes too
        linkedin_profiles::delete(&ctx.db, &caller.user_id).await?;
        return Err(AppError::NotFound("linkedin connection"));
    };
    Ok(connections::disconnect(ctx, &connection).await?.confirmed())
}
