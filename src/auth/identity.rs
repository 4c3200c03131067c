//! Who a request runs as: a user with organization roles, or a platform service.

use serde::{Deserialize, Serialize};

/// A user's role in an organization; ATS configuration needs [`OrgRole::Admin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// May configure the organization's integrations.
    Admin,
    /// May use the organization's integrations.
    Member,
}

/// One organization the caller belongs to, as carried in the `orgs` claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgMembership {
    /// Organization id as issued by the platform.
    pub id: String,
    /// The caller's role there.
    pub role: OrgRole,
}

impl OrgMembership {
    /// Membership in `id` with `role`.
    pub fn new(id: impl Into<String>, role: OrgRole) -> Self {
        Self {
            id: id.into(),
            role,
        }
    }
}

/// The authenticated caller of a request, built from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `sub` claim: owner of LinkedIn and calendar data.
    pub user_id: String,
    /// Organizations and roles from the `orgs` claim (empty when absent); each id
    /// is non-empty, fits its column and appears once.
    pub orgs: Vec<OrgMembership>,
    /// Whether the token carries `role: "service"` (a platform backend, not a person).
    pub service: bool,
}

impl Identity {
    /// Whether the caller has the admin role in `org_id`.
    pub fn is_admin_of(&self, org_id: &str) -> bool {
        self.role_in(org_id) == Some(OrgRole::Admin)
    }

    /// Whether the caller belongs to `org_id` with any role.
    pub fn is_member_of(&self, org_id: &str) -> bool {
        self.role_in(org_id).is_some()
    }

    /// The caller's role in `org_id` (the verifier refuses a token listing an org twice).
    pub fn role_in(&self, org_id: &str) -> Option<OrgRole> {
        self.orgs.iter().find(|m| m.id == org_id).map(|m| m.role)
    }

    /// Ids of the organizations the caller administers.
    pub fn admin_org_ids(&self) -> impl Iterator<Item = &str> {
        self.orgs
            .iter()
            .filter(|m| m.role == OrgRole::Admin)
            .map(|m| m.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        let id = Identity {
            user_id: "u1".into(),
            orgs: vec![
                OrgMembership::new("o1", OrgRole::Admin),
                OrgMembership::new("o2", OrgRole::Member),
                OrgMembership::new("o3", OrgRole::Admin),
            ],
            service: false,
        };
        assert!(id.is_admin_of("o1") && id.is_member_of("o1"));
        assert!(!id.is_admin_of("o2") && id.is_member_of("o2"));
        assert!(id.is_admin_of("o3"));
        assert!(!id.is_member_of("o4") && !id.is_admin_of("o4"));
        assert_eq!(id.admin_org_ids().collect::<Vec<_>>(), ["o1", "o3"]);
    }
}
