//! Lever opportunities (candidates applied to a posting): what the sandbox
//! stores from `POST /v1/opportunities` and the Postings API apply, their
//! `GET /v1/opportunities/{id}` JSON, and the recruiter's moves tests make.
//!
//! The opportunity object is third-party (NOT verified): `{id, name,
//! contact, headline, emails, phones [{type, value}], location, links,
//! createdAt, updatedAt, lastInteractionAt, lastAdvancedAt, snoozedUntil,
//! stage, stageChanges [{toStageId, toStageIndex, userId, updatedAt}],
//! archived {archivedAt, reason} | null, owner, tags, sources, origin,
//! applications, followers, urls {list, show}, isAnonymized}`. Lever
//! dedupes by email: a new opportunity with an email already known gets
//! the same `contact`; the sandbox answers the existing opportunity when
//! the same contact applies to the same posting again (its own choice).

use serde_json::{json, Value};

use super::data::now_ms;
use super::webhooks::LeverWebhook;
use super::LeverSandbox;

/// Stages `(id, text)` in pipeline order (`GET /v1/stages`); ids are the sandbox's.
pub const STAGES: &[(&str, &str)] = &[
    ("c2f5b1a0-0001-4c1e-9a00-000000000001", "New applicant"),
    ("c2f5b1a0-0002-4c1e-9a00-000000000002", "Phone screen"),
    ("c2f5b1a0-0003-4c1e-9a00-000000000003", "On-site interview"),
    ("c2f5b1a0-0004-4c1e-9a00-000000000004", "Offer"),
];

/// Archive reasons `(id, text, type)` (`GET /v1/archive_reasons`); the
/// first is the one of type `hired`.
pub const ARCHIVE_REASONS: &[(&str, &str, &str)] = &[
    ("d3a6c2b1-0001-4d2f-8b00-000000000001", "Hired", "hired"),
    (
        "d3a6c2b1-0002-4d2f-8b00-000000000002",
        "Underqualified",
        "non-hired",
    ),
    (
        "d3a6c2b1-0003-4d2f-8b00-000000000003",
        "Withdrew",
        "non-hired",
    ),
    (
        "d3a6c2b1-0004-4d2f-8b00-000000000004",
        "Position filled",
        "non-hired",
    ),
];

/// Which API created an opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeverApi {
    /// `POST /v1/opportunities`.
    DataApi,
    /// `POST /v0/postings/{site}/{id}`.
    PostingsApi,
}

/// A file received with an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFile {
    /// The multipart part name (`resumeFile`, `files[]`, `resume`).
    pub field: String,
    /// Its filename.
    pub filename: String,
    /// Its content type, if sent.
    pub content_type: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// One stage change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    /// The new stage.
    pub to_stage_id: String,
    /// Its index in [`STAGES`].
    pub to_stage_index: usize,
    /// Who moved it.
    pub user_id: Option<String>,
    /// When, epoch ms.
    pub updated_at: i64,
}

/// An opportunity as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    /// Opportunity id (UUID).
    pub id: String,
    /// Contact id: shared by opportunities with a common email.
    pub contact: String,
    /// Candidate's name.
    pub name: String,
    /// Headline (current company/title).
    pub headline: Option<String>,
    /// Emails.
    pub emails: Vec<String>,
    /// Phones as `{value, type}`.
    pub phones: Vec<Value>,
    /// Links.
    pub links: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Sources.
    pub sources: Vec<String>,
    /// Origin (`applied`, `sourced`, ...).
    pub origin: Option<String>,
    /// The posting ids (at most one).
    pub postings: Vec<String>,
    /// Current stage id.
    pub stage: String,
    /// Stage history.
    pub stage_changes: Vec<StageChange>,
    /// `(archivedAt, reason id)` when archived.
    pub archived: Option<(i64, String)>,
    /// Application ids (one per posting).
    pub applications: Vec<String>,
    /// Creation, epoch ms.
    pub created_at: i64,
    /// Last change, epoch ms.
    pub updated_at: i64,
    /// `perform_as` of the create request (`None`: Postings API).
    pub performed_by: Option<String>,
    /// Which API created it.
    pub via: LeverApi,
    /// The resume file (`resumeFile` or `resume` part).
    pub resume: Option<ReceivedFile>,
    /// Other files (`files[]`).
    pub files: Vec<ReceivedFile>,
    /// Every field as received (JSON body, or multipart text parts).
    pub fields: Value,
    /// Sent as multipart.
    pub multipart: bool,
}

impl Opportunity {
    /// The `GET /v1/opportunities/{id}` object.
    pub fn json(&self) -> Value {
        let changes: Vec<Value> = self
            .stage_changes
            .iter()
            .map(|c| {
                json!({"toStageId": c.to_stage_id, "toStageIndex": c.to_stage_index,
                       "userId": c.user_id, "updatedAt": c.updated_at})
            })
            .collect();
        let last_advanced = self.stage_changes.last().map(|c| c.updated_at);
        json!({
            "id": self.id,
            "name": self.name,
            "contact": self.contact,
            "headline": self.headline.clone().unwrap_or_default(),
            "stage": self.stage,
            "confidentiality": "non-confidential",
            "location": self.fields.get("location").cloned().unwrap_or(Value::Null),
            "phones": self.phones,
            "emails": self.emails,
            "links": self.links,
            "archived": self.archived.as_ref().map(|(at, reason)| json!({"archivedAt": at, "reason": reason})),
            "tags": self.tags,
            "sources": self.sources,
            "stageChanges": changes,
            "origin": self.origin,
            "owner": self.performed_by,
            "followers": self.performed_by.iter().collect::<Vec<_>>(),
            "applications": self.applications,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "lastInteractionAt": self.updated_at,
            "lastAdvancedAt": last_advanced.unwrap_or(self.created_at),
            "snoozedUntil": null,
            "urls": {
                "list": "https://hire.lever.co/candidates",
                "show": format!("https://hire.lever.co/candidates/{}", self.id),
            },
            "isAnonymized": false,
            "dataProtection": null,
        })
    }
}

/// A new opportunity before dedupe.
pub(crate) struct NewOpportunity {
    pub(crate) name: String,
    pub(crate) headline: Option<String>,
    pub(crate) emails: Vec<String>,
    pub(crate) phones: Vec<Value>,
    pub(crate) links: Vec<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) sources: Vec<String>,
    pub(crate) origin: Option<String>,
    pub(crate) postings: Vec<String>,
    pub(crate) performed_by: Option<String>,
    pub(crate) via: LeverApi,
    pub(crate) resume: Option<ReceivedFile>,
    pub(crate) files: Vec<ReceivedFile>,
    pub(crate) fields: Value,
    pub(crate) multipart: bool,
}

/// Every opportunity, in arrival order.
#[derive(Default)]
pub(crate) struct Records {
    pub(crate) opportunities: Vec<Opportunity>,
}

impl Records {
    /// Store `new` (or find the same contact's opportunity for the same
    /// posting); its index, and whether it was created.
    pub(crate) fn create(&mut self, new: NewOpportunity) -> (usize, bool) {
        let lower: Vec<String> = new.emails.iter().map(|e| e.to_ascii_lowercase()).collect();
        let same_contact = self.opportunities.iter().find(|o| {
            o.emails
                .iter()
                .any(|e| lower.contains(&e.to_ascii_lowercase()))
        });
        if let Some(existing) = same_contact {
            let contact = existing.contact.clone();
            if let Some(i) = self
                .opportunities
                .iter()
                .position(|o| o.contact == contact && o.postings == new.postings)
            {
                return (i, false);
            }
        }
        let contact = same_contact.map_or_else(uuid, |o| o.contact.clone());
        let now = now_ms();
        let stage = STAGES[0].0.to_owned();
        let applications = new.postings.iter().map(|_| uuid()).collect();
        self.opportunities.push(Opportunity {
            id: uuid(),
            contact,
            name: new.name,
            headline: new.headline,
            emails: new.emails,
            phones: new.phones,
            links: new.links,
            tags: new.tags,
            sources: new.sources,
            origin: new.origin,
            postings: new.postings,
            stage: stage.clone(),
            stage_changes: vec![StageChange {
                to_stage_id: stage,
                to_stage_index: 0,
                user_id: new.performed_by.clone(),
                updated_at: now,
            }],
            archived: None,
            applications,
            created_at: now,
            updated_at: now,
            performed_by: new.performed_by,
            via: new.via,
            resume: new.resume,
            files: new.files,
            fields: new.fields,
            multipart: new.multipart,
        });
        (self.opportunities.len() - 1, true)
    }
}

/// A random UUID (version 4 layout).
pub(crate) fn uuid() -> String {
    let hex = format!("{:032x}", rand::random::<u128>());
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..15],
        &hex[15..18],
        &hex[18..30]
    )
}

fn base_data(o: &Opportunity) -> Value {
    json!({"opportunityId": o.id, "candidateId": o.id, "contactId": o.contact})
}

impl LeverSandbox {
    fn with_opportunity<T>(&self, id: &str, f: impl FnOnce(&mut Opportunity) -> T) -> Option<T> {
        let mut records = self.inner.records.lock();
        let o = records.opportunities.iter_mut().find(|o| o.id == id)?;
        Some(f(o))
    }

    /// Every opportunity received (both APIs), in arrival order.
    pub fn opportunities(&self) -> Vec<Opportunity> {
        self.inner.records.lock().opportunities.clone()
    }

    /// One opportunity.
    pub fn opportunity(&self, id: &str) -> Option<Opportunity> {
        self.with_opportunity(id, |o| o.clone())
    }

    /// The `applicationCreated` webhook for this opportunity.
    pub fn application_created_webhook(&self, opportunity_id: &str) -> Option<LeverWebhook> {
        self.with_opportunity(opportunity_id, |o| {
            let mut data = base_data(o);
            data["applicationId"] = json!(o.applications.first());
            data["postingId"] = json!(o.postings.first());
            LeverWebhook::new("applicationCreated", data)
        })
    }

    /// Move to a stage of [`STAGES`]; the `candidateStageChange` webhook.
    pub fn move_stage(&self, opportunity_id: &str, stage_id: &str) -> Option<LeverWebhook> {
        let index = STAGES.iter().position(|(id, _)| *id == stage_id)?;
        self.with_opportunity(opportunity_id, |o| {
            let from = std::mem::replace(&mut o.stage, stage_id.to_owned());
            let now = now_ms();
            o.stage_changes.push(StageChange {
                to_stage_id: stage_id.to_owned(),
                to_stage_index: index,
                user_id: o.performed_by.clone(),
                updated_at: now,
            });
            o.updated_at = now;
            let mut data = base_data(o);
            data["fromStageId"] = json!(from);
            data["toStageId"] = json!(stage_id);
            LeverWebhook::new("candidateStageChange", data)
        })
    }

    /// Archive with a reason of [`ARCHIVE_REASONS`]: `candidateHired` for
    /// the reason of type `hired`, `candidateArchiveChange` otherwise.
    pub fn archive(&self, opportunity_id: &str, reason_id: &str) -> Option<LeverWebhook> {
        let (_, _, kind) = ARCHIVE_REASONS.iter().find(|(id, _, _)| *id == reason_id)?;
        self.with_opportunity(opportunity_id, |o| {
            let now = now_ms();
            o.archived = Some((now, reason_id.to_owned()));
            o.updated_at = now;
            let event = if *kind == "hired" {
                "candidateHired"
            } else {
                "candidateArchiveChange"
            };
            LeverWebhook::new(event, base_data(o))
        })
    }

    /// Unarchive; the `candidateArchiveChange` webhook.
    pub fn unarchive(&self, opportunity_id: &str) -> Option<LeverWebhook> {
        self.with_opportunity(opportunity_id, |o| {
            o.archived = None;
            o.updated_at = now_ms();
            LeverWebhook::new("candidateArchiveChange", base_data(o))
        })
    }

    /// Delete; the `candidateDeleted` webhook.
    pub fn delete_opportunity(&self, opportunity_id: &str) -> Option<LeverWebhook> {
        let mut records = self.inner.records.lock();
        let i = records
            .opportunities
            .iter()
            .position(|o| o.id == opportunity_id)?;
        let o = records.opportunities.remove(i);
        Some(LeverWebhook::new("candidateDeleted", base_data(&o)))
    }
}
