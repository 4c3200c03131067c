//! `GET /rest/memberSnapshotData?q=criteria&domain=D&start=N` (Member Data
//! Portability, Member Snapshot API).
//!
//! As documented: `start` is a page index, ten rows a page, exactly one
//! element per page, rows are flat string-to-string maps with title-case keys,
//! and the end of the data (or no data at all) is a 404 "No data found for
//! this memberId". `total` is the number of pages (LinkedIn calls it
//! unreliable; clients must follow `next` links or stop at the 404).

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::errors::ApiError;
use super::members::SandboxMember;
use super::{authenticate, LinkedInSandbox};

/// Scope the 3rd-party portability product grants.
pub const PORTABILITY_SCOPE: &str = "r_dma_portability_3rd_party";

/// Rows per page (the documented `count=10`).
pub const PAGE_SIZE: usize = 10;

/// Domains the sandbox fills, in the order a domain-less call walks them.
pub const FILLED_DOMAINS: [&str; 5] = [
    "PROFILE",
    "POSITIONS",
    "EDUCATION",
    "SKILLS",
    "ENDORSEMENTS",
];

/// The documented domain list (05/15/2025; case-sensitive). Any other name is
/// refused with 400 so a misspelled domain fails loudly; documented domains
/// the sandbox does not fill answer 404 like an empty domain.
const KNOWN_DOMAINS: &[&str] = &[
    "ADS_CLICKED",
    "MEMBER_FOLLOWING",
    "login",
    "RICH_MEDIA",
    "SEARCHES",
    "INFERENCE_TAKEOUT",
    "ALL_COMMENTS",
    "CONTACTS",
    "Events",
    "RECEIPTS",
    "AD_TARGETING",
    "REGISTRATION",
    "REVIEWS",
    "ARTICLES",
    "PATENTS",
    "GROUPS",
    "COMPANY_FOLLOWS",
    "INVITATIONS",
    "PHONE_NUMBERS",
    "CONNECTIONS",
    "EMAIL_ADDRESSES",
    "JOB_POSTINGS",
    "JOB_APPLICATIONS",
    "JOB_SEEKER_PREFERENCES",
    "LEARNING",
    "INBOX",
    "SAVED_JOBS",
    "SAVED_JOB_ALERTS",
    "PROFILE",
    "SKILLS",
    "POSITIONS",
    "EDUCATION",
    "TEST_SCORES",
    "CAUSES_YOU_CARE_ABOUT",
    "PUBLICATIONS",
    "PROJECTS",
    "ORGANIZATIONS",
    "LANGUAGES",
    "HONORS",
    "COURSES",
    "CERTIFICATIONS",
    "CALENDAR",
    "RECOMMENDATIONS",
    "ENDORSEMENTS",
    "MEMBER_SHARE_INFO",
    "SECURITY_CHALLENGE_PIPE",
    "TRUSTED_GRAPH",
    "MARKETPLACE_ENGAGEMENTS",
    "MARKETPLACE_PROVIDERS",
    "MARKETPLACE_OPPORTUNITIES",
    "ACTOR_SAVE_ITEM",
    "JOB_APPLICANT_SAVED_ANSWERS",
    "TALENT_QUESTION_SAVED_RESPONSE",
    "PROFILE_SUMMARY",
    "ALL_LIKES",
    "ALL_VOTES",
    "RECEIPTS_LBP",
    "easyapply-blocking",
    "LEARNING_COACH_AI_TAKEOUT",
    "LEARNING_COACH_INBOX",
    "LEARNING_ROLEPLAY_INBOX",
    "VOLUNTEERING_EXPERIENCES",
    "ACCOUNT_HISTORY",
    "INSTANT_REPOSTS",
];

type Row = Map<String, Value>;

/// `GET /rest/memberSnapshotData`.
pub(super) async fn member_snapshot_data(
    State(sandbox): State<LinkedInSandbox>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match answer(&sandbox, &headers, query.as_deref().unwrap_or("")) {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

fn answer(sandbox: &LinkedInSandbox, headers: &HeaderMap, query: &str) -> Result<Value, ApiError> {
    let (info, member) = authenticate(sandbox, headers)?;
    let version = headers
        .get("linkedin-version")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(ApiError::version_missing)?;
    if !sandbox
        .config
        .accepted_versions
        .iter()
        .any(|v| v == version)
    {
        return Err(ApiError::nonexistent_version(version));
    }
    if !info.scopes.iter().any(|s| s == PORTABILITY_SCOPE) {
        return Err(ApiError::access_denied(&format!(
            "memberSnapshotData.FINDER-criteria.{version}"
        )));
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if params.get("q").map(String::as_str) != Some("criteria") {
        return Err(ApiError::illegal_argument("q must be criteria"));
    }
    let start: usize = match params.get("start") {
        None => 0,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::illegal_argument("start must be a non-negative integer"))?,
    };
    let domain = params.get("domain").map(String::as_str);
    if let Some(d) = domain {
        if !KNOWN_DOMAINS.contains(&d) {
            return Err(ApiError::illegal_argument(format!("unknown domain {d}")));
        }
    }
    if !member.portability {
        return Err(ApiError::no_data());
    }

    // Pages of the asked domain, or of every filled domain one after another.
    let domains: Vec<&str> = match domain {
        Some(d) => vec![d],
        None => FILLED_DOMAINS.to_vec(),
    };
    let pages: Vec<(&str, Vec<Row>)> = domains
        .into_iter()
        .flat_map(|d| {
            rows(&member, d)
                .chunks(PAGE_SIZE)
                .map(|chunk| (d, chunk.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    let total = pages.len();
    let Some((page_domain, page_rows)) = pages.into_iter().nth(start) else {
        return Err(ApiError::no_data());
    };

    let link = |rel: &str, page: usize| {
        let mut href = format!("/rest/memberSnapshotData?count={PAGE_SIZE}");
        if let Some(d) = domain {
            href.push_str(&format!("&domain={d}"));
        }
        href.push_str(&format!("&q=criteria&start={page}"));
        json!({"type": "application/json", "rel": rel, "href": href})
    };
    let mut links = Vec::new();
    if start > 0 {
        links.push(link("prev", start - 1));
    }
    if start + 1 < total {
        links.push(link("next", start + 1));
    }
    Ok(json!({
        "paging": {"start": start, "count": PAGE_SIZE, "links": links, "total": total},
        "elements": [{"snapshotDomain": page_domain, "snapshotData": page_rows}],
    }))
}

/// Every row of one domain (empty for domains the sandbox does not fill).
fn rows(member: &SandboxMember, domain: &str) -> Vec<Row> {
    match domain {
        "PROFILE" => {
            let p = &member.profile;
            vec![row(&[
                ("First Name", &member.given_name),
                ("Last Name", &member.family_name),
                ("Maiden Name", ""),
                ("Headline", &p.headline),
                ("Summary", &p.summary),
                ("Industry", &p.industry),
                ("Geo Location", &p.geo_location),
                ("Zip Code", &p.zip_code),
                ("Address", ""),
                ("Birth Date", ""),
                ("Websites", ""),
                ("Twitter Handles", ""),
                ("Instant Messengers", ""),
            ])]
        }
        "POSITIONS" => member
            .positions
            .iter()
            .map(|p| {
                let finished = p.finished_on.map(|f| f.to_string()).unwrap_or_default();
                row(&[
                    ("Company Name", &p.company_name),
                    ("Title", &p.title),
                    ("Description", &p.description),
                    ("Location", &p.location),
                    ("Started On", &p.started_on.to_string()),
                    ("Finished On", &finished),
                ])
            })
            .collect(),
        "EDUCATION" => member
            .education
            .iter()
            .map(|e| {
                row(&[
                    ("School Name", &e.school_name),
                    ("Degree Name", &e.degree_name),
                    ("Start Date", &e.start_date),
                    ("End Date", &e.end_date),
                    ("Notes", &e.notes),
                    ("Activities", &e.activities),
                ])
            })
            .collect(),
        "SKILLS" => member.skills.iter().map(|s| row(&[("Name", s)])).collect(),
        "ENDORSEMENTS" => member
            .endorsements
            .iter()
            .map(|e| {
                row(&[
                    ("Endorsement Date", &e.date),
                    ("Skill Name", &e.skill_name),
                    ("Endorser First Name", &e.endorser_first_name),
                    ("Endorser Last Name", &e.endorser_last_name),
                    ("Endorser Public Url", &e.endorser_public_url),
                    ("Endorsement Status", &e.status),
                ])
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn row(fields: &[(&str, &str)]) -> Row {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect()
}
