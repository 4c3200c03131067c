//! The deterministic generator of Greenhouse jobs and their job posts.
//!
//! Job `index` (0-based) always comes out the same: id
//! [`JOB_ID_BASE`]` + index + 1`, its post [`POST_ID_BASE`]` + index + 1`.
//! Mix: about 80 % open, 12 % closed, 8 % draft; every 5th job remote
//! (office and post location `"Remote"`); every 3rd with a salary range,
//! every 2nd with an employment type; departments and offices vary; a post
//! is live when its job is open, except every 10th; every 7th post is
//! internal as well as external. Content is HTML with non-ASCII text and
//! entities, about `content_bytes` long.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::data::{
    Department, HiringMember, HiringTeam, Job, JobStatus, Office, Opening, SalaryRange,
};
use super::posts::{JobPost, PostLocation, Question, QuestionType, QuestionValue};

/// Generated job ids are this plus the job's index plus one.
pub const JOB_ID_BASE: u64 = 4_000_000;
/// Generated job post ids are this plus the job's index plus one.
pub const POST_ID_BASE: u64 = 7_000_000;
/// Id of the required custom question "Are you authorized to work ..." on every post.
pub const QUESTION_WORK_AUTH: u64 = 9_100_001;
/// Id of the optional "LinkedIn Profile" custom question on every post.
pub const QUESTION_LINKEDIN: u64 = 9_100_002;
/// Id of the multi-select "Languages" question on every 4th post.
pub const QUESTION_LANGUAGES: u64 = 9_100_003;

const TITLES: &[&str] = &[
    "Backend Engineer",
    "Frontend Engineer",
    "Data Scientist",
    "Product Designer",
    "Account Executive",
    "Customer Success Manager",
    "Technical Recruiter",
    "Financial Analyst",
    "Site Reliability Engineer",
    "Marketing Manager",
    "Mobile Engineer",
    "Security Engineer",
];
const LEVELS: &[&str] = &["", "Senior ", "Staff ", "Junior ", "Lead "];
const EMPLOYMENT: &[&str] = &["Full-time", "Part-time", "Contract"];

/// The shared parts jobs point into.
pub(crate) struct Pools {
    departments: Vec<Arc<[Department]>>,
    offices: Vec<Arc<[Office]>>,
    remote: Arc<[Office]>,
    teams: Vec<Arc<HiringTeam>>,
    questions: Arc<[Question]>,
    questions_with_languages: Arc<[Question]>,
}

fn department(id: u64, name: &str, parent_id: Option<u64>, child_ids: Vec<u64>) -> Department {
    Department {
        id,
        name: name.to_owned(),
        parent_id,
        child_ids,
        external_id: Some(format!("dept-{id}")),
    }
}

fn office(id: u64, name: &str, location: &str) -> Office {
    Office {
        id,
        name: name.to_owned(),
        location: Some(location.to_owned()),
        parent_id: None,
        child_ids: Vec::new(),
        external_id: Some(format!("office-{id}")),
    }
}

fn member(id: u64, first: &str, last: &str, responsible: Option<bool>) -> HiringMember {
    HiringMember {
        id,
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        name: format!("{first} {last}"),
        employee_id: Some(format!("emp-{id}")),
        responsible,
    }
}

fn question(name: &str, label: &str, kind: QuestionType, required: bool) -> Question {
    Question {
        required,
        private: false,
        label: label.to_owned(),
        name: name.to_owned(),
        kind,
        values: Vec::new(),
        description: None,
    }
}

fn question_set(with_languages: bool) -> Arc<[Question]> {
    let mut qs = vec![
        question("first_name", "First Name", QuestionType::ShortText, true),
        question("last_name", "Last Name", QuestionType::ShortText, true),
        question("email", "Email", QuestionType::ShortText, true),
        question("phone", "Phone", QuestionType::ShortText, false),
        question("resume", "Resume/CV", QuestionType::Attachment, true),
        question(
            "cover_letter",
            "Cover Letter",
            QuestionType::Attachment,
            false,
        ),
        question(
            &format!("question_{QUESTION_LINKEDIN}"),
            "LinkedIn Profile",
            QuestionType::ShortText,
            false,
        ),
    ];
    let mut auth = question(
        &format!("question_{QUESTION_WORK_AUTH}"),
        "Are you authorized to work in the country of this job?",
        QuestionType::Boolean,
        true,
    );
    auth.values = vec![
        QuestionValue {
            value: 0,
            label: "No".to_owned(),
        },
        QuestionValue {
            value: 1,
            label: "Yes".to_owned(),
        },
    ];
    qs.push(auth);
    if with_languages {
        let mut langs = question(
            &format!("question_{QUESTION_LANGUAGES}[]"),
            "Which languages do you speak?",
            QuestionType::MultiSelect,
            false,
        );
        langs.values = ["English", "Kiswahili", "Deutsch", "Français"]
            .iter()
            .zip(9_200_001..)
            .map(|(label, value)| QuestionValue {
                value,
                label: (*label).to_owned(),
            })
            .collect();
        qs.push(langs);
    }
    qs.into()
}

impl Pools {
    pub(crate) fn new() -> Self {
        let eng = department(101, "Engineering", None, vec![102, 103]);
        let platform = department(102, "Platform", Some(101), Vec::new());
        let data = department(103, "Data & Analytics", Some(101), Vec::new());
        let others = [
            department(104, "Sales", None, Vec::new()),
            department(105, "Marketing", None, Vec::new()),
            department(106, "People", None, Vec::new()),
            department(107, "Finance", None, Vec::new()),
            department(108, "Customer Success", None, Vec::new()),
        ];
        let mut departments: Vec<Arc<[Department]>> = vec![
            Arc::from(vec![eng]),
            Arc::from(vec![platform]),
            Arc::from(vec![data]),
        ];
        departments.extend(others.into_iter().map(|d| Arc::from(vec![d])));
        let offices: Vec<Arc<[Office]>> = vec![
            Arc::from(vec![office(201, "Nairobi", "Nairobi, Kenya")]),
            Arc::from(vec![office(202, "Berlin", "Berlin, Germany")]),
            Arc::from(vec![office(203, "London", "London, United Kingdom")]),
            Arc::from(vec![office(204, "New York", "New York, NY, United States")]),
            Arc::from(vec![
                office(205, "Lagos", "Lagos, Nigeria"),
                office(201, "Nairobi", "Nairobi, Kenya"),
            ]),
            Arc::from(vec![office(206, "Zürich", "Zürich, Switzerland")]),
        ];
        let remote = Arc::from(vec![office(299, "Remote", "Remote")]);
        let teams = (0..3u64)
            .map(|i| {
                Arc::new(HiringTeam {
                    hiring_managers: vec![member(3001 + i, "Wanjiru", "Kamau", None)],
                    recruiters: vec![member(3101 + i, "Jonas", "Weber", Some(true))],
                    coordinators: vec![member(3201 + i, "Amara", "Okafor", Some(true))],
                    sourcers: Vec::new(),
                })
            })
            .collect();
        Self {
            departments,
            offices,
            remote,
            teams,
            questions: question_set(false),
            questions_with_languages: question_set(true),
        }
    }
}

/// Midnight, 1 January 2025 UTC: the first generated job's creation.
fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_735_689_600, 0).unwrap_or_default()
}

/// HTML of about `bytes` bytes describing the job, with non-ASCII text and
/// an entity, so escaping in every view is exercised.
pub(crate) fn content(name: &str, index: u64, bytes: usize) -> String {
    let mut html = format!(
        "<h2>{name}</h2><p>Join the team building Next_KE’s hiring platform — role #{index}.</p>"
    );
    const SENTENCES: &[&str] = &[
        "<p>You will work with recruiters &amp; engineers across Nairobi, Berlin and Zürich.</p>",
        "<ul><li>Ship features end to end</li><li>Review code with care</li></ul>",
        "<p>We value clear writing, kindness and curiosity — \"done\" means shipped.</p>",
        "<p>Benefits: health cover, learning budget, flexible hours (café vouchers included).</p>",
    ];
    let mut i = index as usize;
    while html.len() < bytes {
        html.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    html
}

/// The job and job post of generation index `index`.
pub(crate) fn generate_with(pools: &Pools, index: u64, content_bytes: usize) -> (Job, JobPost) {
    let i = index as usize;
    let id = JOB_ID_BASE + index + 1;
    let post_id = POST_ID_BASE + index + 1;
    let name = format!(
        "{}{}",
        LEVELS[(i / TITLES.len()) % LEVELS.len()],
        TITLES[i % TITLES.len()]
    );
    let status = match index % 25 {
        0 | 1 => JobStatus::Draft,
        2..=4 => JobStatus::Closed,
        _ => JobStatus::Open,
    };
    let created_at = epoch() + Duration::minutes(index as i64);
    let opened_at = (status != JobStatus::Draft).then(|| created_at + Duration::hours(1));
    let closed_at = (status == JobStatus::Closed).then(|| created_at + Duration::days(30));
    let updated_at = created_at + Duration::hours((index % 97) as i64 + 2);
    let remote = index % 5 == 4;
    let offices = if remote {
        pools.remote.clone()
    } else {
        pools.offices[i % pools.offices.len()].clone()
    };
    let location_name = offices[0]
        .location
        .clone()
        .unwrap_or_else(|| offices[0].name.clone());
    let salary_range = index.is_multiple_of(3).then(|| {
        let base = 40_000 + (index % 8) * 10_000;
        SalaryRange {
            min_value: base,
            max_value: base + 25_000,
            unit: ["USD", "EUR", "KES"][i % 3].to_owned(),
        }
    });
    let employment_type = index
        .is_multiple_of(2)
        .then(|| EMPLOYMENT[(i / 2) % EMPLOYMENT.len()].to_owned());
    let job = Job {
        id,
        name: name.clone(),
        requisition_id: Some(format!("REQ-{:06}", index + 1)),
        notes: Some(format!("<p>Hiring plan for {name}.</p>")),
        confidential: index % 50 == 7,
        status,
        created_at,
        opened_at,
        closed_at,
        updated_at,
        departments: pools.departments[i % pools.departments.len()].clone(),
        offices: offices.clone(),
        hiring_team: pools.teams[i % pools.teams.len()].clone(),
        openings: vec![Opening {
            id: 8_000_000 + index + 1,
            opening_id: Some(format!("OPN-{:06}", index + 1)),
            open: status != JobStatus::Closed,
            opened_at,
            closed_at,
            application_id: None,
        }],
        employment_type,
        salary_range,
    };
    let live = status == JobStatus::Open && index % 10 != 9;
    let post = JobPost {
        id: post_id,
        title: name.clone(),
        location: PostLocation {
            id: 6_000_000 + index + 1,
            name: location_name,
            office_id: Some(offices[0].id),
        },
        internal: index % 7 == 3,
        external: true,
        active: true,
        live,
        first_published_at: live.then(|| created_at + Duration::hours(2)),
        job_id: Some(id),
        content: content(&name, index, content_bytes),
        internal_content: None,
        updated_at,
        created_at: created_at + Duration::minutes(5),
        questions: if index.is_multiple_of(4) {
            pools.questions_with_languages.clone()
        } else {
            pools.questions.clone()
        },
    };
    (job, post)
}

/// The job and job post of generation index `index` (see the module doc).
pub fn generate(index: u64, content_bytes: usize) -> (Job, JobPost) {
    generate_with(&Pools::new(), index, content_bytes)
}
