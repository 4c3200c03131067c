//! The deterministic generator of Lever postings.
//!
//! Posting `index` always comes out the same: a UUID-shaped id derived from
//! the index ([`posting_id`]), created one minute after the previous one
//! from 1 January 2025. Mix: about 76 % published, 8 % internal, 8 %
//! closed, 4 % draft, 4 % pending; every 5th remote (location `"Remote"`,
//! `workplaceType: remote`), every 7th hybrid; every 3rd with a salary
//! range; commitments, teams and levels vary.

use super::data::{Categories, LeverSalaryRange, Posting, PostingList, PostingState};
use super::DEFAULT_USER_IDS;

const TITLES: &[&str] = &[
    "Backend Engineer",
    "Frontend Engineer",
    "Data Analyst",
    "Product Manager",
    "Sales Development Representative",
    "Customer Support Specialist",
    "People Partner",
    "DevOps Engineer",
    "UX Researcher",
    "Content Marketer",
];
const TEAMS: &[(&str, &str)] = &[
    ("Engineering", "Technology"),
    ("Data", "Technology"),
    ("Product", "Technology"),
    ("Sales", "Commercial"),
    ("Support", "Commercial"),
    ("People", "Operations"),
];
const LOCATIONS: &[(&str, &str)] = &[
    ("Nairobi", "KE"),
    ("Berlin", "DE"),
    ("London", "GB"),
    ("Lagos", "NG"),
    ("San Francisco", "US"),
];
const COMMITMENTS: &[&str] = &["Full-time", "Part-time", "Contract", "Internship"];
const LEVELS: &[&str] = &["Junior", "Mid", "Senior", "Lead"];

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The id of generated posting `index`: UUID version 4 layout, deterministic.
pub fn posting_id(index: u64) -> String {
    let a = splitmix(index);
    let b = splitmix(a ^ index.rotate_left(17));
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// Midnight, 1 January 2025 UTC, in epoch milliseconds.
const EPOCH_MS: i64 = 1_735_689_600_000;

/// Generated posting `index` (see the module doc).
pub fn generate(index: u64) -> Posting {
    let i = index as usize;
    let title = TITLES[i % TITLES.len()];
    let (team, department) = TEAMS[i % TEAMS.len()];
    let remote = index % 5 == 4;
    let (city, country) = LOCATIONS[i % LOCATIONS.len()];
    let location = if remote { "Remote" } else { city };
    let state = match index % 25 {
        0 => PostingState::Draft,
        1 => PostingState::Pending,
        2 | 3 => PostingState::Closed,
        4 | 5 => PostingState::Internal,
        _ => PostingState::Published,
    };
    let created_at = EPOCH_MS + index as i64 * 60_000;
    let workplace_type = if remote {
        "remote"
    } else if index % 7 == 3 {
        "hybrid"
    } else {
        "on-site"
    };
    let salary_range = index.is_multiple_of(3).then(|| {
        let base = 30_000.0 + (index % 6) as f64 * 10_000.0;
        LeverSalaryRange {
            min: base,
            max: base + 20_000.0,
            currency: ["USD", "EUR", "KES"][i % 3].to_owned(),
            interval: "per-year-salary".to_owned(),
        }
    });
    let users = DEFAULT_USER_IDS;
    Posting {
        id: posting_id(index),
        text: format!("{} {title}", LEVELS[(i / 3) % LEVELS.len()]),
        created_at,
        updated_at: created_at + (index % 97) as i64 * 3_600_000,
        user: users[0].to_owned(),
        owner: users[i % users.len()].to_owned(),
        hiring_manager: Some(users[(i + 1) % users.len()].to_owned()),
        confidentiality: "non-confidential".to_owned(),
        state,
        categories: Categories {
            team: Some(team.to_owned()),
            department: Some(department.to_owned()),
            location: Some(location.to_owned()),
            all_locations: vec![location.to_owned()],
            commitment: Some(COMMITMENTS[i % COMMITMENTS.len()].to_owned()),
            level: Some(LEVELS[(i / 3) % LEVELS.len()].to_owned()),
        },
        opening_html: format!("<div>Join Next_KE’s {team} team — posting #{index}.</div>"),
        body_html: "<div><b>What you will do</b></div><div>Build things people use &amp; love, in Nairobi or Zürich.</div>".to_owned(),
        lists: vec![
            PostingList {
                text: "Requirements".to_owned(),
                content: "<li>Clear writing</li><li>Curiosity</li>".to_owned(),
            },
            PostingList {
                text: "Benefits".to_owned(),
                content: "<li>Health cover</li><li>Learning budget</li>".to_owned(),
            },
        ],
        closing_html: "<div>We welcome applicants of every background.</div>".to_owned(),
        country: Some(if remote { "KE" } else { country }.to_owned()),
        tags: vec![team.to_ascii_lowercase()],
        distribution_channels: if state == PostingState::Internal {
            vec!["internal".to_owned()]
        } else {
            vec!["public".to_owned(), "internal".to_owned()]
        },
        req_code: Some(format!("REQ-{:05}", index + 1)),
        requisition_codes: vec![format!("REQ-{:05}", index + 1)],
        salary_description_html: salary_range
            .as_ref()
            .map(|_| "<div>Pay depends on experience.</div>".to_owned()),
        salary_range,
        workplace_type: workplace_type.to_owned(),
    }
}
