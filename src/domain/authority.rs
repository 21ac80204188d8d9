//! Who may change what. Admin-only use-cases (staff accounts, API tokens, Microsoft and
//! sign-in settings, disconnecting tenants) take an [`AdminActor`] instead of a bare
//! [`Actor`], so the domain itself refuses a technician, whatever page or endpoint asked:
//! a caller that forgot the check cannot even build the argument.

use super::{DomainError, DomainResult};
use crate::model::{Actor, Role};

/// An actor known to hold the admin role (or the appliance itself).
#[derive(Debug, Clone)]
pub struct AdminActor(Actor);

impl AdminActor {
    /// `actor` acting with `role`: refused unless the role is admin.
    pub fn new(actor: Actor, role: Role) -> DomainResult<Self> {
        if role == Role::Admin {
            Ok(AdminActor(actor))
        } else {
            Err(DomainError::Forbidden(
                "Only admins can change settings, staff accounts and API tokens.".into(),
            ))
        }
    }

    /// The appliance itself (first-admin bootstrap, the demo, the command line on the box).
    pub fn system() -> Self {
        AdminActor(Actor::system())
    }

    /// Someone at the appliance's own command line (`tenantry user …`): whoever can run it can
    /// read the database and the key file anyway, so the shell is an admin.
    pub fn local(actor: Actor) -> Self {
        AdminActor(actor)
    }
}

impl From<AdminActor> for Actor {
    fn from(a: AdminActor) -> Actor {
        a.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_admin_role_makes_an_admin_actor() {
        assert!(AdminActor::new(Actor::staff("a@b.example"), Role::Admin).is_ok());
        assert!(matches!(
            AdminActor::new(Actor::token("script"), Role::Technician),
            Err(DomainError::Forbidden(_))
        ));
    }
}
