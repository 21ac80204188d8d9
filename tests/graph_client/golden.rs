//! Golden files: example bodies composed after the shapes in Microsoft's reference pages
//! (docs/microsoft.md#resources; kept in `fixtures/`; test names say "the contract", the
//! research notes they were first taken from), served by the fake and decoded by the client's
//! typed calls. If a DTO's field name or type drifts from what Microsoft documents, these fail.

use chrono::{TimeZone, Utc};
use tenantry::graph::{
    ComplianceState, ConditionalAccessPolicy, DeltaGroup, DeltaUser, DeviceCompliancePolicy,
    GroupRound, MemberType, OwnerType, PolicyState, RemovedReason, UserRegistrationDetails,
};

use crate::fake::{Canned, Fake, TENANT};

/// Serve `body` at `path` and return the absolute URL.
fn serve(fake: &Fake, path: &str, body: &str) -> String {
    fake.script(path, vec![Canned::ok(body)]);
    fake.url(path)
}

#[tokio::test]
async fn users_delta_pages_from_the_contract() {
    let fake = Fake::start().await;
    let client = fake.client();

    let url = serve(
        &fake,
        "/v1.0/users/delta?$skiptoken=a",
        include_str!("fixtures/users_delta_initial_page.json"),
    );
    let page = client
        .get_page::<DeltaUser>(TENANT, &url)
        .await
        .expect("page");
    assert_eq!(
        page.next_link.as_deref(),
        Some("https://graph.microsoft.com/v1.0/users/delta?$skiptoken=Qk1tdGFy...")
    );
    assert_eq!(page.delta_link, None);
    assert_eq!(page.items.len(), 2);
    let priya = &page.items[0];
    assert_eq!(priya.id, "6a1e3f0c-9b7d-4c52-8e1a-2f4d7c9b0a11");
    assert_eq!(priya.display_name.as_deref(), Some("Priya Raman"));
    assert_eq!(
        priya.mail.as_deref(),
        Some("priya.raman@northwindtraders.com")
    );
    assert_eq!(
        priya.user_principal_name.as_deref(),
        Some("priya.raman@northwindtraders.com")
    );
    assert_eq!(priya.department.as_deref(), Some("Finance"));
    assert_eq!(priya.job_title.as_deref(), Some("Accounts Payable Lead"));
    assert_eq!(priya.account_enabled, Some(true));
    assert_eq!(priya.user_type.as_deref(), Some("Member"));
    assert!(!priya.is_guest());
    let removed = &page.items[1];
    assert_eq!(
        removed.removed.as_ref().and_then(|r| r.reason.clone()),
        Some(RemovedReason::Changed)
    );

    let url = serve(
        &fake,
        "/v1.0/users/delta?$skiptoken=b",
        include_str!("fixtures/users_delta_last_page.json"),
    );
    let page = client
        .get_page::<DeltaUser>(TENANT, &url)
        .await
        .expect("page");
    assert_eq!(page.next_link, None);
    assert_eq!(
        page.delta_link.as_deref(),
        Some("https://graph.microsoft.com/v1.0/users/delta?$deltatoken=oEcOySp...")
    );
    assert_eq!(page.items[0].department.as_deref(), Some("Treasury"));
    assert_eq!(
        page.items[1]
            .removed
            .as_ref()
            .and_then(|r| r.reason.clone()),
        Some(RemovedReason::Deleted)
    );
    fake.stop().await;
}

#[tokio::test]
async fn groups_delta_page_from_the_contract() {
    let fake = Fake::start().await;
    let client = fake.client();
    let url = serve(
        &fake,
        "/v1.0/groups/delta?$skiptoken=a",
        include_str!("fixtures/groups_delta_page.json"),
    );
    let page = client
        .get_page::<DeltaGroup>(TENANT, &url)
        .await
        .expect("page");
    assert_eq!(page.items.len(), 3);
    let approvers = &page.items[0];
    assert_eq!(approvers.security_enabled, Some(true));
    assert_eq!(approvers.mail, None);
    assert_eq!(approvers.group_types.as_deref(), Some(&[][..]));
    let all_staff = &page.items[1];
    assert_eq!(
        all_staff.group_types.as_deref(),
        Some(&["Unified".to_string()][..])
    );
    assert_eq!(all_staff.members_delta, None);

    let mut round = GroupRound::new();
    round.add_page(page.items);
    let merged = round.finish();
    assert_eq!(merged[0].members_added.len(), 2);
    assert_eq!(
        merged[0].members_added[1].member_type,
        Some(MemberType::Group)
    );
    assert_eq!(
        merged[0].members_removed[0].id,
        "4d2f8b90-6c1a-4e3b-9f7d-8a0b1c2d3e4f"
    );
    assert!(merged[2].is_removed());
    fake.stop().await;
}

#[tokio::test]
async fn managed_devices_page_from_the_contract() {
    let fake = Fake::start().await;
    let client = fake.client();
    let start = client.managed_devices_url();
    serve(
        &fake,
        start.trim_start_matches(&fake.base),
        include_str!("fixtures/managed_devices_page.json"),
    );
    let page = client
        .managed_devices_page(TENANT, None)
        .await
        .expect("page");
    assert!(page.next_link.is_some());
    let d = &page.items[0];
    assert_eq!(d.device_name.as_deref(), Some("NWT-LT-0142"));
    assert_eq!(d.operating_system.as_deref(), Some("Windows"));
    assert_eq!(d.os_version.as_deref(), Some("10.0.26100.2894"));
    assert_eq!(d.serial_number.as_deref(), Some("PF4XK21Q"));
    assert_eq!(d.compliance_state, Some(ComplianceState::Noncompliant));
    assert_eq!(
        d.last_sync_date_time,
        Some(Utc.with_ymd_and_hms(2026, 3, 2, 6, 41, 9).unwrap())
    );
    assert_eq!(
        d.entra_device_id(),
        Some("8f7e6d5c-4b3a-4291-8e7f-6a5b4c3d2e1f")
    );
    assert_eq!(d.manufacturer.as_deref(), Some("LENOVO"));
    assert_eq!(d.model.as_deref(), Some("ThinkPad T14 Gen 5"));
    assert_eq!(d.managed_device_owner_type, Some(OwnerType::Company));
    assert!(d.enrolled_date_time.is_some());
    assert_eq!(d.user_id, None, "not in the contract's example");
    fake.stop().await;
}

#[tokio::test]
async fn organization_from_the_contract() {
    let fake = Fake::start().await;
    serve(
        &fake,
        "/v1.0/organization",
        include_str!("fixtures/organization.json"),
    );
    let org = fake.client().organization(TENANT).await.expect("org");
    assert_eq!(org.id, TENANT);
    assert_eq!(org.display_name.as_deref(), Some("Northwind Traders Ltd"));
    assert_eq!(org.default_domain(), Some("northwindtraders.com"));
    assert_eq!(org.verified_domains.len(), 2);
    assert_eq!(org.verified_domains[1].is_initial, Some(true));
    assert_eq!(
        org.verified_domains[0].domain_type.as_deref(),
        Some("Managed")
    );
    assert_eq!(
        org.assigned_plans[0].service.as_deref(),
        Some("AADPremiumService")
    );
    fake.stop().await;
}

#[tokio::test]
async fn evidence_bodies_from_the_contract() {
    let fake = Fake::start().await;
    let client = fake.client();

    serve(
        &fake,
        "/v1.0/identity/conditionalAccess/policies",
        include_str!("fixtures/conditional_access_policies.json"),
    );
    let policies: Vec<ConditionalAccessPolicy> = client
        .conditional_access_policies(TENANT)
        .await
        .expect("policies");
    assert_eq!(policies.len(), 2);
    assert!(policies[0].requires_mfa() && policies[0].is_enforced());
    let users = policies[0]
        .conditions()
        .and_then(|c| c.users)
        .expect("users");
    assert_eq!(users.include_users, ["All"]);
    assert_eq!(users.exclude_users.len(), 1);
    assert_eq!(
        policies[1].state,
        Some(PolicyState::EnabledForReportingButNotEnforced)
    );
    assert_eq!(policies[1].created_date_time, None);
    assert!(!policies[1].requires_mfa());

    let url = serve(
        &fake,
        "/v1.0/reports/authenticationMethods/userRegistrationDetails?$skiptoken=a",
        include_str!("fixtures/user_registration_details.json"),
    );
    let rows = client
        .get_page::<UserRegistrationDetails>(TENANT, &url)
        .await
        .expect("report");
    assert_eq!(rows.items.len(), 2);
    assert_eq!(rows.items[0].is_mfa_registered, Some(true));
    assert_eq!(rows.items[0].methods_registered.len(), 2);
    assert_eq!(rows.items[1].is_admin, Some(true));
    assert_eq!(
        rows.items[1]
            .user_preferred_method_for_secondary_authentication
            .as_deref(),
        Some("none")
    );

    serve(
        &fake,
        "/v1.0/deviceManagement/deviceCompliancePolicies",
        include_str!("fixtures/compliance_policies.json"),
    );
    let compliance: Vec<DeviceCompliancePolicy> = client
        .device_compliance_policies(TENANT)
        .await
        .expect("compliance");
    assert_eq!(
        compliance[0].platform_type(),
        Some("windows10CompliancePolicy")
    );
    assert_eq!(compliance[0].version, Some(4));
    assert_eq!(
        compliance[0].settings.get("bitLockerEnabled"),
        Some(&serde_json::json!(true))
    );
    fake.stop().await;
}
