//! Greenhouse job posts: the record and its Harvest JSON view (Harvest
//! v1's documented job post object, with its `questions`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::data::{ts, Ts};

/// The type of a Harvest job post question (Harvest vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// One line of text.
    ShortText,
    /// A paragraph.
    LongText,
    /// A file (resume, cover letter or a custom file question).
    Attachment,
    /// Yes (1) / No (0).
    Boolean,
    /// One of `values`.
    SingleSelect,
    /// Any of `values` (its `name` ends in `[]`).
    MultiSelect,
}

/// An answer option of a select question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionValue {
    /// The value to submit.
    pub value: u64,
    /// What the applicant sees.
    pub label: String,
}

/// A job post question (Harvest shape `{required, private, label, name,
/// type, values, description}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Whether the post requires it (Greenhouse does not enforce it on apply).
    pub required: bool,
    /// Hidden from the candidate's profile.
    pub private: bool,
    /// Label.
    pub label: String,
    /// The Job Board apply parameter (`first_name`, `resume`, `question_123`, `question_456[]`).
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// Options of select and boolean questions.
    pub values: Vec<QuestionValue>,
    /// Help text (HTML).
    pub description: Option<String>,
}

/// A job post's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostLocation {
    /// Location id.
    pub id: u64,
    /// Free text (`"Remote"` for remote posts in generated data).
    pub name: String,
    /// The office it is tied to.
    pub office_id: Option<u64>,
}

impl Serialize for PostLocation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct LocationType {
            id: u64,
            name: &'static str,
        }
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("office_id", &self.office_id)?;
        m.serialize_entry("job_post_custom_location_id", &None::<u64>)?;
        let kind = LocationType {
            id: 1,
            name: "Free Text",
        };
        m.serialize_entry("job_post_location_type", &kind)?;
        m.end()
    }
}

/// A job post (Harvest v1's documented job post object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPost {
    /// Job post id (the Job Board API's `id`, used to apply).
    pub id: u64,
    /// Title shown to candidates.
    pub title: String,
    /// Location.
    pub location: PostLocation,
    /// Posted on the internal board.
    pub internal: bool,
    /// Posted on the external board.
    pub external: bool,
    /// `false`: deleted.
    pub active: bool,
    /// Published.
    pub live: bool,
    /// First time it went live.
    pub first_published_at: Option<DateTime<Utc>>,
    /// The job (`None`: a prospect post).
    pub job_id: Option<u64>,
    /// The description (HTML, not escaped).
    pub content: String,
    /// The internal board's description, if different.
    pub internal_content: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Application questions (shared with other posts).
    pub questions: Arc<[Question]>,
}

impl Serialize for JobPost {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(16))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("title", &self.title)?;
        m.serialize_entry("location", &self.location)?;
        m.serialize_entry("internal", &self.internal)?;
        m.serialize_entry("external", &self.external)?;
        m.serialize_entry("active", &self.active)?;
        m.serialize_entry("live", &self.live)?;
        m.serialize_entry("first_published_at", &ts(self.first_published_at))?;
        m.serialize_entry("job_id", &self.job_id)?;
        m.serialize_entry("content", &self.content)?;
        m.serialize_entry("internal_content", &self.internal_content)?;
        m.serialize_entry("updated_at", &Ts(self.updated_at))?;
        m.serialize_entry("created_at", &Ts(self.created_at))?;
        m.serialize_entry("demographic_question_set_id", &None::<u64>)?;
        m.serialize_entry("questions", &*self.questions)?;
        m.end()
    }
}
