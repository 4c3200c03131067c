//! What the Greenhouse sandbox received: candidates, applications,
//! attachments (Harvest writes) and Job Board applications, with the JSON
//! views of an application: Harvest's (v1's documented application object)
//! and the one webhooks carry (`payload.application` of the documented
//! `candidate_stage_change` example).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::data::{ts, Job, Store, Ts};

/// The interview plan every job has: `(stage id, name)`, in order.
pub const STAGES: &[(u64, &str)] = &[
    (5_000_001, "Application Review"),
    (5_000_002, "Phone Screen"),
    (5_000_003, "Face to Face"),
    (5_000_004, "Reference Check"),
    (5_000_005, "Offer"),
];

/// The rejection reason `reject` uses.
pub const REJECTION_REASON: (u64, &str) = (5_100_001, "Lacking skill(s)/qualification(s)");

/// Where an application came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationOrigin {
    /// `POST /v3/applications` or `POST /v3/candidates` with `applications`.
    Harvest,
    /// The Job Board apply endpoint.
    JobBoard,
}

/// `active`, `rejected` or `hired` (`application.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    /// In process.
    Active,
    /// Rejected.
    Rejected,
    /// Hired.
    Hired,
}

impl ApplicationStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Active => "active",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Hired => "hired",
        }
    }
}

/// A candidate as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Candidate id.
    pub id: u64,
    /// `first_name`.
    pub first_name: String,
    /// `last_name`.
    pub last_name: String,
    /// Every `email_addresses[].value`.
    pub emails: Vec<String>,
    /// The request body exactly as parsed (Job Board: the applicant's fields).
    pub body: Value,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Its applications' ids.
    pub application_ids: Vec<u64>,
    /// The token's `sub` that created it (`None`: the Job Board API).
    pub acting_user_id: Option<u64>,
}

/// An application.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// Application id.
    pub id: u64,
    /// The candidate.
    pub candidate_id: u64,
    /// The job applied to.
    pub job_id: u64,
    /// The job post, if known.
    pub job_post_id: Option<u64>,
    /// `source_id` sent, if any.
    pub source_id: Option<u64>,
    /// Active, rejected or hired.
    pub status: ApplicationStatus,
    /// Current stage `(id, name)`.
    pub stage: (u64, String),
    /// When it arrived.
    pub applied_at: DateTime<Utc>,
    /// When it was rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// Last change.
    pub last_activity_at: DateTime<Utc>,
    /// How it arrived.
    pub origin: ApplicationOrigin,
    /// The request body as parsed.
    pub body: Value,
    /// The token's `sub` that created it (`None`: the Job Board API).
    pub acting_user_id: Option<u64>,
}

/// An attachment received by `POST /v3/attachments` (or inline in an
/// application), or a Job Board file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Attachment id.
    pub id: u64,
    /// The application it belongs to.
    pub application_id: u64,
    /// `filename`.
    pub filename: String,
    /// `type` (`resume`, `cover_letter`, `admin_only`, or a Job Board question name).
    pub kind: String,
    /// `content_type`, if sent.
    pub content_type: Option<String>,
    /// The decoded bytes (empty when sent as `url`).
    pub content: Vec<u8>,
    /// `url`, when sent instead of content.
    pub url: Option<String>,
}

/// One Job Board application as received.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardApplication {
    /// The board token in the path.
    pub board_token: String,
    /// The job post id in the path.
    pub job_post_id: u64,
    /// Every non-file field: JSON as sent, or multipart text parts as
    /// strings (repeated names such as `question_1[]` become arrays).
    pub fields: Value,
    /// Files: multipart file parts and decoded `*_content` fields.
    pub files: Vec<Attachment>,
    /// `true`: sent as multipart, `false`: as JSON.
    pub multipart: bool,
    /// The application created for it (`None` for a prospect post).
    pub application_id: Option<u64>,
}

/// Everything received, by id.
#[derive(Default)]
pub(crate) struct Records {
    pub(crate) candidates: BTreeMap<u64, Candidate>,
    pub(crate) applications: BTreeMap<u64, Application>,
    pub(crate) attachments: Vec<Attachment>,
    pub(crate) board_applications: Vec<BoardApplication>,
}

fn stage_json(stage: &(u64, String)) -> Value {
    json!({"id": stage.0, "name": stage.1})
}

fn rejection_reason(app: &Application) -> Value {
    if app.status == ApplicationStatus::Rejected {
        json!({"id": REJECTION_REASON.0, "name": REJECTION_REASON.1,
               "type": {"id": 1, "name": "We rejected them"}})
    } else {
        Value::Null
    }
}

impl Records {
    /// Harvest's application object (v1 shape).
    pub(crate) fn harvest_json(&self, app: &Application, job_name: &str) -> Value {
        let attachments: Vec<Value> = self
            .attachments
            .iter()
            .filter(|a| a.application_id == app.id)
            .map(|a| {
                json!({"filename": a.filename, "url": attachment_url(a), "type": a.kind,
                       "created_at": Ts(app.applied_at)})
            })
            .collect();
        json!({
            "id": app.id,
            "candidate_id": app.candidate_id,
            "prospect": false,
            "applied_at": Ts(app.applied_at),
            "rejected_at": ts(app.rejected_at),
            "last_activity_at": Ts(app.last_activity_at),
            "location": null,
            "source": app.source_id.map(|id| json!({"id": id, "public_name": "Sandbox source"})),
            "credited_to": null,
            "recruiter": null,
            "coordinator": null,
            "rejection_reason": rejection_reason(app),
            "rejection_details": null,
            "jobs": [{"id": app.job_id, "name": job_name}],
            "job_post_id": app.job_post_id,
            "status": app.status.as_str(),
            "current_stage": stage_json(&app.stage),
            "answers": [],
            "prospective_department": null,
            "prospective_office": null,
            "prospect_detail": {"prospect_pool": null, "prospect_stage": null, "prospect_owner": null},
            "custom_fields": {},
            "keyed_custom_fields": {},
            "attachments": attachments,
        })
    }

    /// Harvest's candidate object (v1 shape) with its applications.
    pub(crate) fn candidate_json(&self, store: &Store, c: &Candidate) -> Value {
        let records = self;
        let field = |name: &str, default: Value| c.body.get(name).cloned().unwrap_or(default);
        let apps: Vec<Value> = c
            .application_ids
            .iter()
            .filter_map(|id| records.applications.get(id))
            .map(|a| {
                let name = store.jobs.get(&a.job_id).map_or("", |j| j.name.as_str());
                records.harvest_json(a, name)
            })
            .collect();
        json!({
            "id": c.id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company": field("company", Value::Null),
            "title": field("title", Value::Null),
            "created_at": Ts(c.created_at),
            "updated_at": Ts(c.created_at),
            "last_activity": Ts(c.created_at),
            "is_private": false,
            "photo_url": null,
            "attachments": [],
            "application_ids": c.application_ids,
            "phone_numbers": field("phone_numbers", json!([])),
            "addresses": field("addresses", json!([])),
            "email_addresses": field("email_addresses", json!([])),
            "website_addresses": field("website_addresses", json!([])),
            "social_media_addresses": field("social_media_addresses", json!([])),
            "recruiter": null,
            "coordinator": null,
            "can_email": true,
            "tags": field("tags", json!([])),
            "applications": apps,
            "educations": [],
            "employments": [],
            "custom_fields": {},
            "keyed_custom_fields": {},
        })
    }

    /// The `payload.application` object webhooks carry.
    pub(crate) fn webhook_json(&self, app: &Application, job: Option<&Job>) -> Value {
        let candidate = self.candidates.get(&app.candidate_id);
        let field = |name: &str| {
            candidate
                .map(|c| c.body.get(name).cloned().unwrap_or(Value::Null))
                .unwrap_or(Value::Null)
        };
        let attachments: Vec<Value> = self
            .attachments
            .iter()
            .filter(|a| a.application_id == app.id)
            .map(|a| json!({"filename": a.filename, "url": attachment_url(a), "type": a.kind}))
            .collect();
        let emails: Vec<Value> = candidate
            .map(|c| {
                c.emails
                    .iter()
                    .map(|e| json!({"value": e, "type": "personal"}))
                    .collect()
            })
            .unwrap_or_default();
        let job_json = job.map(|j| super::webhooks::webhook_job(j, app.job_post_id));
        json!({
            "id": app.id,
            "rejected_at": ts(app.rejected_at),
            "prospect": false,
            "status": app.status.as_str(),
            "applied_at": Ts(app.applied_at),
            "last_activity_at": Ts(app.last_activity_at),
            "url": format!("https://app.greenhouse.io/people/{}?application_id={}", app.candidate_id, app.id),
            "source": app.source_id.map(|id| json!({"id": id, "name": "Sandbox source"})),
            "credited_to": null,
            "rejection_reason": rejection_reason(app),
            "rejection_details": null,
            "current_stage": {"id": app.stage.0, "name": app.stage.1, "interviews": []},
            "custom_fields": {},
            "candidate": {
                "id": app.candidate_id,
                "first_name": candidate.map(|c| c.first_name.clone()),
                "last_name": candidate.map(|c| c.last_name.clone()),
                "title": field("title"),
                "company": field("company"),
                "created_at": candidate.map(|c| Ts(c.created_at)),
                "external_id": null,
                "photo_url": null,
                "url": format!("https://app.greenhouse.io/people/{}", app.candidate_id),
                "is_private": false,
                "can_email": true,
                "phone_numbers": field("phone_numbers"),
                "email_addresses": emails,
                "addresses": [],
                "website_addresses": field("website_addresses"),
                "social_media_addresses": field("social_media_addresses"),
                "educations": [],
                "employments": [],
                "recruiter": null,
                "coordinator": null,
                "attachments": attachments,
                "tags": [],
                "custom_fields": {},
            },
            "jobs": job_json.map(|j| vec![j]).unwrap_or_default(),
        })
    }
}

/// The signed, temporary URL Greenhouse would answer for an attachment (a
/// fake S3 address; the sandbox serves no files).
fn attachment_url(a: &Attachment) -> String {
    a.url.clone().unwrap_or_else(|| {
        format!(
            "https://prod-heroku.s3.amazonaws.com/sandbox/{}/{}?X-Amz-Expires=604800",
            a.id, a.filename
        )
    })
}

/// The stage with this name (case-insensitive).
pub(crate) fn stage_named(name: &str) -> Option<(u64, String)> {
    STAGES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(id, n)| (*id, (*n).to_owned()))
}

/// The stage with this id.
pub(crate) fn stage_by_id(id: u64) -> Option<(u64, String)> {
    STAGES
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(id, n)| (*id, (*n).to_owned()))
}

/// The first stage of the plan.
pub(crate) fn first_stage() -> (u64, String) {
    (STAGES[0].0, STAGES[0].1.to_owned())
}
