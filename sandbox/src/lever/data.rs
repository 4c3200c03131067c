//! Lever postings: the record, its Data API view (`/v1/postings`) and its
//! Postings API view (`/v0/postings`), and the store.
//!
//! The v1 posting object is a third-party SDK's (doc comments copied from
//! Lever's reference), NOT verified: `{id, text, createdAt, updatedAt
//! (epoch ms), user, owner, hiringManager, confidentiality, state,
//! categories {team, department, location, allLocations, commitment,
//! level}, content {description, descriptionHtml, lists [{text, content}],
//! closing, closingHtml}, country, tags, distributionChannels, reqCode,
//! requisitionCodes, salaryDescription, salaryDescriptionHtml, salaryRange
//! {min, max, currency, interval}, urls {list, show, apply},
//! workplaceType}`. The v0 object is Lever's README's (verified).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{json, Value};

/// `state` of a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PostingState {
    /// On the public job site (the only state the Postings API shows).
    Published,
    /// Internal job site only.
    Internal,
    /// Closed.
    Closed,
    /// Not published yet.
    Draft,
    /// Waiting for approval.
    Pending,
}

impl PostingState {
    /// Parse a wire value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "published" => Some(PostingState::Published),
            "internal" => Some(PostingState::Internal),
            "closed" => Some(PostingState::Closed),
            "draft" => Some(PostingState::Draft),
            "pending" => Some(PostingState::Pending),
            _ => None,
        }
    }
}

/// `categories` of a posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Categories {
    /// Team.
    pub team: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Primary location (`"Remote"` for remote postings in generated data).
    pub location: Option<String>,
    /// Every location.
    pub all_locations: Vec<String>,
    /// Commitment: the employment type (`Full-time`, `Part-time`, `Contract`, `Internship`).
    pub commitment: Option<String>,
    /// Level.
    pub level: Option<String>,
}

/// One extra list of a posting (requirements, benefits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostingList {
    /// The list's title.
    pub text: String,
    /// Its `<li>` elements, unstyled HTML.
    pub content: String,
}

/// `salaryRange`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeverSalaryRange {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// ISO currency (`USD`, `EUR`, `KES`).
    pub currency: String,
    /// `per-year-salary`, `per-month-salary`, `per-hour-wage`, ...
    pub interval: String,
}

/// A posting.
#[derive(Debug, Clone, PartialEq)]
pub struct Posting {
    /// UUID string.
    pub id: String,
    /// The title.
    pub text: String,
    /// Creation, epoch milliseconds.
    pub created_at: i64,
    /// Last change, epoch milliseconds.
    pub updated_at: i64,
    /// Creator's user id.
    pub user: String,
    /// Owner's user id.
    pub owner: String,
    /// Hiring manager's user id.
    pub hiring_manager: Option<String>,
    /// `non-confidential` or `confidential`.
    pub confidentiality: String,
    /// State.
    pub state: PostingState,
    /// Categories.
    pub categories: Categories,
    /// The description's opening (HTML).
    pub opening_html: String,
    /// The description's body (HTML).
    pub body_html: String,
    /// Extra lists.
    pub lists: Vec<PostingList>,
    /// Closing content (HTML; `additional` in v0).
    pub closing_html: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// `public`, `internal`.
    pub distribution_channels: Vec<String>,
    /// Requisition code.
    pub req_code: Option<String>,
    /// Requisition codes.
    pub requisition_codes: Vec<String>,
    /// Salary description (HTML).
    pub salary_description_html: Option<String>,
    /// Salary range.
    pub salary_range: Option<LeverSalaryRange>,
    /// `unspecified`, `on-site`, `remote`, `hybrid`.
    pub workplace_type: String,
}

/// Text of HTML: tags dropped, the common entities decoded.
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .trim()
        .to_owned()
}

impl Posting {
    /// The `urls` of the hosted job site for `site`.
    fn urls(&self, site: &str) -> (String, String, String) {
        let show = format!("https://jobs.lever.co/{site}/{}", self.id);
        (
            format!("https://jobs.lever.co/{site}"),
            show.clone(),
            format!("{show}/apply"),
        )
    }

    /// The Data API object (`/v1/postings`).
    pub fn v1_json(&self, site: &str) -> Value {
        let (list, show, apply) = self.urls(site);
        let description_html = format!("{}{}", self.opening_html, self.body_html);
        json!({
            "id": self.id,
            "text": self.text,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "user": self.user,
            "owner": self.owner,
            "hiringManager": self.hiring_manager,
            "confidentiality": self.confidentiality,
            "state": self.state,
            "categories": self.categories,
            "content": {
                "description": plain(&description_html),
                "descriptionHtml": description_html,
                "lists": self.lists,
                "closing": plain(&self.closing_html),
                "closingHtml": self.closing_html,
            },
            "country": self.country,
            "tags": self.tags,
            "distributionChannels": self.distribution_channels,
            "reqCode": self.req_code,
            "requisitionCodes": self.requisition_codes,
            "salaryDescription": self.salary_description_html.as_deref().map(plain),
            "salaryDescriptionHtml": self.salary_description_html,
            "salaryRange": self.salary_range,
            "urls": {"list": list, "show": show, "apply": apply},
            "workplaceType": self.workplace_type,
        })
    }

    /// The Postings API object (`/v0/postings`, Lever's README).
    pub fn v0_json(&self, site: &str) -> Value {
        let (_, show, apply) = self.urls(site);
        let description = format!("{}{}", self.opening_html, self.body_html);
        let mut v = json!({
            "id": self.id,
            "text": self.text,
            "categories": {
                "location": self.categories.location,
                "commitment": self.categories.commitment,
                "team": self.categories.team,
                "department": self.categories.department,
                "allLocations": self.categories.all_locations,
            },
            "country": self.country,
            "opening": self.opening_html,
            "openingPlain": plain(&self.opening_html),
            "description": description,
            "descriptionPlain": plain(&description),
            "descriptionBody": self.body_html,
            "descriptionBodyPlain": plain(&self.body_html),
            "lists": self.lists,
            "additional": self.closing_html,
            "additionalPlain": plain(&self.closing_html),
            "hostedUrl": show,
            "applyUrl": apply,
            "workplaceType": self.workplace_type,
        });
        if let Some(range) = &self.salary_range {
            v["salaryRange"] = json!(range);
        }
        if let Some(html) = &self.salary_description_html {
            v["salaryDescription"] = json!(html);
            v["salaryDescriptionPlain"] = json!(plain(html));
        }
        v
    }
}

/// Every posting, in creation order (`seq`), and an index by id.
#[derive(Default)]
pub(crate) struct Store {
    pub(crate) by_seq: BTreeMap<u64, Posting>,
    pub(crate) seq_of: HashMap<String, u64>,
    pub(crate) next_seq: u64,
    /// Generation index of the next [`super::generate`]d posting.
    pub(crate) next_index: u64,
}

impl Store {
    /// Insert or replace by id (a new id goes last).
    pub(crate) fn upsert(&mut self, posting: Posting) {
        let seq = match self.seq_of.get(&posting.id) {
            Some(seq) => *seq,
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.seq_of.insert(posting.id.clone(), seq);
                seq
            }
        };
        self.by_seq.insert(seq, posting);
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Posting> {
        self.by_seq.get(self.seq_of.get(id)?)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Posting> {
        let seq = *self.seq_of.get(id)?;
        self.by_seq.get_mut(&seq)
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<Posting> {
        let seq = self.seq_of.remove(id)?;
        self.by_seq.remove(&seq)
    }

    pub(crate) fn clear(&mut self) {
        self.by_seq.clear();
        self.seq_of.clear();
        self.next_seq = 0;
    }
}

/// Now in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
