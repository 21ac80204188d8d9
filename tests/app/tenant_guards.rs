//! The MSP's own tenant and its clients' tenants never mix: a client's tenant cannot become
//! the MSP tenant, and the MSP tenant cannot become a client company's. Each refusal says why
//! and is in the audit log.

use crate::sync_helpers::*;
use tenantry::domain::DomainError;
use tenantry::model::{Actor, AuditFilter};

async fn refusals(env: &SyncEnv, kind: &str) -> Vec<String> {
    env.services()
        .audit_page(
            AuditFilter {
                kind: Some(kind.into()),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .expect("audit")
        .items
        .into_iter()
        .filter(|e| e.outcome.as_str() == "failure")
        .map(|e| e.summary)
        .collect()
}

#[tokio::test]
async fn msp_connect_refuses_a_tenant_already_linked_to_a_client_company() {
    let env = sync_env().await;
    let contoso = env.tenant("Contoso Dental", 3, 0, false);
    let company = env.company("Contoso Dental").await;
    env.services()
        .connect_company_tenant(Actor::system(), company, &contoso.id, None)
        .await
        .expect("client connects");
    let err = env
        .services()
        .connect_msp_tenant(Actor::staff("admin@example.com"), &contoso.id)
        .await
        .expect_err("a client's tenant is not the MSP tenant");
    let DomainError::Conflict(reason) = err else {
        panic!("a conflict with a reason, got {err:?}")
    };
    assert!(
        reason.contains("client company Contoso Dental")
            && reason.contains("cannot be your MSP tenant"),
        "{reason}"
    );
    assert!(
        env.services().msp_tenant().await.expect("read").is_none(),
        "nothing stored"
    );
    assert!(
        refusals(&env, "tenant.consent")
            .await
            .iter()
            .any(|s| s == &reason),
        "the refusal is audited"
    );
}

#[tokio::test]
async fn a_company_cannot_be_connected_to_the_msp_tenant() {
    let env = sync_env().await;
    let northwind = env.tenant("Northwind IT", 3, 0, false);
    env.services()
        .connect_msp_tenant(Actor::system(), &northwind.id)
        .await
        .expect("MSP tenant connects");
    let company = env.company("Northwind again").await;
    let err = env
        .services()
        .connect_company_tenant(
            Actor::staff("admin@example.com"),
            company,
            &northwind.id,
            None,
        )
        .await
        .expect_err("the MSP tenant is not a client's");
    let DomainError::Conflict(reason) = err else {
        panic!("a conflict with a reason, got {err:?}")
    };
    assert!(reason.contains("is your MSP tenant"), "{reason}");
    let c = env.services().company(company).await.expect("company");
    assert!(c.tenant.is_none(), "nothing linked");
    assert!(
        refusals(&env, "tenant.connect")
            .await
            .iter()
            .any(|s| s == &reason),
        "the refusal is audited"
    );
}
