//! LinkedIn's APIs as LinkedIn documents them: OpenID Connect userinfo
//! (`GET /v2/userinfo`), the Member Data Portability snapshot
//! (`GET /rest/memberSnapshotData?q=criteria&domain=...&start=<page>` with a
//! `LinkedIn-Version` header, paged until a 404 "No data found"). Token
//! revocation (`POST /oauth/v2/revoke`) goes through the OAuth core (RFC 7009).

use std::collections::{BTreeMap, HashMap};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{
    http::{OutboundHttp, ProviderCall, ProviderError},
    profile::{Education, FetchPlan, FetchedProfile, Position, ProfileProvider, Skill},
};

/// Provider name for metrics, breaker and budget.
pub const PROVIDER: &str = "linkedin";
/// Snapshot pages read per domain at most (10 rows a page).
const MAX_PAGES: u32 = 50;

/// Where and how to reach LinkedIn.
#[derive(Clone)]
pub struct LinkedInClient {
    pub outbound: OutboundHttp,
    /// e.g. `https://api.linkedin.com`.
    pub api_base: String,
    /// e.g. `https://www.linkedin.com`.
    pub oauth_base: String,
    /// `LinkedIn-Version` of the REST API.
    pub api_version: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
}

/// The userinfo response (OpenID Connect standard claims).
#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    picture: Option<String>,
    locale: Option<Locale>,
    email: Option<String>,
}

/// LinkedIn answers `{"country": "US", "language": "en"}`; OIDC allows a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Locale {
    Text(String),
    Parts {
        country: Option<String>,
        language: Option<String>,
    },
}

impl Locale {
    fn tag(self) -> Option<String> {
        match self {
            Locale::Text(text) => Some(text.replace('-', "_")).filter(|t| !t.is_empty()),
            Locale::Parts { country, language } => match (language, country) {
                (Some(l), Some(c)) => Some(format!("{l}_{c}")),
                (Some(l), None) => Some(l),
                (None, Some(c)) => Some(c),
                (None, None) => None,
            },
        }
    }
}

/// One page of the snapshot API.
#[derive(Debug, Deserialize)]
struct SnapshotPage {
    #[serde(default)]
    paging: Option<Paging>,
    /// Documented as an array of one element; a middle page has been seen as an object.
    #[serde(default)]
    elements: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
struct Link {
    rel: String,
}

type Row = HashMap<String, String>;

fn rows_of(elements: serde_json::Value) -> Vec<Row> {
    let elements = match elements {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(_) => vec![elements],
        _ => Vec::new(),
    };
    let mut rows = Vec::new();
    for element in elements {
        let Some(data) = element.get("snapshotData").and_then(|d| d.as_array()) else {
            continue;
        };
        for item in data {
            let Some(map) = item.as_object() else {
                continue;
            };
            rows.push(
                map.iter()
                    .map(|(k, v)| {
                        let text = match v {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        (k.clone(), text)
                    })
                    .collect(),
            );
        }
    }
    rows
}

fn field(row: &Row, key: &str) -> String {
    row.get(key)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

fn non_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

impl LinkedInClient {
    fn bearer(token: &SecretString) -> String {
        format!("Bearer {}", token.expose_secret())
    }

    async fn userinfo(&self, token: &SecretString) -> Result<UserInfo, ProviderError> {
        let url = format!("{}/v2/userinfo", self.api_base.trim_end_matches('/'));
        let client = self.outbound.client();
        let response = self
            .outbound
            .send(ProviderCall::idempotent(PROVIDER, "userinfo"), || {
                client
                    .get(&url)
                    .header("authorization", Self::bearer(token))
            })
            .await?;
        response.json()
    }

    /// Every row of one snapshot domain; `Ok(None)` when LinkedIn refuses the
    /// portability API to this app or member (403).
    async fn snapshot(
        &self,
        token: &SecretString,
        domain: &str,
    ) -> Result<Option<Vec<Row>>, ProviderError> {
        let url = format!(
            "{}/rest/memberSnapshotData",
            self.api_base.trim_end_matches('/')
        );
        let client = self.outbound.client();
        let mut rows = Vec::new();
        for page in 0..MAX_PAGES {
            let start = page.to_string();
            let result = self
                .outbound
                .send(
                    ProviderCall::idempotent(PROVIDER, "member_snapshot"),
                    || {
                        client
                            .get(&url)
                            .query(&[("q", "criteria"), ("domain", domain), ("start", &start)])
                            .header("authorization", Self::bearer(token))
                            .header("linkedin-version", &self.api_version)
                    },
                )
                .await;
            let response = match result {
                Ok(response) => response,
                // "No data found for this memberId": past the last page, or none at all
                Err(err) if err.status() == Some(404) => break,
                Err(err) if err.status() == Some(403) => return Ok(None),
                Err(err) => return Err(err),
            };
            let page: SnapshotPage = response.json()?;
            let has_next = page
                .paging
                .as_ref()
                .is_some_and(|p| p.links.iter().any(|l| l.rel == "next"));
            let found = rows_of(page.elements);
            let empty = found.is_empty();
            rows.extend(found);
            if empty || !has_next {
                break;
            }
        }
        Ok(Some(rows))
    }
}

#[async_trait::async_trait]
impl ProfileProvider for LinkedInClient {
    async fn fetch_profile(
        &self,
        access_token: &SecretString,
        plan: FetchPlan,
    ) -> Result<FetchedProfile, ProviderError> {
        let info = self.userinfo(access_token).await?;
        let mut profile = FetchedProfile {
            member_id: info.sub,
            name: info.name.and_then(|n| non_empty(n.trim().to_owned())),
            given_name: info.given_name,
            family_name: info.family_name,
            email: info.email,
            locale: info.locale.and_then(Locale::tag),
            picture_url: info.picture.filter(|p| !p.is_empty()),
            ..FetchedProfile::default()
        };
        if !plan.portability {
            return Ok(profile);
        }
        match self.snapshot(access_token, "PROFILE").await? {
            None => {
                profile.portability_refused = true;
                return Ok(profile);
            }
            Some(rows) => {
                if let Some(row) = rows.first() {
                    profile.headline = non_empty(field(row, "Headline"));
                    profile.summary = non_empty(field(row, "Summary"));
                    profile.industry = non_empty(field(row, "Industry"));
                    profile.location = non_empty(field(row, "Geo Location"));
                }
            }
        }
        if plan.experience {
            let rows = self
                .snapshot(access_token, "POSITIONS")
                .await?
                .unwrap_or_default();
            profile.experience = Some(
                rows.iter()
                    .map(|r| Position {
                        company_name: field(r, "Company Name"),
                        title: field(r, "Title"),
                        description: field(r, "Description"),
                        location: field(r, "Location"),
                        started_on: field(r, "Started On"),
                        finished_on: field(r, "Finished On"),
                    })
                    .collect(),
            );
        }
        if plan.education {
            let rows = self
                .snapshot(access_token, "EDUCATION")
                .await?
                .unwrap_or_default();
            profile.education = Some(
                rows.iter()
                    .map(|r| Education {
                        school_name: field(r, "School Name"),
                        degree_name: field(r, "Degree Name"),
                        start_date: field(r, "Start Date"),
                        end_date: field(r, "End Date"),
                        notes: field(r, "Notes"),
                        activities: field(r, "Activities"),
                    })
                    .collect(),
            );
        }
        if plan.skills {
            let rows = self
                .snapshot(access_token, "SKILLS")
                .await?
                .unwrap_or_default();
            // endorsements received, counted per skill name, where LinkedIn has them
            let endorsements = self.snapshot(access_token, "ENDORSEMENTS").await?;
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            if let Some(rows) = &endorsements {
                for row in rows
                    .iter()
                    .filter(|r| r.contains_key("Endorser First Name"))
                {
                    *counts
                        .entry(field(row, "Skill Name").to_lowercase())
                        .or_default() += 1;
                }
            }
            profile.skills = Some(
                rows.iter()
                    .map(|r| field(r, "Name"))
                    .filter(|name| !name.is_empty())
                    .map(|name| Skill {
                        endorsement_count: endorsements
                            .as_ref()
                            .map(|_| counts.get(&name.to_lowercase()).copied().unwrap_or(0)),
                        name,
                    })
                    .collect(),
            );
        }
        Ok(profile)
    }
}
