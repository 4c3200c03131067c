//! Who may see and change an organization's ATS: configuration needs the
//! organization's admin role; a member is refused (they know the
//! organization); anyone else is told the object does not exist.

use crate::{
    auth::Identity,
    error::{AppError, Result},
};

/// The caller administers `organization_id`; else `PERMISSION_DENIED` for a
/// member and `NOT_FOUND` (`what`) for anyone else.
pub fn admin_of(caller: &Identity, organization_id: &str, what: &'static str) -> Result<()> {
    if caller.is_admin_of(organization_id) {
        return Ok(());
    }
    if caller.role_in(organization_id).is_some() {
        return Err(AppError::PermissionDenied(
            "the organization's admin role is needed".to_owned(),
        ));
    }
    Err(AppError::NotFound(what))
}

/// The caller may read what belongs to `organization_id` (its admins, and
/// platform services).
pub fn reads_org(caller: &Identity, organization_id: &str) -> bool {
    caller.service || caller.is_admin_of(organization_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{OrgMembership, OrgRole};

    fn who(orgs: &[(&str, OrgRole)]) -> Identity {
        Identity {
            user_id: "u".into(),
            orgs: orgs
                .iter()
                .map(|(id, role)| OrgMembership::new(*id, *role))
                .collect(),
            service: false,
        }
    }

    #[test]
    fn admins_pass_members_are_refused_strangers_see_nothing() {
        assert!(admin_of(&who(&[("acme", OrgRole::Admin)]), "acme", "x").is_ok());
        assert!(matches!(
            admin_of(&who(&[("acme", OrgRole::Member)]), "acme", "x"),
            Err(AppError::PermissionDenied(_))
        ));
        assert!(matches!(
            admin_of(&who(&[("globex", OrgRole::Admin)]), "acme", "x"),
            Err(AppError::NotFound("x"))
        ));
    }
}
