//! Greenhouse's jobs mapped: a job of `GET /v3/jobs` with its job post of
//! `GET /v3/job_posts` (by `job_ids`). The v3 objects could not be read in
//! Greenhouse's reference; the fields read here are those of the job in the
//! documented `job_created` webhook payload and of Harvest v1's documented
//! job post, which the sandbox serves too (`docs/providers/greenhouse.md`).
//!
//! - title: the post's `title`, else the job's `name`;
//! - description: the post's `content` (HTML);
//! - department: the first of `departments[].name`;
//! - location: the post's `location.name`, else the first office's
//!   `location.name` or `name`; remote when the post's
//!   `location.job_post_location_type.name` or the location says so;
//! - employment type and salary: the tenant-defined custom fields
//!   `employment_type` and `salary_range` (`{value}` or the value itself;
//!   a currency range is `{unit, min_value, max_value}`);
//! - status: the job's `status` (`open`, `closed`, `draft`);
//! - questions: the post's `questions[] {required, private, label, name,
//!   type, values[] {value, label}}` (Harvest's vocabulary), private ones left out.

use serde_json::Value;

use super::job::{
    clip, id_text, number_of, says_remote, text_of, AtsJob, AtsQuestion, AtsSalary, MapError,
    QuestionKind, SHORT_FIELD,
};
use crate::vocab::{JobPostStatus, WorkplaceType};

/// Longest description kept, in bytes of HTML.
const MAX_DESCRIPTION: usize = 256 * 1024;

fn custom_value<'a>(job: &'a Value, name: &str) -> Option<&'a Value> {
    let field = job.get("custom_fields")?.get(name)?;
    match field {
        Value::Object(map) if map.contains_key("value") => map.get("value"),
        other => Some(other),
    }
}

fn question_kind(kind: &str) -> QuestionKind {
    match kind {
        "long_text" | "textarea" => QuestionKind::LongText,
        "boolean" => QuestionKind::Boolean,
        "single_select" | "multi_value_single_select" => QuestionKind::SingleSelect,
        "multi_select" | "multi_value_multi_select" => QuestionKind::MultiSelect,
        "attachment" | "input_file" => QuestionKind::File,
        _ => QuestionKind::ShortText,
    }
}

fn questions(post: &Value) -> Vec<AtsQuestion> {
    let Some(list) = post.get("questions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .take(200)
        .filter(|q| !q.get("private").and_then(Value::as_bool).unwrap_or(false))
        .filter_map(|q| {
            let id = text_of(q.get("name"), 128);
            if id.is_empty() {
                return None;
            }
            let options = q
                .get("values")
                .and_then(Value::as_array)
                .map(|values| {
                    values
                        .iter()
                        .take(200)
                        .filter_map(|v| match v {
                            Value::Object(o) => o
                                .get("label")
                                .and_then(Value::as_str)
                                .map(|s| clip(s, SHORT_FIELD)),
                            Value::String(s) => Some(clip(s, SHORT_FIELD)),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(AtsQuestion {
                id,
                label: text_of(q.get("label"), SHORT_FIELD),
                required: q.get("required").and_then(Value::as_bool).unwrap_or(false),
                kind: question_kind(q.get("type").and_then(Value::as_str).unwrap_or("")),
                options,
            })
        })
        .collect()
}

/// Maps a job and its post (if it has one).
pub fn map_job(job: &Value, post: Option<&Value>) -> Result<AtsJob, MapError> {
    if !job.is_object() {
        return Err(MapError::NotAnObject);
    }
    let ats_id = id_text(job.get("id")).ok_or(MapError::Missing("id"))?;
    let post = post.filter(|p| p.is_object());
    let title = post
        .map(|p| text_of(p.get("title"), 1024))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| text_of(job.get("name"), 1024));
    if title.trim().is_empty() {
        return Err(MapError::Missing("name"));
    }
    let first = |key: &str| {
        job.get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
    };
    let department = text_of(
        first("departments").and_then(|d| d.get("name")),
        SHORT_FIELD,
    );
    let office = first("offices");
    let location = post
        .map(|p| text_of(p.get("location").and_then(|l| l.get("name")), SHORT_FIELD))
        .filter(|l| !l.is_empty())
        .or_else(|| {
            office.map(|o| {
                let at = text_of(o.get("location").and_then(|l| l.get("name")), SHORT_FIELD);
                if at.is_empty() {
                    text_of(o.get("name"), SHORT_FIELD)
                } else {
                    at
                }
            })
        })
        .unwrap_or_default();
    let location_type = post
        .and_then(|p| p.get("location"))
        .and_then(|l| l.get("job_post_location_type"))
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let workplace = if location_type.contains("hybrid") {
        WorkplaceType::Hybrid
    } else if location_type.contains("remote") || says_remote(&location) {
        WorkplaceType::Remote
    } else if location_type.contains("office") || location_type.contains("site") {
        WorkplaceType::OnSite
    } else {
        WorkplaceType::Unspecified
    };
    let employment_type = match custom_value(job, "employment_type") {
        Some(Value::String(s)) => clip(s, 128),
        _ => String::new(),
    };
    let salary = custom_value(job, "salary_range").and_then(|range| {
        let min = number_of(range.get("min_value"));
        let max = number_of(range.get("max_value"));
        (min.is_some() || max.is_some()).then(|| AtsSalary {
            min,
            max,
            currency: text_of(range.get("unit"), 8),
            interval: String::new(),
        })
    });
    let status = match job.get("status").and_then(Value::as_str) {
        Some("closed") => JobPostStatus::Closed,
        Some("draft") => JobPostStatus::Draft,
        _ => JobPostStatus::Open,
    };
    let mut description_html = post
        .and_then(|p| p.get("content"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if description_html.len() > MAX_DESCRIPTION {
        let mut cut = MAX_DESCRIPTION;
        while !description_html.is_char_boundary(cut) {
            cut -= 1;
        }
        description_html.truncate(cut);
    }
    let url = post
        .map(|p| text_of(p.get("absolute_url"), 2048))
        .unwrap_or_default();
    Ok(AtsJob {
        ats_id,
        title,
        description_html,
        department,
        location,
        workplace,
        employment_type,
        salary,
        status,
        closes_at: None,
        url,
        questions: post.map(questions).unwrap_or_default(),
        raw: serde_json::json!({ "job": job, "job_post": post }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_and_its_post_map_field_by_field() {
        let job = serde_json::json!({
            "id": 4001, "name": "Backend engineer (internal name)", "status": "open",
            "departments": [{"id": 1, "name": "Engineering"}],
            "offices": [{"id": 2, "name": "Nairobi", "location": {"name": "Nairobi, Kenya"}}],
            "custom_fields": {
                "employment_type": {"name": "Time type", "type": "single_select", "value": "Full-time"},
                "salary_range": {"name": "Salary", "type": "currency_range",
                                 "value": {"unit": "KES", "min_value": "100000.0", "max_value": 200000}}
            }
        });
        let post = serde_json::json!({
            "id": 9, "job_id": 4001, "title": "Backend engineer", "content": "<p>Build <b>APIs</b></p>",
            "location": {"name": "Remote (Africa)", "job_post_location_type": {"id": 1, "name": "Remote"}},
            "questions": [
                {"required": true, "private": false, "label": "Why us?", "name": "question_1", "type": "long_text", "values": []},
                {"required": false, "private": true, "label": "Internal", "name": "question_2", "type": "short_text"},
                {"required": true, "label": "Visa?", "name": "question_3", "type": "single_select",
                 "values": [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}]}
            ]
        });
        let mapped = map_job(&job, Some(&post)).unwrap();
        assert_eq!(mapped.ats_id, "4001");
        assert_eq!(mapped.title, "Backend engineer");
        assert_eq!(mapped.department, "Engineering");
        assert_eq!(mapped.location, "Remote (Africa)");
        assert_eq!(mapped.workplace, WorkplaceType::Remote);
        assert_eq!(mapped.employment_type, "Full-time");
        let salary = mapped.salary.unwrap();
        assert_eq!((salary.min, salary.max), (Some(100000.0), Some(200000.0)));
        assert_eq!(salary.currency, "KES");
        assert_eq!(mapped.status, JobPostStatus::Open);
        assert_eq!(mapped.questions.len(), 2, "the private one is left out");
        assert_eq!(mapped.questions[1].options, vec!["No", "Yes"]);
        assert_eq!(mapped.questions[1].kind, QuestionKind::SingleSelect);
        // a job without a post falls back to its name and office
        let bare = map_job(&job, None).unwrap();
        assert_eq!(bare.title, "Backend engineer (internal name)");
        assert_eq!(bare.location, "Nairobi, Kenya");
        assert_eq!(bare.workplace, WorkplaceType::Unspecified);
    }

    #[test]
    fn a_bad_record_is_an_error_not_a_panic() {
        assert_eq!(
            map_job(&serde_json::json!([1]), None),
            Err(MapError::NotAnObject)
        );
        assert_eq!(
            map_job(&serde_json::json!({"name": "x"}), None),
            Err(MapError::Missing("id"))
        );
        assert_eq!(
            map_job(&serde_json::json!({"id": 1, "name": "  "}), None),
            Err(MapError::Missing("name"))
        );
        let odd = serde_json::json!({"id": 1, "name": "x", "departments": "no", "offices": [7],
            "custom_fields": {"salary_range": {"value": {"min_value": "NaN"}}}, "status": 5});
        let mapped = map_job(
            &odd,
            Some(&serde_json::json!({"questions": [{"name": 1}], "location": 3})),
        )
        .unwrap();
        assert!(mapped.salary.is_none());
        assert!(mapped.questions.is_empty());
    }
}
