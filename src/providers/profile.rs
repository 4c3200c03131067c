//! What a profile provider returns, and the trait the LinkedIn domain calls.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::http::ProviderError;

/// One position (experience entry).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub company_name: String,
    pub title: String,
    pub description: String,
    pub location: String,
    pub started_on: String,
    /// Empty for a current position.
    pub finished_on: String,
}

/// One education entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Education {
    pub school_name: String,
    pub degree_name: String,
    pub start_date: String,
    pub end_date: String,
    pub notes: String,
    pub activities: String,
}

/// One skill, with the endorsements received for it when known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsement_count: Option<u32>,
}

/// Which parts of a profile to fetch: what the user keeps and the
/// connection can get. What is not asked for is not requested at all.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchPlan {
    /// The connection has the Member Data Portability API.
    pub portability: bool,
    pub experience: bool,
    pub education: bool,
    pub skills: bool,
}

/// A profile as fetched. `None` means "not fetched", `Some(empty)` "fetched, empty".
#[derive(Clone, Debug, Default)]
pub struct FetchedProfile {
    /// The provider's id of the member (pairwise per app at LinkedIn).
    pub member_id: String,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub picture_url: Option<String>,
    pub headline: Option<String>,
    pub summary: Option<String>,
    pub location: Option<String>,
    pub industry: Option<String>,
    pub experience: Option<Vec<Position>>,
    pub education: Option<Vec<Education>>,
    pub skills: Option<Vec<Skill>>,
    /// Portability was asked for but the provider refused it (no product or consent).
    pub portability_refused: bool,
}

/// A source of member profiles (LinkedIn).
#[async_trait::async_trait]
pub trait ProfileProvider: Send + Sync {
    /// Fetches what `plan` asks for with the member's access token.
    async fn fetch_profile(
        &self,
        access_token: &SecretString,
        plan: FetchPlan,
    ) -> Result<FetchedProfile, ProviderError>;
}
