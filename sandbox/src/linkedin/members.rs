//! The simulated LinkedIn members: what userinfo and the snapshot API know
//! about each one. A sandbox-only type, written from the documented field
//! lists, never shared with a client.

use std::fmt;

/// Sub of the default EEA member: full OIDC profile and portability data.
pub const EEA_MEMBER_SUB: &str = "Ea7Hn2kQpX";
/// Sub of the default US member: OIDC only, no portability data.
pub const US_MEMBER_SUB: &str = "Us4Jd8mWzR";
/// Sub of the default EEA member without an email address and without a photo.
pub const NO_EMAIL_MEMBER_SUB: &str = "Nm2Lq6tYvB";

/// Prefix of the subs made by [`SandboxMember::generated`].
const GENERATED_PREFIX: &str = "gen";

/// `locale` as userinfo really answers it: `{"country": "US", "language": "en"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLocale {
    /// ISO 3166 country code, upper case (`"DE"`).
    pub country: String,
    /// ISO 639 language code, lower case (`"de"`).
    pub language: String,
}

impl MemberLocale {
    /// A locale from a country and a language code.
    pub fn new(country: &str, language: &str) -> Self {
        Self {
            country: country.to_owned(),
            language: language.to_owned(),
        }
    }
}

/// A month of a year, shown as LinkedIn's export shows dates (`"Jan 2024"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthYear {
    /// The year (`2024`).
    pub year: u16,
    /// The month, 1 to 12.
    pub month: u8,
}

impl MonthYear {
    /// `MonthYear { year, month }`; a month outside 1..=12 is clamped.
    pub fn new(year: u16, month: u8) -> Self {
        Self {
            year,
            month: month.clamp(1, 12),
        }
    }
}

impl fmt::Display for MonthYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let name = MONTHS[usize::from(self.month.clamp(1, 12) - 1)];
        write!(f, "{name} {}", self.year)
    }
}

/// The PROFILE snapshot fields the sandbox fills; the other documented keys
/// (`Maiden Name`, `Address`, `Birth Date`, `Websites`, `Twitter Handles`,
/// `Instant Messengers`) are always `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFields {
    /// `Headline`.
    pub headline: String,
    /// `Summary` (free text).
    pub summary: String,
    /// `Industry` (a plain string, no URN).
    pub industry: String,
    /// `Geo Location` (a plain string such as `"Berlin, Germany"`).
    pub geo_location: String,
    /// `Zip Code`.
    pub zip_code: String,
}

/// One row of the POSITIONS domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// `Company Name`.
    pub company_name: String,
    /// `Title`.
    pub title: String,
    /// `Description`.
    pub description: String,
    /// `Location`.
    pub location: String,
    /// `Started On`.
    pub started_on: MonthYear,
    /// `Finished On`; `None` for a current role (sent as `""`).
    pub finished_on: Option<MonthYear>,
}

/// One row of the EDUCATION domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Education {
    /// `School Name`.
    pub school_name: String,
    /// `Degree Name`.
    pub degree_name: String,
    /// `Start Date` (a year, as the export shows it).
    pub start_date: String,
    /// `End Date` (a year, or `""`).
    pub end_date: String,
    /// `Notes`.
    pub notes: String,
    /// `Activities`.
    pub activities: String,
}

/// One endorsement the member received (ENDORSEMENTS domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    /// `Endorsement Date`, as the export writes it (`"2024/03/15 10:21:05 UTC"`).
    pub date: String,
    /// `Skill Name`.
    pub skill_name: String,
    /// `Endorser First Name`.
    pub endorser_first_name: String,
    /// `Endorser Last Name`.
    pub endorser_last_name: String,
    /// `Endorser Public Url` (`"www.linkedin.com/in/..."`).
    pub endorser_public_url: String,
    /// `Endorsement Status` (`"ACCEPTED"`).
    pub status: String,
}

/// A member as the LinkedIn sandbox knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxMember {
    /// The OIDC `sub` (pairwise per app at LinkedIn, so opaque to clients).
    pub sub: String,
    /// `given_name`.
    pub given_name: String,
    /// `family_name`.
    pub family_name: String,
    /// `email`; `None` for a member without one (userinfo then omits both email fields).
    pub email: Option<String>,
    /// `email_verified` (a boolean in userinfo).
    pub email_verified: bool,
    /// `picture`; `None` for a member without a photo.
    pub picture: Option<String>,
    /// `locale`.
    pub locale: MemberLocale,
    /// Whether the member is in the EEA or Switzerland and so has portability
    /// (snapshot) data; `false` answers every snapshot call with 404.
    pub portability: bool,
    /// PROFILE domain.
    pub profile: ProfileFields,
    /// POSITIONS domain, most recent first.
    pub positions: Vec<Position>,
    /// EDUCATION domain.
    pub education: Vec<Education>,
    /// SKILLS domain (`Name` only).
    pub skills: Vec<String>,
    /// ENDORSEMENTS domain: endorsements received.
    pub endorsements: Vec<Endorsement>,
}

impl SandboxMember {
    /// A member with names, email and locale, nothing else.
    pub fn new(sub: &str, given_name: &str, family_name: &str, locale: MemberLocale) -> Self {
        Self {
            sub: sub.to_owned(),
            given_name: given_name.to_owned(),
            family_name: family_name.to_owned(),
            email: None,
            email_verified: false,
            picture: None,
            locale,
            portability: false,
            profile: ProfileFields::default(),
            positions: Vec::new(),
            education: Vec::new(),
            skills: Vec::new(),
            endorsements: Vec::new(),
        }
    }

    /// `name` as userinfo answers it: given and family name.
    pub fn name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// The default members: [`EEA_MEMBER_SUB`], [`US_MEMBER_SUB`], [`NO_EMAIL_MEMBER_SUB`].
    pub fn defaults() -> Vec<SandboxMember> {
        vec![eea_member(), us_member(), no_email_member()]
    }

    /// A deterministic, realistic member number `i` (sub `gen0000042` for 42),
    /// for load tests: cheap enough to make 10,000 of them. Two thirds are in
    /// the EEA; one in ten has no email.
    pub fn generated(i: usize) -> SandboxMember {
        const GIVEN: [&str; 12] = [
            "Anna", "Lukas", "Sofia", "Mateo", "Emma", "Jonas", "Chiara", "Pieter", "Ines",
            "Mikael", "Zofia", "Liam",
        ];
        const FAMILY: [&str; 11] = [
            "Schmidt", "Rossi", "Novak", "Jansen", "Garcia", "Dubois", "Nielsen", "Kowalski",
            "Silva", "Horvat", "Murphy",
        ];
        const PLACES: [(&str, &str, &str, &str, bool); 6] = [
            ("DE", "de", "Berlin, Germany", "10115", true),
            ("FR", "fr", "Paris, France", "75001", true),
            ("US", "en", "Austin, Texas, United States", "73301", false),
            (
                "NL",
                "nl",
                "Amsterdam, North Holland, Netherlands",
                "1011",
                true,
            ),
            ("IT", "it", "Milan, Lombardy, Italy", "20121", true),
            ("KE", "en", "Nairobi, Kenya", "00100", false),
        ];
        const COMPANIES: [&str; 8] = [
            "Contoso",
            "Fabrikam",
            "Northwind Traders",
            "Tailspin Toys",
            "Litware",
            "Adatum",
            "Proseware",
            "Wide World Importers",
        ];
        const TITLES: [&str; 6] = [
            "Software Engineer",
            "Data Analyst",
            "Product Manager",
            "Recruiter",
            "Site Reliability Engineer",
            "Designer",
        ];
        const SKILLS: [&str; 10] = [
            "Rust",
            "PostgreSQL",
            "Kubernetes",
            "Python",
            "Leadership",
            "SQL",
            "Figma",
            "Recruiting",
            "Go",
            "Public Speaking",
        ];
        let given = GIVEN[i % GIVEN.len()];
        let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
        let (country, language, geo, zip, eea) = PLACES[i % PLACES.len()];
        let sub = format!("{GENERATED_PREFIX}{i:07}");
        let mut m = SandboxMember::new(&sub, given, family, MemberLocale::new(country, language));
        if i % 10 != 9 {
            m.email = Some(format!(
                "{}.{}.{i}@example.com",
                given.to_lowercase(),
                family.to_lowercase()
            ));
            m.email_verified = true;
        }
        m.picture = Some(picture_url(&sub));
        m.portability = eea;
        let title = TITLES[i % TITLES.len()];
        let company = COMPANIES[i % COMPANIES.len()];
        m.profile = ProfileFields {
            headline: format!("{title} at {company}"),
            summary: String::new(),
            industry: "Software Development".to_owned(),
            geo_location: geo.to_owned(),
            zip_code: zip.to_owned(),
        };
        let base_year = u16::try_from(2024 - (i % 5) * 3).unwrap_or(2020);
        let n_positions = 1 + i % 4;
        m.positions = (0..n_positions)
            .map(|k| {
                let start = base_year - u16::try_from(k * 3).unwrap_or(0);
                Position {
                    company_name: COMPANIES[(i + k) % COMPANIES.len()].to_owned(),
                    title: TITLES[(i + k) % TITLES.len()].to_owned(),
                    description: String::new(),
                    location: geo.to_owned(),
                    started_on: MonthYear::new(start, u8::try_from(1 + (i + k) % 12).unwrap_or(1)),
                    finished_on: (k > 0).then(|| MonthYear::new(start + 3, 6)),
                }
            })
            .collect();
        m.education = vec![Education {
            school_name: "Technical University of Munich".to_owned(),
            degree_name: "Master of Science - MS".to_owned(),
            start_date: (base_year - u16::try_from(n_positions * 3 + 2).unwrap_or(2)).to_string(),
            end_date: (base_year - u16::try_from(n_positions * 3).unwrap_or(0)).to_string(),
            notes: String::new(),
            activities: String::new(),
        }];
        m.skills = (0..3 + i % 4)
            .map(|k| SKILLS[(i + k) % SKILLS.len()].to_owned())
            .collect();
        m.endorsements = m
            .skills
            .iter()
            .take(2)
            .enumerate()
            .map(|(k, skill)| {
                let g = GIVEN[(i + k + 1) % GIVEN.len()];
                let f = FAMILY[(i + k + 3) % FAMILY.len()];
                endorsement("2024/03/15 10:21:05 UTC", skill, g, f)
            })
            .collect();
        m
    }

    /// The index `i` of a sub made by [`generated`](Self::generated).
    pub fn generated_index(sub: &str) -> Option<usize> {
        let digits = sub.strip_prefix(GENERATED_PREFIX)?;
        if digits.len() < 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

fn picture_url(sub: &str) -> String {
    format!(
        "https://media.licdn.com/dms/image/v2/C4E03AQ{sub}/profile-displayphoto-shrink_100_100/0/1700000000000?e=1767225600&v=beta&t=sandbox"
    )
}

fn endorsement(date: &str, skill: &str, first: &str, last: &str) -> Endorsement {
    Endorsement {
        date: date.to_owned(),
        skill_name: skill.to_owned(),
        endorser_first_name: first.to_owned(),
        endorser_last_name: last.to_owned(),
        endorser_public_url: format!(
            "www.linkedin.com/in/{}-{}",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        status: "ACCEPTED".to_owned(),
    }
}

fn position(
    company: &str,
    title: &str,
    location: &str,
    started: MonthYear,
    finished: Option<MonthYear>,
) -> Position {
    Position {
        company_name: company.to_owned(),
        title: title.to_owned(),
        description: String::new(),
        location: location.to_owned(),
        started_on: started,
        finished_on: finished,
    }
}

/// Anna Schmidt, Berlin: everything filled in.
fn eea_member() -> SandboxMember {
    let mut m = SandboxMember::new(
        EEA_MEMBER_SUB,
        "Anna",
        "Schmidt",
        MemberLocale::new("DE", "de"),
    );
    m.email = Some("anna.schmidt@example.de".to_owned());
    m.email_verified = true;
    m.picture = Some(picture_url(EEA_MEMBER_SUB));
    m.portability = true;
    m.profile = ProfileFields {
        headline: "Senior Backend Engineer at Contoso".to_owned(),
        summary: "Backend engineer building reliable payment systems in Rust and Go.".to_owned(),
        industry: "Software Development".to_owned(),
        geo_location: "Berlin, Germany".to_owned(),
        zip_code: "10115".to_owned(),
    };
    m.positions = vec![
        Position {
            description: "Payments platform, Rust services on Kubernetes.".to_owned(),
            ..position(
                "Contoso",
                "Senior Backend Engineer",
                "Berlin, Germany",
                MonthYear::new(2024, 1),
                None,
            )
        },
        position(
            "Fabrikam",
            "Backend Engineer",
            "Munich, Bavaria, Germany",
            MonthYear::new(2020, 3),
            Some(MonthYear::new(2023, 12)),
        ),
        position(
            "Northwind Traders",
            "Software Engineering Intern",
            "Munich, Bavaria, Germany",
            MonthYear::new(2019, 4),
            Some(MonthYear::new(2019, 9)),
        ),
    ];
    m.education = vec![
        Education {
            school_name: "Technical University of Munich".to_owned(),
            degree_name: "Master of Science - MS".to_owned(),
            start_date: "2018".to_owned(),
            end_date: "2020".to_owned(),
            notes: "Thesis on consensus protocols".to_owned(),
            activities: "Robotics club".to_owned(),
        },
        Education {
            school_name: "University of Stuttgart".to_owned(),
            degree_name: "Bachelor of Science - BS".to_owned(),
            start_date: "2015".to_owned(),
            end_date: "2018".to_owned(),
            notes: String::new(),
            activities: String::new(),
        },
    ];
    m.skills = [
        "Rust",
        "Go",
        "PostgreSQL",
        "Kubernetes",
        "Distributed Systems",
    ]
    .map(str::to_owned)
    .to_vec();
    m.endorsements = vec![
        endorsement("2024/03/15 10:21:05 UTC", "Rust", "Lukas", "Weber"),
        endorsement("2023/11/02 08:04:51 UTC", "Rust", "Sofia", "Rossi"),
        endorsement("2022/06/20 17:45:12 UTC", "PostgreSQL", "Pieter", "Jansen"),
    ];
    m
}

/// John Miller, Austin: OIDC only, no portability data.
fn us_member() -> SandboxMember {
    let mut m = SandboxMember::new(
        US_MEMBER_SUB,
        "John",
        "Miller",
        MemberLocale::new("US", "en"),
    );
    m.email = Some("john.miller@example.com".to_owned());
    m.email_verified = true;
    m.picture = Some(picture_url(US_MEMBER_SUB));
    m.profile.headline = "Recruiter at Litware".to_owned();
    m.profile.geo_location = "Austin, Texas, United States".to_owned();
    m
}

/// Zofia Kowalska, Warsaw: no email, no photo, a small portability snapshot.
fn no_email_member() -> SandboxMember {
    let mut m = SandboxMember::new(
        NO_EMAIL_MEMBER_SUB,
        "Zofia",
        "Kowalska",
        MemberLocale::new("PL", "pl"),
    );
    m.portability = true;
    m.profile = ProfileFields {
        headline: "Data Analyst".to_owned(),
        geo_location: "Warsaw, Masovian, Poland".to_owned(),
        ..ProfileFields::default()
    };
    m.positions = vec![position(
        "Adatum",
        "Data Analyst",
        "Warsaw, Masovian, Poland",
        MonthYear::new(2022, 9),
        None,
    )];
    m.skills = vec!["SQL".to_owned()];
    m
}
