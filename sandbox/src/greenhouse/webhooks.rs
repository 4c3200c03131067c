//! Greenhouse's webhooks as the service receives them (GH-DOCS webhooks,
//! verified): `POST` with `Content-Type: application/json`,
//! `Greenhouse-Event-ID: <unique per delivery>` and `Signature: sha256
//! <64 lowercase hex>` = HMAC-SHA256(key = the webhook's secret, message =
//! the raw body). The body is `{"action", "payload"}`; before signing,
//! Greenhouse escapes Unicode in it (`<` as `\u003c`): this escapes `<`,
//! `>`, `&` and every non-ASCII character (as UTF-16 `\uXXXX`), which is
//! Ruby's `to_json` behaviour as far as the docs show; whether `/` is
//! escaped too is NOT verified (some examples show `<\/p>`), so it is not.
//!
//! Payloads follow the documented examples: `job_created`/`job_updated`
//! `{job: {...}}`, `job_deleted` `{job: {id, name}}`, `job_post_created`/
//! `job_post_updated` FLAT (`payload.id`, `payload.job_id`),
//! `job_post_deleted` NESTED (`payload.job_post`), application events
//! `{application: {...}}` (`hire_candidate` without `status` and
//! `current_stage`, with `offer`). The `ping` body is NOT documented: the
//! sandbox sends `{"action": "ping", "payload": {"web_hook_id": N}}`.

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use super::data::{ts, Job, Ts};
use super::posts::{JobPost, QuestionType};
use crate::webhook::{hmac_sha256_hex, post, WebhookSendError};

/// A job as webhooks carry it (the `job_created` example's shape).
pub(crate) fn webhook_job(job: &Job, job_post_id: Option<u64>) -> Value {
    let departments: Vec<Value> = job
        .departments
        .iter()
        .map(|d| json!({"id": d.id, "name": d.name, "external_id": d.external_id}))
        .collect();
    let offices: Vec<Value> = job
        .offices
        .iter()
        .map(|o| json!({"id": o.id, "name": o.name, "location": o.location, "external_id": o.external_id}))
        .collect();
    let members = |list: &[super::data::HiringMember]| -> Value {
        list.iter()
            .map(|m| json!({"user_id": m.id, "employee_id": m.employee_id}))
            .collect()
    };
    let team = &job.hiring_team;
    let salary = job.salary_range.as_ref().map(|s| {
        json!({"unit": s.unit, "min_value": format!("{}.0", s.min_value),
               "max_value": format!("{}.0", s.max_value)})
    });
    json!({
        "id": job.id,
        "name": job.name,
        "requisition_id": job.requisition_id,
        "notes": job.notes,
        "confidential": job.confidential,
        "job_post_id": job_post_id,
        "status": job.status.as_str(),
        "created_at": Ts(job.created_at),
        "opened_at": ts(job.opened_at),
        "closed_at": ts(job.closed_at),
        "departments": departments,
        "offices": offices,
        "hiring_team": {
            "hiring_managers": members(&team.hiring_managers),
            "sourcers": members(&team.sourcers),
            "recruiters": members(&team.recruiters),
            "coordinators": members(&team.coordinators),
        },
        "openings": job.openings.iter().map(|o| json!({"id": o.id, "opening_id": o.opening_id, "custom_fields": []})).collect::<Vec<_>>(),
        "custom_fields": {
            "employment_type": {"name": "Employment Type", "type": "single_select", "value": job.employment_type},
            "salary_range": {"name": "Salary Range", "type": "currency_range", "value": salary},
        },
    })
}

/// A job post as `job_post_*` webhooks carry it (location a string,
/// questions in the Job Board vocabulary with label-only values).
pub(crate) fn webhook_post(post: &JobPost) -> Value {
    let questions: Vec<Value> = post
        .questions
        .iter()
        .map(|q| {
            let kind = match q.kind {
                QuestionType::ShortText => "input_text",
                QuestionType::LongText => "textarea",
                QuestionType::Attachment => "input_file",
                QuestionType::Boolean | QuestionType::SingleSelect => "multi_value_single_select",
                QuestionType::MultiSelect => "multi_value_multi_select",
            };
            let values: Vec<&str> = q.values.iter().map(|v| v.label.as_str()).collect();
            json!({"required": q.required, "private": q.private, "label": q.label,
                   "type": kind, "values": values})
        })
        .collect();
    let mut v = json!({
        "id": post.id,
        "title": post.title,
        "location": post.location.name,
        "content": post.content,
        "internal_content": post.internal_content,
        "updated_at": post.updated_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "external": post.external,
        "internal": post.internal,
        "live": post.live,
        "questions": questions,
    });
    if let Some(job_id) = post.job_id {
        v["job_id"] = json!(job_id);
    }
    v
}

/// Escape `<`, `>`, `&` and non-ASCII characters of serialized JSON as
/// `\uXXXX` (they only occur inside strings, so the JSON stays the same value).
pub fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        if c.is_ascii() && !matches!(c, '<' | '>' | '&') {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    out
}

/// One webhook event: an action and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct GreenhouseWebhook {
    /// `action` (`job_created`, `candidate_stage_change`, ...).
    pub action: String,
    /// `payload`.
    pub payload: Value,
}

impl GreenhouseWebhook {
    /// Any action with any payload.
    pub fn new(action: &str, payload: Value) -> Self {
        Self {
            action: action.to_owned(),
            payload,
        }
    }

    /// The ping sent when a webhook is saved (body NOT documented).
    pub fn ping(web_hook_id: u64) -> Self {
        Self::new("ping", json!({"web_hook_id": web_hook_id}))
    }

    /// `job_created` for this job (and its post's id).
    pub fn job_created(job: &Job, job_post_id: Option<u64>) -> Self {
        Self::new("job_created", json!({"job": webhook_job(job, job_post_id)}))
    }

    /// `job_updated` for this job.
    pub fn job_updated(job: &Job, job_post_id: Option<u64>) -> Self {
        Self::new("job_updated", json!({"job": webhook_job(job, job_post_id)}))
    }

    /// `job_deleted`: only the id and name.
    pub fn job_deleted(id: u64, name: &str) -> Self {
        Self::new("job_deleted", json!({"job": {"id": id, "name": name}}))
    }

    /// `job_post_created`, the post flat in `payload`.
    pub fn job_post_created(post: &JobPost) -> Self {
        Self::new("job_post_created", webhook_post(post))
    }

    /// `job_post_updated`, the post flat in `payload`.
    pub fn job_post_updated(post: &JobPost) -> Self {
        Self::new("job_post_updated", webhook_post(post))
    }

    /// `job_post_deleted`, the post nested in `payload.job_post`.
    pub fn job_post_deleted(post: &JobPost) -> Self {
        Self::new("job_post_deleted", json!({"job_post": webhook_post(post)}))
    }

    /// `new_candidate_application` with an application as
    /// [`GreenhouseSandbox::application_webhook_json`](super::GreenhouseSandbox::application_webhook_json) answers it.
    pub fn new_candidate_application(application: Value) -> Self {
        Self::new(
            "new_candidate_application",
            json!({"application": application}),
        )
    }

    /// `candidate_stage_change` (`current_stage` is the new stage).
    pub fn candidate_stage_change(application: Value) -> Self {
        Self::new(
            "candidate_stage_change",
            json!({"application": application}),
        )
    }

    /// `reject_candidate`.
    pub fn reject_candidate(application: Value) -> Self {
        Self::new("reject_candidate", json!({"application": application}))
    }

    /// `unreject_candidate`.
    pub fn unreject_candidate(application: Value) -> Self {
        Self::new("unreject_candidate", json!({"application": application}))
    }

    /// `hire_candidate`: as documented, without `status` and
    /// `current_stage`, with `offer`, `opening` and the deprecated `job`.
    pub fn hire_candidate(mut application: Value) -> Self {
        if let Some(obj) = application.as_object_mut() {
            obj.remove("status");
            obj.remove("current_stage");
            let now = Utc::now();
            let id = obj.get("id").and_then(Value::as_u64).unwrap_or(0);
            obj.insert(
                "offer".to_owned(),
                json!({"id": id + 1, "version": 1, "created_at": Ts(now),
                       "sent_at": now.format("%Y-%m-%d").to_string(), "resolved_at": Ts(now),
                       "starts_at": (now + chrono::Duration::days(30)).format("%Y-%m-%d").to_string(),
                       "custom_fields": {}}),
            );
            let job = obj.get("jobs").and_then(|j| j.get(0)).cloned();
            obj.insert(
                "opening".to_owned(),
                json!({"opening_id": null, "custom_fields": []}),
            );
            if let Some(job) = job {
                obj.insert("job".to_owned(), job);
            }
        }
        Self::new("hire_candidate", json!({"application": application}))
    }

    /// The body bytes Greenhouse would send: compact JSON, then escaped.
    pub fn body(&self) -> Vec<u8> {
        let raw = json!({"action": self.action, "payload": self.payload}).to_string();
        escape_json(&raw).into_bytes()
    }

    /// Sign with the webhook's secret, with a fresh `Greenhouse-Event-ID`.
    pub fn sign(&self, secret: &str) -> SignedDelivery {
        let body = self.body();
        let event_id = crate::random_token();
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Greenhouse-Event-ID".to_owned(), event_id.clone()),
            ("Signature".to_owned(), signature(secret, &body)),
        ];
        SignedDelivery {
            body,
            headers,
            event_id,
        }
    }
}

/// The `Signature` header value for `body`: `sha256 <hex>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256 {}", hmac_sha256_hex(secret.as_bytes(), body))
}

/// One delivery: exactly the bytes and headers the service receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDelivery {
    /// The raw body.
    pub body: Vec<u8>,
    /// Headers, in sending order.
    pub headers: Vec<(String, String)>,
    /// The `Greenhouse-Event-ID` value.
    pub event_id: String,
}

impl SignedDelivery {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Signature` value.
    pub fn signature(&self) -> Option<&str> {
        self.header("Signature")
    }

    /// The same delivery with `Signature` set to `value`.
    pub fn with_signature(mut self, value: &str) -> Self {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("signature"));
        self.headers
            .push(("Signature".to_owned(), value.to_owned()));
        self
    }

    /// Without any `Signature` header.
    pub fn without_signature(mut self) -> Self {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("signature"));
        self
    }

    /// `Signature: sha256 ` (the algorithm, no digest).
    pub fn empty_signature(self) -> Self {
        self.with_signature("sha256 ")
    }

    /// The digest cut to 63 hex digits.
    pub fn truncated_signature(self) -> Self {
        let sig = self.signature().unwrap_or_default().to_owned();
        let cut = &sig[..sig.len().saturating_sub(1)];
        let cut = cut.to_owned();
        self.with_signature(&cut)
    }

    /// The digest in upper-case hex (Greenhouse sends lower case).
    pub fn uppercase_signature(self) -> Self {
        let sig = self.signature().unwrap_or_default();
        let up = match sig.split_once(' ') {
            Some((alg, hex)) => format!("{alg} {}", hex.to_ascii_uppercase()),
            None => sig.to_ascii_uppercase(),
        };
        self.with_signature(&up)
    }

    /// The digest alone, without `sha256 `.
    pub fn without_prefix(self) -> Self {
        let sig = self.signature().unwrap_or_default();
        let hex = sig.split_once(' ').map_or(sig, |(_, h)| h).to_owned();
        self.with_signature(&hex)
    }

    /// The digest behind another algorithm name (`"sha1 "`, `"sha256="`).
    pub fn with_prefix(self, prefix: &str) -> Self {
        let sig = self.signature().unwrap_or_default();
        let hex = sig.split_once(' ').map_or(sig, |(_, h)| h);
        let value = format!("{prefix}{hex}");
        self.with_signature(&value)
    }

    /// The body changed after signing (a field added), signature kept.
    pub fn tampered(mut self) -> Self {
        if self.body.last() == Some(&b'}') {
            self.body.pop();
            self.body.extend_from_slice(br#","tampered":true}"#);
        } else {
            self.body.push(b' ');
        }
        self
    }

    /// The same JSON value with whitespace added: equal when parsed, not
    /// byte for byte, so a verifier that re-serializes would wrongly accept it.
    pub fn reformatted(mut self) -> Self {
        if self.body.first() == Some(&b'{') {
            self.body.splice(0..1, b"{ ".iter().copied());
        }
        self
    }

    /// POST it to `url`; the answer's status.
    pub async fn send(&self, url: &str) -> Result<u16, WebhookSendError> {
        send(url, self).await
    }
}

/// POST a delivery to `url` exactly as signed; the answer's status.
pub async fn send(url: &str, delivery: &SignedDelivery) -> Result<u16, WebhookSendError> {
    post(url, &delivery.headers, &delivery.body).await
}
