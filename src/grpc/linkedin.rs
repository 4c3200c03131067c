//! The LinkedIn RPCs of `IntegrationService`: conversions around
//! [`crate::domain::linkedin`].

use tonic::{Request, Response, Status};

use super::{auth::caller, convert};
use crate::{
    context::AppContext,
    domain::linkedin::{
        self as domain,
        profile::{Capability, Section},
        settings::{Frequency, SettingsUpdate},
    },
    error::AppError,
    proto,
};

fn section_to(section: Section) -> proto::LinkedInSection {
    use proto::LinkedInSection as S;
    match section {
        Section::Name => S::Name,
        Section::Headline => S::Headline,
        Section::Summary => S::Summary,
        Section::Location => S::Location,
        Section::Industry => S::Industry,
        Section::Picture => S::Picture,
        Section::Experience => S::Experience,
        Section::Education => S::Education,
        Section::Skills => S::Skills,
        Section::Email => S::Email,
    }
}

fn sections(list: &[Section]) -> Vec<i32> {
    list.iter().map(|s| section_to(*s).into()).collect()
}

fn frequency_to(frequency: Frequency) -> proto::SyncFrequency {
    match frequency {
        Frequency::Daily => proto::SyncFrequency::Daily,
        Frequency::Weekly => proto::SyncFrequency::Weekly,
        Frequency::Monthly => proto::SyncFrequency::Monthly,
        Frequency::Manual => proto::SyncFrequency::Manual,
    }
}

fn frequency_from(raw: i32) -> Result<Option<Frequency>, AppError> {
    convert::enum_filter(raw, "frequency", |f: proto::SyncFrequency| match f {
        proto::SyncFrequency::Unspecified => None,
        proto::SyncFrequency::Daily => Some(Frequency::Daily),
        proto::SyncFrequency::Weekly => Some(Frequency::Weekly),
        proto::SyncFrequency::Monthly => Some(Frequency::Monthly),
        proto::SyncFrequency::Manual => Some(Frequency::Manual),
    })
}

fn privacy_to(privacy: domain::settings::Privacy) -> proto::LinkedInPrivacy {
    proto::LinkedInPrivacy {
        sync_picture: privacy.picture,
        sync_experience: privacy.experience,
        sync_education: privacy.education,
        sync_skills: privacy.skills,
    }
}

fn profile_to(profile: domain::profile::Profile) -> proto::LinkedInProfile {
    let b = profile.basic;
    proto::LinkedInProfile {
        name: b.name.unwrap_or_default(),
        given_name: b.given_name.unwrap_or_default(),
        family_name: b.family_name.unwrap_or_default(),
        email: b.email.unwrap_or_default(),
        locale: b.locale.unwrap_or_default(),
        picture_url: b.picture_url.unwrap_or_default(),
        headline: b.headline.unwrap_or_default(),
        summary: b.summary.unwrap_or_default(),
        location: b.location.unwrap_or_default(),
        industry: b.industry.unwrap_or_default(),
        experience: profile
            .experience
            .unwrap_or_default()
            .into_iter()
            .map(|p| proto::LinkedInPosition {
                company_name: p.company_name,
                title: p.title,
                description: p.description,
                location: p.location,
                started_on: p.started_on,
                finished_on: p.finished_on,
            })
            .collect(),
        education: profile
            .education
            .unwrap_or_default()
            .into_iter()
            .map(|e| proto::LinkedInEducation {
                school_name: e.school_name,
                degree_name: e.degree_name,
                start_date: e.start_date,
                end_date: e.end_date,
                notes: e.notes,
                activities: e.activities,
            })
            .collect(),
        skills: profile
            .skills
            .unwrap_or_default()
            .into_iter()
            .map(|s| proto::LinkedInSkill {
                name: s.name,
                endorsement_count: s
                    .endorsement_count
                    .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            })
            .collect(),
    }
}

pub async fn start(
    ctx: &AppContext,
    request: Request<proto::StartLinkedInAuthRequest>,
) -> Result<Response<proto::StartLinkedInAuthResponse>, Status> {
    let identity = caller(&request)?;
    let started = domain::start_auth(ctx, &identity).await?;
    Ok(Response::new(proto::StartLinkedInAuthResponse {
        authorization_url: started.authorization_url,
        expires_at: Some(convert::timestamp(started.expires_at)),
        scopes: started.scopes,
    }))
}

pub async fn get(
    ctx: &AppContext,
    request: Request<proto::GetLinkedInProfileRequest>,
) -> Result<Response<proto::GetLinkedInProfileResponse>, Status> {
    let identity = caller(&request)?;
    let view = domain::get_profile(ctx, &identity).await?;
    let capability = match view.capability {
        Capability::OpenIdConnect => proto::LinkedInCapability::OpenidConnect,
        Capability::Portability => proto::LinkedInCapability::MemberDataPortability,
    };
    Ok(Response::new(proto::GetLinkedInProfileResponse {
        state: convert::state_to(view.state).into(),
        connected_at: Some(convert::timestamp(view.connected_at)),
        last_synced_at: view.last_synced_at.map(convert::timestamp),
        last_changed_at: view.last_changed_at.map(convert::timestamp),
        next_sync_at: view.next_sync_at.map(convert::timestamp),
        token_expires_at: view.token_expires_at.map(convert::timestamp),
        synced_sections: view
            .synced_sections
            .into_iter()
            .map(|(section, at)| proto::LinkedInSectionSync {
                section: section_to(section).into(),
                synced_at: Some(convert::timestamp(at)),
            })
            .collect(),
        privacy: Some(privacy_to(view.privacy)),
        frequency: frequency_to(view.frequency).into(),
        capability: capability.into(),
        available_sections: sections(&view.capability.sections()),
        profile: Some(profile_to(view.profile)),
        completeness_percent: i32::from(view.completeness_percent),
        missing_sections: sections(&view.missing_sections),
        last_error: view.last_error.unwrap_or_default(),
    }))
}

pub async fn update(
    ctx: &AppContext,
    request: Request<proto::UpdateLinkedInSettingsRequest>,
) -> Result<Response<proto::UpdateLinkedInSettingsResponse>, Status> {
    let identity = caller(&request)?;
    let req = request.into_inner();
    let update = SettingsUpdate {
        picture: req.sync_picture,
        experience: req.sync_experience,
        education: req.sync_education,
        skills: req.sync_skills,
        frequency: frequency_from(req.frequency)?,
    };
    let view = domain::update_settings(ctx, &identity, update).await?;
    Ok(Response::new(proto::UpdateLinkedInSettingsResponse {
        privacy: Some(privacy_to(view.privacy)),
        frequency: frequency_to(view.frequency).into(),
        next_sync_at: view.next_sync_at.map(convert::timestamp),
        deleted_sections: sections(&view.deleted),
    }))
}

pub async fn sync(
    ctx: &AppContext,
    request: Request<proto::SyncLinkedInProfileRequest>,
) -> Result<Response<proto::SyncLinkedInProfileResponse>, Status> {
    let identity = caller(&request)?;
    let report = domain::sync_now(ctx, &identity).await?;
    Ok(Response::new(proto::SyncLinkedInProfileResponse {
        changed_sections: sections(&report.changed),
        synced_at: Some(convert::timestamp(report.synced_at)),
        next_sync_at: report.next_sync_at.map(convert::timestamp),
        duration_ms: i64::try_from(report.duration.as_millis()).unwrap_or(i64::MAX),
    }))
}

pub async fn disconnect(
    ctx: &AppContext,
    request: Request<proto::DisconnectLinkedInRequest>,
) -> Result<Response<proto::DisconnectLinkedInResponse>, Status> {
    let identity = caller(&request)?;
    let revoked = domain::disconnect(ctx, &identity).await?;
    Ok(Response::new(proto::DisconnectLinkedInResponse {
        revoked_at_provider: revoked,
    }))
}
