//! Lever's postings mapped (`GET /v1/postings`). Lever's reference could not
//! be read; the posting shape is a third-party SDK's, whose doc comments copy
//! Lever's, and agrees with the public Postings API that Lever documents
//! (`docs/providers/lever.md`):
//!
//! - title: `text`; description: `content.descriptionHtml`, each of
//!   `content.lists[] {text, content}` as a heading and its list, and
//!   `content.closingHtml`;
//! - department: `categories.department`, else `categories.team`;
//!   location: `categories.location`; employment type: `categories.commitment`;
//! - workplace: `workplaceType` (`on-site`, `remote`, `hybrid`, `unspecified`);
//! - salary: `salaryRange {min, max, currency, interval}`;
//! - status: `state` — `published` is open, `closed` closed, `internal`,
//!   `draft` and `pending` are not public here (draft);
//! - URL: `urls.show`. Lever keeps application questions on the posting's
//!   form, not the posting: they are read when a candidate applies.

use serde_json::Value;

use super::job::{
    id_text, number_of, says_remote, text_of, AtsJob, AtsSalary, MapError, SHORT_FIELD,
};
use crate::vocab::{JobPostStatus, WorkplaceType};

fn description(content: Option<&Value>) -> String {
    let Some(content) = content else {
        return String::new();
    };
    let mut html = text_of(content.get("descriptionHtml"), 128 * 1024);
    if let Some(lists) = content.get("lists").and_then(Value::as_array) {
        for list in lists.iter().take(50) {
            let heading = text_of(list.get("text"), SHORT_FIELD);
            let items = text_of(list.get("content"), 64 * 1024);
            if !heading.is_empty() {
                html.push_str("<h3>");
                html.push_str(&html_escape_text(&heading));
                html.push_str("</h3>");
            }
            if !items.is_empty() {
                html.push_str("<ul>");
                html.push_str(&items);
                html.push_str("</ul>");
            }
        }
    }
    html.push_str(&text_of(content.get("closingHtml"), 64 * 1024));
    html
}

/// A list heading is text, not HTML.
fn html_escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Maps one posting.
pub fn map_posting(posting: &Value) -> Result<AtsJob, MapError> {
    if !posting.is_object() {
        return Err(MapError::NotAnObject);
    }
    let ats_id = id_text(posting.get("id")).ok_or(MapError::Missing("id"))?;
    let title = text_of(posting.get("text"), 1024);
    if title.trim().is_empty() {
        return Err(MapError::Missing("text"));
    }
    let categories = posting.get("categories");
    let category = |key: &str| text_of(categories.and_then(|c| c.get(key)), SHORT_FIELD);
    let department = Some(category("department"))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| category("team"));
    let location = category("location");
    let workplace = match posting.get("workplaceType").and_then(Value::as_str) {
        Some("remote") => WorkplaceType::Remote,
        Some("hybrid") => WorkplaceType::Hybrid,
        Some("on-site") => WorkplaceType::OnSite,
        _ if says_remote(&location) => WorkplaceType::Remote,
        _ => WorkplaceType::Unspecified,
    };
    let salary = posting.get("salaryRange").and_then(|range| {
        let min = number_of(range.get("min"));
        let max = number_of(range.get("max"));
        (min.is_some() || max.is_some()).then(|| AtsSalary {
            min,
            max,
            currency: text_of(range.get("currency"), 8),
            interval: text_of(range.get("interval"), 64),
        })
    });
    let status = match posting.get("state").and_then(Value::as_str) {
        Some("published") => JobPostStatus::Open,
        Some("closed") => JobPostStatus::Closed,
        _ => JobPostStatus::Draft,
    };
    Ok(AtsJob {
        ats_id,
        title,
        description_html: description(posting.get("content")),
        department,
        location,
        workplace,
        employment_type: category("commitment"),
        salary,
        status,
        closes_at: None,
        url: text_of(posting.get("urls").and_then(|u| u.get("show")), 2048),
        questions: Vec::new(),
        raw: posting.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posting_maps_field_by_field() {
        let posting = serde_json::json!({
            "id": "6f8c-1", "text": "Data analyst", "state": "published",
            "categories": {"team": "Data", "location": "Nairobi", "commitment": "Full-time"},
            "content": {"descriptionHtml": "<p>Numbers</p>",
                        "lists": [{"text": "You <will>", "content": "<li>SQL</li>"}],
                        "closingHtml": "<p>Apply</p>"},
            "workplaceType": "hybrid",
            "salaryRange": {"min": 50000, "max": 70000, "currency": "USD", "interval": "per-year-salary"},
            "urls": {"show": "https://jobs.lever.co/acme/6f8c-1"}
        });
        let mapped = map_posting(&posting).unwrap();
        assert_eq!(mapped.ats_id, "6f8c-1");
        assert_eq!(mapped.department, "Data");
        assert_eq!(mapped.workplace, WorkplaceType::Hybrid);
        assert_eq!(mapped.employment_type, "Full-time");
        assert_eq!(
            mapped.description_html,
            "<p>Numbers</p><h3>You &lt;will&gt;</h3><ul><li>SQL</li></ul><p>Apply</p>"
        );
        assert_eq!(mapped.salary.unwrap().interval, "per-year-salary");
        assert_eq!(mapped.url, "https://jobs.lever.co/acme/6f8c-1");
        let closed =
            map_posting(&serde_json::json!({"id": "x", "text": "t", "state": "closed"})).unwrap();
        assert_eq!(closed.status, JobPostStatus::Closed);
        assert_eq!(
            map_posting(&serde_json::json!({"id": "x"})),
            Err(MapError::Missing("text"))
        );
    }
}
