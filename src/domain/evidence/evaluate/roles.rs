//! The privileged directory roles the administrator controls (2 and 4) check.

/// The 14 roles Microsoft says to require MFA for at a minimum, with their template ids (the
/// same in every tenant). Listed in Microsoft Learn, "Require MFA for administrators"
/// (<https://learn.microsoft.com/entra/identity/conditional-access/howto-conditional-access-policy-admin-mfa>),
/// the same 14 that security defaults require MFA from; ids from "Microsoft Entra built-in roles"
/// (<https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference>).
pub const PRIVILEGED_ROLES: [(&str, &str); 14] = [
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
    ),
    (
        "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        "Authentication Administrator",
    ),
    (
        "b0f54661-2d74-4c50-afa3-1ec803f12efe",
        "Billing Administrator",
    ),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
    ),
    (
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Conditional Access Administrator",
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
    ),
    (
        "966707d0-3269-4727-9be2-8c3a10f19b9d",
        "Password Administrator",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
    ),
    (
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
    ),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
];

/// Whether `template_id` is one of the 14 (Graph sends template ids in lower case; compare
/// without case anyway, as ids typed into a policy by hand may not be).
pub fn is_privileged(template_id: &str) -> bool {
    PRIVILEGED_ROLES
        .iter()
        .any(|(id, _)| id.eq_ignore_ascii_case(template_id))
}

/// Microsoft's name for a privileged role template.
pub fn privileged_role_name(template_id: &str) -> Option<&'static str> {
    PRIVILEGED_ROLES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(template_id))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_distinct_lower_case_template_ids() {
        let mut ids: Vec<&str> = PRIVILEGED_ROLES.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 14);
        for id in ids {
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!(id, id.to_ascii_lowercase());
        }
        assert!(is_privileged("62E90394-69F5-4237-9190-012177145E10"));
        assert!(!is_privileged("88d8e3e3-8f55-4a1e-953a-9b9898b8876b")); // Directory Readers
        assert_eq!(
            privileged_role_name("e8611ab8-c189-46e8-94e1-60213ab1f814"),
            Some("Privileged Role Administrator")
        );
    }
}
