//! MFA registration facts: the registration report tallied page by page (a 100 k-user
//! tenant's report is never held whole), joined with identity sync's contacts so disabled
//! accounts are left out and names link to contacts; and the no-P1 fallback from each
//! administrator's registered methods.

use std::collections::HashMap;

use crate::graph::UserRegistrationDetails;
use crate::graph::auth_methods::AuthenticationMethod;
use crate::model::{RegistrationFacts, UserRef};
use crate::store::{Reader, StoreError};

/// The report tallied so far, and what it said about each administrator.
#[derive(Debug, Default)]
pub struct RegistrationTally {
    pub facts: RegistrationFacts,
    /// Administrator object id (lower case) → registered, once the report listed them.
    admins: HashMap<String, Option<bool>>,
}

impl RegistrationTally {
    /// A tally that also records what the report says about `admin_ids`.
    pub fn for_admins(admin_ids: impl IntoIterator<Item = String>) -> Self {
        let mut t = Self::default();
        for id in admin_ids {
            t.admins.insert(id.to_ascii_lowercase(), None);
        }
        t
    }

    /// Count one page of report rows. Users identity sync knows as disabled or deleted are
    /// left out (the coverage control is about *enabled* members); users it does not know
    /// count as the report describes them.
    pub fn add_page(
        &mut self,
        r: &Reader,
        company_id: u64,
        rows: Vec<UserRegistrationDetails>,
    ) -> Result<(), StoreError> {
        for row in rows {
            let oid = row.id.to_ascii_lowercase();
            let registered = row.is_mfa_registered.unwrap_or(false);
            if let Some(slot) = self.admins.get_mut(&oid) {
                *slot = Some(registered);
            }
            let contact = r.contact_by_oid(company_id, &oid)?.map(|(c, _)| c);
            if contact
                .as_ref()
                .is_some_and(|c| !c.active || !c.account_enabled)
            {
                continue;
            }
            let guest = row
                .user_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("guest"));
            let f = &mut self.facts;
            if guest {
                f.guests_total += 1;
                f.guests_registered += u64::from(registered);
                continue;
            }
            f.members_total += 1;
            let user = || UserRef {
                object_id: oid.clone(),
                display_name: row
                    .user_display_name
                    .clone()
                    .or_else(|| contact.as_ref().map(|c| c.display_name.clone()))
                    .unwrap_or_default(),
                upn: row
                    .user_principal_name
                    .clone()
                    .or_else(|| contact.as_ref().map(|c| c.upn.clone()))
                    .unwrap_or_default(),
                contact_id: contact.as_ref().map(|c| c.id),
            };
            if registered {
                f.members_registered += 1;
                if row.is_mfa_capable == Some(false) {
                    f.members_registered_not_capable.push(user());
                }
            } else {
                f.members_unregistered.push(user());
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> (RegistrationFacts, HashMap<String, bool>) {
        self.facts.members_unregistered.sort();
        self.facts.members_registered_not_capable.sort();
        let admins = self
            .admins
            .into_iter()
            .filter_map(|(id, r)| r.map(|r| (id, r)))
            .collect();
        (self.facts, admins)
    }
}

/// Registered for MFA by their methods: any second factor beside the password.
pub fn registered_by_methods(methods: &[AuthenticationMethod]) -> bool {
    methods.iter().any(AuthenticationMethod::is_strong)
}
