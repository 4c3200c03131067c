//! Greenhouse's webhooks (Greenhouse's "Web Hooks" documentation): the
//! `Signature: sha256 <hex>` header is the HMAC-SHA256 of the entire raw body
//! under the webhook's secret key, checked on the bytes as received (Greenhouse
//! escapes unicode before signing, so re-serialized JSON would not match);
//! `Greenhouse-Event-ID` is unique per delivery. The body is
//! `{"action": "...", "payload": {...}}`; ids are JSON integers.
//!
//! Where the ids are, per action (Greenhouse's examples): `job_created`,
//! `job_updated`, `job_deleted` at `payload.job.id`; `job_post_created` and
//! `job_post_updated` flat (`payload.id`, `payload.job_id`), `job_post_deleted`
//! nested (`payload.job_post.id`, `.job_id`); application events at
//! `payload.application.id`, with `.status` and `.current_stage.name` where
//! the example has them (`hire_candidate` has neither). The ping's body is not
//! documented: any action we do not know is acknowledged and changes nothing.

use serde_json::Value;

use super::signature::{decode_lower_hex, matches_any};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "signature";
/// The header carrying the delivery's unique id.
pub const EVENT_ID_HEADER: &str = "greenhouse-event-id";

/// Why a delivery was refused before anything else was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Signature` header.
    MissingSignature,
    /// Not `sha256 ` followed by 64 lower-case hex digits.
    MalformedSignature,
    /// Well formed, but no secret of the integration made it.
    BadSignature,
}

impl Refusal {
    /// A short, secret-free reason for the activity row.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::MissingSignature => "no signature header",
            Refusal::MalformedSignature => "malformed signature",
            Refusal::BadSignature => "signature does not match",
        }
    }
}

/// Checks the `Signature` header over the raw `body` with each of `secrets`.
pub fn verify(body: &[u8], signature: Option<&[u8]>, secrets: &[&[u8]]) -> Result<(), Refusal> {
    let header = signature.ok_or(Refusal::MissingSignature)?;
    let hex = header
        .strip_prefix(b"sha256 ")
        .ok_or(Refusal::MalformedSignature)?;
    let signature = decode_lower_hex(hex).ok_or(Refusal::MalformedSignature)?;
    if matches_any(&signature, &[body], secrets) {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

/// What an application event says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplicationChange {
    /// `new_candidate_application`.
    Created,
    /// `candidate_stage_change`.
    StageChanged,
    /// `hire_candidate`.
    Hired,
    /// `reject_candidate`.
    Rejected,
    /// `unreject_candidate`.
    Unrejected,
}

/// A verified delivery, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GreenhouseEvent {
    /// `job_created`, `job_updated`: the job to read again.
    JobChanged { job_id: String },
    /// `job_deleted`.
    JobDeleted { job_id: String },
    /// `job_post_created`, `job_post_updated`: its job to read again (a
    /// prospect post has none).
    JobPostChanged {
        post_id: String,
        job_id: Option<String>,
    },
    /// `job_post_deleted`.
    JobPostDeleted {
        post_id: String,
        job_id: Option<String>,
    },
    /// An application's status or stage changed.
    Application {
        change: ApplicationChange,
        application_id: String,
        /// `active`, `rejected`, `hired`, where the payload has it.
        status: Option<String>,
        /// The current stage's name, where the payload has it.
        stage: Option<String>,
    },
    /// The ping, or an action we do not act on.
    Other,
}

/// Why a verified body could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("body is not a JSON object with an action")]
    NotAnEvent,
    #[error("{0} carries no {1}")]
    MissingId(&'static str, &'static str),
}

/// An id given as a JSON integer (or, leniently, a non-empty string).
fn id_at(value: &Value, path: &[&str]) -> Option<String> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    match at {
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::String(s) if !s.is_empty() && s.len() <= 128 => Some(s.clone()),
        _ => None,
    }
}

fn text_at(value: &Value, path: &[&str]) -> Option<String> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().map(|s| s.chars().take(512).collect())
}

/// Reads a verified body: its action and what it means.
pub fn parse(body: &[u8]) -> Result<(String, GreenhouseEvent), ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ParseError::NotAnEvent)?;
    let action = value
        .get("action")
        .and_then(Value::as_str)
        .ok_or(ParseError::NotAnEvent)?
        .chars()
        .take(128)
        .collect::<String>();
    let payload = value.get("payload").cloned().unwrap_or(Value::Null);
    let need = |id: Option<String>, what: &'static str| {
        id.ok_or(ParseError::MissingId(static_action(&action), what))
    };
    let event = match action.as_str() {
        "job_created" | "job_updated" => GreenhouseEvent::JobChanged {
            job_id: need(id_at(&payload, &["job", "id"]), "job id")?,
        },
        "job_deleted" => GreenhouseEvent::JobDeleted {
            job_id: need(id_at(&payload, &["job", "id"]), "job id")?,
        },
        "job_post_created" | "job_post_updated" => GreenhouseEvent::JobPostChanged {
            post_id: need(id_at(&payload, &["id"]), "job post id")?,
            job_id: id_at(&payload, &["job_id"]),
        },
        "job_post_deleted" => GreenhouseEvent::JobPostDeleted {
            post_id: need(id_at(&payload, &["job_post", "id"]), "job post id")?,
            job_id: id_at(&payload, &["job_post", "job_id"]),
        },
        "new_candidate_application"
        | "candidate_stage_change"
        | "hire_candidate"
        | "reject_candidate"
        | "unreject_candidate" => {
            let change = match action.as_str() {
                "new_candidate_application" => ApplicationChange::Created,
                "candidate_stage_change" => ApplicationChange::StageChanged,
                "hire_candidate" => ApplicationChange::Hired,
                "reject_candidate" => ApplicationChange::Rejected,
                _ => ApplicationChange::Unrejected,
            };
            GreenhouseEvent::Application {
                change,
                application_id: need(id_at(&payload, &["application", "id"]), "application id")?,
                status: text_at(&payload, &["application", "status"]),
                stage: text_at(&payload, &["application", "current_stage", "name"]),
            }
        }
        _ => GreenhouseEvent::Other,
    };
    Ok((action, event))
}

/// The action as a static name for error messages (a caller-chosen action
/// never becomes one).
fn static_action(action: &str) -> &'static str {
    match action {
        "job_created" => "job_created",
        "job_updated" => "job_updated",
        "job_deleted" => "job_deleted",
        "job_post_created" => "job_post_created",
        "job_post_updated" => "job_post_updated",
        "job_post_deleted" => "job_post_deleted",
        "new_candidate_application" => "new_candidate_application",
        "candidate_stage_change" => "candidate_stage_change",
        "hire_candidate" => "hire_candidate",
        "reject_candidate" => "reject_candidate",
        "unreject_candidate" => "unreject_candidate",
        _ => "event",
    }
}

#[cfg(test)]
mod tests {
    use super::super::signature::sign_hex;
    use super::*;

    fn header(secret: &[u8], body: &[u8]) -> Vec<u8> {
        format!("sha256 {}", sign_hex(secret, &[body])).into_bytes()
    }

    #[test]
    fn the_signature_covers_the_raw_body() {
        let body =
            br#"{"action":"job_updated","payload":{"job":{"id":12,"name":"\u003cb\u003e"}}}"#;
        let good = header(b"s3cret", body);
        assert_eq!(verify(body, Some(&good), &[b"s3cret"]), Ok(()));
        assert_eq!(
            verify(body, Some(&good), &[b"old", b"s3cret"]),
            Ok(()),
            "the previous secret during the grace period"
        );
        let mut tampered = body.to_vec();
        tampered[30] ^= 1;
        assert_eq!(
            verify(&tampered, Some(&good), &[b"s3cret"]),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(body, Some(&good), &[b"wrong"]),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(body, None, &[b"s3cret"]),
            Err(Refusal::MissingSignature)
        );
        for bad in [
            b"sha256 ".to_vec(),
            good[..good.len() - 1].to_vec(),
            good[..20].to_vec(),
            String::from_utf8(good.clone())
                .unwrap()
                .to_uppercase()
                .into_bytes(),
            format!("sha256 {}", "A".repeat(64)).into_bytes(),
            good[7..].to_vec(),
            [b"sha256  ".as_slice(), &good[7..]].concat(),
            [b"sha1 ".as_slice(), &good[7..]].concat(),
        ] {
            assert_eq!(
                verify(body, Some(&bad), &[b"s3cret"]),
                Err(Refusal::MalformedSignature),
                "{}",
                String::from_utf8_lossy(&bad)
            );
        }
    }

    #[test]
    fn actions_are_read_where_greenhouse_puts_their_ids() {
        let read = |json: &str| parse(json.as_bytes()).unwrap().1;
        assert_eq!(
            read(r#"{"action":"job_created","payload":{"job":{"id":101}}}"#),
            GreenhouseEvent::JobChanged {
                job_id: "101".into()
            }
        );
        assert_eq!(
            read(r#"{"action":"job_post_updated","payload":{"id":7,"job_id":101}}"#),
            GreenhouseEvent::JobPostChanged {
                post_id: "7".into(),
                job_id: Some("101".into())
            }
        );
        assert_eq!(
            read(r#"{"action":"job_post_deleted","payload":{"job_post":{"id":7}}}"#),
            GreenhouseEvent::JobPostDeleted {
                post_id: "7".into(),
                job_id: None
            }
        );
        assert_eq!(
            read(
                r#"{"action":"candidate_stage_change","payload":{"application":{"id":55,"status":"active","current_stage":{"id":3,"name":"Phone screen"}}}}"#
            ),
            GreenhouseEvent::Application {
                change: ApplicationChange::StageChanged,
                application_id: "55".into(),
                status: Some("active".into()),
                stage: Some("Phone screen".into()),
            }
        );
        assert_eq!(
            read(r#"{"action":"ping","payload":{}}"#),
            GreenhouseEvent::Other
        );
        assert!(matches!(
            parse(br#"{"action":"job_deleted","payload":{}}"#),
            Err(ParseError::MissingId("job_deleted", _))
        ));
        assert_eq!(parse(b"[1,2]"), Err(ParseError::NotAnEvent));
    }
}
