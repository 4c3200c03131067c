//! A job as every ATS provider hands it to the domain: mapped from the
//! provider's JSON, its description still the provider's HTML (the domain
//! sanitizes it), the JSON itself kept as remote data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::vocab::{JobPostStatus, WorkplaceType};

/// A salary range as the provider gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AtsSalary {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub currency: String,
    pub interval: String,
}

/// The kind of answer a question takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    ShortText,
    LongText,
    SingleSelect,
    MultiSelect,
    Boolean,
    File,
}

/// A question of a job's application form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtsQuestion {
    /// The provider's name of the field the answer goes in.
    pub id: String,
    pub label: String,
    pub required: bool,
    pub kind: QuestionKind,
    pub options: Vec<String>,
}

/// One job, mapped.
#[derive(Clone, Debug, PartialEq)]
pub struct AtsJob {
    /// The provider's id of the job.
    pub ats_id: String,
    pub title: String,
    /// The provider's HTML, unsanitized.
    pub description_html: String,
    pub department: String,
    pub location: String,
    pub workplace: WorkplaceType,
    pub employment_type: String,
    pub salary: Option<AtsSalary>,
    pub status: JobPostStatus,
    pub closes_at: Option<DateTime<Utc>>,
    /// The job's public page, when the provider gives one.
    pub url: String,
    pub questions: Vec<AtsQuestion>,
    /// The provider's JSON of the job.
    pub raw: serde_json::Value,
}

/// Why a record could not be mapped (logged with its id, then skipped).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("record is not an object")]
    NotAnObject,
    #[error("record has no {0}")]
    Missing(&'static str),
}

/// Longest text kept of a short field (titles, names), in characters.
pub const SHORT_FIELD: usize = 512;

/// `text` cut to `max` characters.
pub fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A JSON id (integer or non-empty string) as text.
pub fn id_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() && s.len() <= 128 => Some(s.clone()),
        _ => None,
    }
}

/// A string field, clipped; absent or not a string: empty.
pub fn text_of(value: Option<&serde_json::Value>, max: usize) -> String {
    value
        .and_then(serde_json::Value::as_str)
        .map(|s| clip(s, max))
        .unwrap_or_default()
}

/// A number given as a JSON number or a numeric string.
pub fn number_of(value: Option<&serde_json::Value>) -> Option<f64> {
    match value? {
        serde_json::Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Whether a location's text says the work is remote.
pub fn says_remote(location: &str) -> bool {
    location.to_ascii_lowercase().contains("remote")
}
