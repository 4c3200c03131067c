//! Greenhouse jobs: the record, its Harvest JSON view, and the store jobs
//! and job posts ([`super::posts`]) live in.
//!
//! Records are typed; heavy parts every job shares (departments, offices,
//! hiring team, a post's questions) are `Arc`s taken from small pools, so
//! 100,000 jobs with their posts hold little besides the post content. A
//! page is written straight from the records with serde (no `Value` tree).
//! The generator is in [`super::generate`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::posts::JobPost;

/// A UTC instant written as Greenhouse writes timestamps (`2013-12-10T14:42:58Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts(pub DateTime<Utc>);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m-%dT%H:%M:%SZ"))
    }
}

/// `Ts` for an optional instant (`null` when absent).
pub(crate) fn ts(t: Option<DateTime<Utc>>) -> Option<Ts> {
    t.map(Ts)
}

/// `open`, `closed` or `draft` (documented values of a job's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Accepting applications.
    Open,
    /// Closed.
    Closed,
    /// Not opened yet.
    Draft,
}

impl JobStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Open => "open",
            JobStatus::Closed => "closed",
            JobStatus::Draft => "draft",
        }
    }

    /// Parse a wire value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(JobStatus::Open),
            "closed" => Some(JobStatus::Closed),
            "draft" => Some(JobStatus::Draft),
            _ => None,
        }
    }
}

/// A department (Harvest shape: `{id, name, parent_id, child_ids, external_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Department {
    /// Department id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The parent department, if nested.
    pub parent_id: Option<u64>,
    /// Sub-departments.
    pub child_ids: Vec<u64>,
    /// The customer's own id for it.
    pub external_id: Option<String>,
}

/// An office (Harvest shape; `location` is `{name}` there and a string in
/// webhooks and the Job Board API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Office {
    /// Office id.
    pub id: u64,
    /// Its name (`"Remote"` for remote jobs in generated data).
    pub name: String,
    /// Its location's name, if set.
    pub location: Option<String>,
    /// The parent office, if nested.
    pub parent_id: Option<u64>,
    /// Sub-offices.
    pub child_ids: Vec<u64>,
    /// The customer's own id for it.
    pub external_id: Option<String>,
}

impl Serialize for Office {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("name", &self.name)?;
        let location = self.location.as_ref().map(|name| Named { name });
        m.serialize_entry("location", &location)?;
        m.serialize_entry("primary_contact_user_id", &None::<u64>)?;
        m.serialize_entry("parent_id", &self.parent_id)?;
        m.serialize_entry("child_ids", &self.child_ids)?;
        m.serialize_entry("external_id", &self.external_id)?;
        m.end()
    }
}

#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
}

/// A member of a job's hiring team (Harvest shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HiringMember {
    /// Greenhouse user id (`user_id` in webhooks).
    pub id: u64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Full name.
    pub name: String,
    /// The customer's employee id.
    pub employee_id: Option<String>,
    /// Responsible recruiter/coordinator flag (absent for the other roles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible: Option<bool>,
}

/// A job's hiring team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct HiringTeam {
    /// Hiring managers.
    pub hiring_managers: Vec<HiringMember>,
    /// Recruiters.
    pub recruiters: Vec<HiringMember>,
    /// Coordinators.
    pub coordinators: Vec<HiringMember>,
    /// Sourcers.
    pub sourcers: Vec<HiringMember>,
}

/// One opening of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// Opening id.
    pub id: u64,
    /// The customer's identifier, may be null.
    pub opening_id: Option<String>,
    /// Whether it is still open.
    pub open: bool,
    /// When it was opened.
    pub opened_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The hired application that filled it.
    pub application_id: Option<u64>,
}

impl Serialize for Opening {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("opening_id", &self.opening_id)?;
        m.serialize_entry("status", if self.open { "open" } else { "closed" })?;
        m.serialize_entry("opened_at", &ts(self.opened_at))?;
        m.serialize_entry("closed_at", &ts(self.closed_at))?;
        m.serialize_entry("application_id", &self.application_id)?;
        m.serialize_entry("close_reason", &None::<u64>)?;
        m.end()
    }
}

/// A `currency_range` custom field value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalaryRange {
    /// Lower bound.
    pub min_value: u64,
    /// Upper bound.
    pub max_value: u64,
    /// Currency (`"USD"`, `"EUR"`, `"KES"`).
    pub unit: String,
}

/// A job (Harvest's job object; see the module doc of [`super`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Job id (a JSON integer).
    pub id: u64,
    /// The job's name.
    pub name: String,
    /// The customer's requisition id.
    pub requisition_id: Option<String>,
    /// Internal notes (HTML).
    pub notes: Option<String>,
    /// Confidential job.
    pub confidential: bool,
    /// Open, closed or draft.
    pub status: JobStatus,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// When it was opened.
    pub opened_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change; list filters use it.
    pub updated_at: DateTime<Utc>,
    /// Departments (shared with other jobs).
    pub departments: Arc<[Department]>,
    /// Offices (shared with other jobs).
    pub offices: Arc<[Office]>,
    /// Hiring team (shared with other jobs).
    pub hiring_team: Arc<HiringTeam>,
    /// Openings.
    pub openings: Vec<Opening>,
    /// The `employment_type` single-select custom field, if set.
    pub employment_type: Option<String>,
    /// The `salary_range` currency-range custom field, if set.
    pub salary_range: Option<SalaryRange>,
}

/// `custom_fields` (`{key: value}`) or `keyed_custom_fields` (`{key: {name,
/// type, value}}`) of a job.
struct CustomFields<'a> {
    job: &'a Job,
    keyed: bool,
}

impl Serialize for CustomFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Keyed<'a, T: Serialize> {
            name: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            value: T,
        }
        let mut m = s.serialize_map(None)?;
        let job = self.job;
        if self.keyed {
            let et = job.employment_type.as_deref();
            m.serialize_entry(
                "employment_type",
                &Keyed {
                    name: "Employment Type",
                    kind: "single_select",
                    value: et,
                },
            )?;
            m.serialize_entry(
                "salary_range",
                &Keyed {
                    name: "Salary Range",
                    kind: "currency_range",
                    value: job.salary_range.as_ref(),
                },
            )?;
        } else {
            m.serialize_entry("employment_type", &job.employment_type)?;
            m.serialize_entry("salary_range", &job.salary_range)?;
        }
        m.end()
    }
}

impl Serialize for Job {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(18))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("requisition_id", &self.requisition_id)?;
        m.serialize_entry("notes", &self.notes)?;
        m.serialize_entry("confidential", &self.confidential)?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("created_at", &Ts(self.created_at))?;
        m.serialize_entry("opened_at", &ts(self.opened_at))?;
        m.serialize_entry("closed_at", &ts(self.closed_at))?;
        m.serialize_entry("updated_at", &Ts(self.updated_at))?;
        m.serialize_entry("is_template", &false)?;
        m.serialize_entry("copied_from_id", &None::<u64>)?;
        m.serialize_entry("departments", &*self.departments)?;
        m.serialize_entry("offices", &*self.offices)?;
        let plain = CustomFields {
            job: self,
            keyed: false,
        };
        m.serialize_entry("custom_fields", &plain)?;
        let keyed = CustomFields {
            job: self,
            keyed: true,
        };
        m.serialize_entry("keyed_custom_fields", &keyed)?;
        m.serialize_entry("hiring_team", &*self.hiring_team)?;
        m.serialize_entry("openings", &self.openings)?;
        m.end()
    }
}

/// Every job and job post, by id.
#[derive(Default)]
pub(crate) struct Store {
    pub(crate) jobs: BTreeMap<u64, Job>,
    pub(crate) posts: BTreeMap<u64, JobPost>,
    /// Index of the next generated job (see [`super::generate`]).
    pub(crate) next_index: u64,
    /// `content_bytes` of the last seed, for jobs added later.
    pub(crate) content_bytes: usize,
}

impl Store {
    /// The post of a job (its first active one).
    pub(crate) fn post_of(&self, job_id: u64) -> Option<&JobPost> {
        self.posts
            .values()
            .find(|p| p.job_id == Some(job_id) && p.active)
    }
}

/// A later `updated_at` than `previous`: now, or one second after it.
pub(crate) fn bump(previous: DateTime<Utc>) -> DateTime<Utc> {
    let now = Utc::now();
    let next = previous + chrono::Duration::seconds(1);
    // Whole seconds, as the wire format has no fraction.
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    now.max(next)
}
