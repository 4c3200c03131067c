//! The stored profile: sections, privacy applied at ingestion, what changed,
//! and how complete it is.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::settings::Privacy;
use crate::providers::profile::{Education, FetchedProfile, Position, Skill};

/// A part of a profile that is synced, kept or deleted as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Name,
    Headline,
    Summary,
    Location,
    Industry,
    Picture,
    Experience,
    Education,
    Skills,
    Email,
}

impl Section {
    /// Every section.
    pub const ALL: [Section; 10] = [
        Section::Name,
        Section::Headline,
        Section::Summary,
        Section::Location,
        Section::Industry,
        Section::Picture,
        Section::Experience,
        Section::Education,
        Section::Skills,
        Section::Email,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Name => "name",
            Section::Headline => "headline",
            Section::Summary => "summary",
            Section::Location => "location",
            Section::Industry => "industry",
            Section::Picture => "picture",
            Section::Experience => "experience",
            Section::Education => "education",
            Section::Skills => "skills",
            Section::Email => "email",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Section::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What a connection can read from LinkedIn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Sign In with LinkedIn (OpenID Connect) only.
    OpenIdConnect,
    /// Plus the Member Data Portability API.
    Portability,
}

impl Capability {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::OpenIdConnect => "openid_connect",
            Capability::Portability => "member_data_portability",
        }
    }

    /// Parses a stored name (unknown: the smaller capability).
    pub fn parse(text: &str) -> Self {
        if text == Capability::Portability.as_str() {
            Capability::Portability
        } else {
            Capability::OpenIdConnect
        }
    }

    /// The sections this capability can get.
    pub fn sections(self) -> Vec<Section> {
        match self {
            Capability::OpenIdConnect => vec![Section::Name, Section::Picture, Section::Email],
            Capability::Portability => Section::ALL.to_vec(),
        }
    }
}

/// Name, contact and headline fields, stored together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basic {
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub picture_url: Option<String>,
    pub headline: Option<String>,
    pub summary: Option<String>,
    pub location: Option<String>,
    pub industry: Option<String>,
}

/// A whole profile as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub basic: Basic,
    pub experience: Option<Vec<Position>>,
    pub education: Option<Vec<Education>>,
    pub skills: Option<Vec<Skill>>,
}

impl Profile {
    /// What may be stored of a fetched profile: sections the user switched
    /// off, or the connection cannot get, are left out here, before storage.
    pub fn from_fetched(fetched: FetchedProfile, privacy: Privacy, capability: Capability) -> Self {
        let portability = capability == Capability::Portability;
        Profile {
            basic: Basic {
                name: fetched.name,
                given_name: fetched.given_name,
                family_name: fetched.family_name,
                email: fetched.email,
                locale: fetched.locale,
                picture_url: fetched.picture_url.filter(|_| privacy.picture),
                headline: fetched.headline.filter(|_| portability),
                summary: fetched.summary.filter(|_| portability),
                location: fetched.location.filter(|_| portability),
                industry: fetched.industry.filter(|_| portability),
            },
            experience: fetched
                .experience
                .filter(|_| portability && privacy.experience),
            education: fetched
                .education
                .filter(|_| portability && privacy.education),
            skills: fetched.skills.filter(|_| portability && privacy.skills),
        }
    }

    /// Sections whose data differs between `self` (stored) and `new`.
    pub fn changed_sections(&self, new: &Profile) -> Vec<Section> {
        let (a, b) = (&self.basic, &new.basic);
        let mut changed = Vec::new();
        let name = |p: &Basic| {
            (
                p.name.clone(),
                p.given_name.clone(),
                p.family_name.clone(),
                p.locale.clone(),
            )
        };
        if name(a) != name(b) {
            changed.push(Section::Name);
        }
        for (section, old, new) in [
            (Section::Headline, &a.headline, &b.headline),
            (Section::Summary, &a.summary, &b.summary),
            (Section::Location, &a.location, &b.location),
            (Section::Industry, &a.industry, &b.industry),
            (Section::Picture, &a.picture_url, &b.picture_url),
            (Section::Email, &a.email, &b.email),
        ] {
            if old != new {
                changed.push(section);
            }
        }
        if self.experience != new.experience {
            changed.push(Section::Experience);
        }
        if self.education != new.education {
            changed.push(Section::Education);
        }
        if self.skills != new.skills {
            changed.push(Section::Skills);
        }
        changed
    }

    /// Whether a section has data.
    pub fn has(&self, section: Section) -> bool {
        let b = &self.basic;
        let text = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        match section {
            Section::Name => text(&b.name) || text(&b.given_name),
            Section::Headline => text(&b.headline),
            Section::Summary => text(&b.summary),
            Section::Location => text(&b.location),
            Section::Industry => text(&b.industry),
            Section::Picture => text(&b.picture_url),
            Section::Email => text(&b.email),
            Section::Experience => self.experience.as_ref().is_some_and(|v| !v.is_empty()),
            Section::Education => self.education.as_ref().is_some_and(|v| !v.is_empty()),
            Section::Skills => self.skills.as_ref().is_some_and(|v| !v.is_empty()),
        }
    }
}

/// How complete a profile is: the share of the sections the user keeps
/// (email aside) that have data, and those still missing.
pub fn completeness(profile: &Profile, privacy: Privacy) -> (u8, Vec<Section>) {
    let kept: Vec<Section> = Section::ALL
        .into_iter()
        .filter(|s| match s {
            Section::Email => false,
            Section::Picture => privacy.picture,
            Section::Experience => privacy.experience,
            Section::Education => privacy.education,
            Section::Skills => privacy.skills,
            _ => true,
        })
        .collect();
    let missing: Vec<Section> = kept.iter().copied().filter(|s| !profile.has(*s)).collect();
    let filled = kept.len() - missing.len();
    let percent = (filled * 100 + kept.len() / 2) / kept.len().max(1);
    (u8::try_from(percent).unwrap_or(100), missing)
}

/// When each section last changed, stored as a JSON object.
pub type SectionTimes = BTreeMap<String, DateTime<Utc>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched() -> FetchedProfile {
        FetchedProfile {
            member_id: "m1".into(),
            name: Some("Ada Lovelace".into()),
            picture_url: Some("https://media.example/ada.jpg".into()),
            headline: Some("Engineer".into()),
            experience: Some(vec![Position {
                company_name: "Analytical Engines".into(),
                ..Position::default()
            }]),
            skills: Some(vec![Skill {
                name: "Mathematics".into(),
                endorsement_count: Some(3),
            }]),
            ..FetchedProfile::default()
        }
    }

    #[test]
    fn privacy_and_capability_apply_before_storage() {
        let privacy = Privacy {
            picture: false,
            skills: false,
            ..Privacy::default()
        };
        let stored = Profile::from_fetched(fetched(), privacy, Capability::Portability);
        assert!(stored.basic.picture_url.is_none());
        assert!(stored.skills.is_none());
        assert!(stored.experience.is_some());
        let oidc = Profile::from_fetched(fetched(), Privacy::default(), Capability::OpenIdConnect);
        assert!(oidc.basic.headline.is_none() && oidc.experience.is_none());
        assert!(oidc.basic.picture_url.is_some());
    }

    #[test]
    fn changes_and_completeness() {
        let old = Profile::from_fetched(fetched(), Privacy::default(), Capability::Portability);
        let mut newer = fetched();
        newer.headline = Some("Principal Engineer".into());
        let new = Profile::from_fetched(newer, Privacy::default(), Capability::Portability);
        assert_eq!(old.changed_sections(&new), vec![Section::Headline]);
        assert!(old.changed_sections(&old.clone()).is_empty());
        let (percent, missing) = completeness(&new, Privacy::default());
        assert_eq!(
            missing,
            vec![
                Section::Summary,
                Section::Location,
                Section::Industry,
                Section::Education
            ]
        );
        assert_eq!(percent, 56);
    }
}
