//! Golden snapshots of the compliance answers.

use super::*;
use crate::web::api::types::golden::{assert_json, at};

pub(crate) fn sample() -> model::Assessment {
    model::Assessment {
        company_id: 4,
        snapshot_id: 9,
        collected_at: at(15),
        previous_snapshot_id: Some(8),
        licences: Some(model::Licences {
            entra_p1: true,
            entra_p2: false,
            intune: true,
            source: "subscribed_skus".into(),
            skus: vec![("SPE_E3".into(), "Enabled".into())],
        }),
        security_defaults: Some(false),
        permission_problems: vec![],
        controls: vec![model::ControlResult {
            id: "mfa_all_users".into(),
            title: "MFA required for all users".into(),
            status: model::ControlStatus::Pass,
            summary: "Enabled policy Require MFA covers all users and apps.".into(),
            facts: vec![model::Fact {
                label: "Excluded users".into(),
                items: vec![model::FactItem {
                    text: "Break Glass (bg@contoso.example)".into(),
                    asset_id: None,
                    contact_id: Some(31),
                }],
            }],
            percent: None,
            drift: vec![],
            frameworks: vec![model::FrameworkRef {
                framework: "soc2".into(),
                control_id: "CC6.1".into(),
                title: "Logical access security".into(),
            }],
        }],
        scores: vec![model::FrameworkScore {
            framework: "soc2".into(),
            name: "SOC 2".into(),
            passing: 1,
            evaluable: 1,
            not_licensed: 0,
            not_collected: 0,
            manual: 0,
            percent: Some(100),
        }],
        payloads: vec![model::PayloadHash {
            source: "subscribedSkus".into(),
            pages: 1,
            sha256: "ab".repeat(32),
            request_id: Some("r-1".into()),
            http_status: 200,
        }],
    }
}

#[test]
fn the_compliance_answer_has_its_shape() {
    let c = Compliance::new(sample(), Some("soc2")).with_job(Some(77));
    let sha = "ab".repeat(32);
    assert_json(
        &c,
        &format!(
            r#"
{{
  "company_id": 4,
  "framework": "soc2",
  "snapshot": {{
    "id": 9,
    "collected_at": "2026-01-31T08:15:00Z",
    "job_id": 77,
    "previous_snapshot_id": 8
  }},
  "licences": {{
    "entra_p1": true,
    "entra_p2": false,
    "intune": true,
    "source": "subscribed_skus",
    "skus": [
      {{
        "sku": "SPE_E3",
        "status": "Enabled"
      }}
    ]
  }},
  "security_defaults": false,
  "permission_problems": [],
  "controls": [
    {{
      "id": "mfa_all_users",
      "title": "MFA required for all users",
      "status": "pass",
      "status_label": "Pass",
      "summary": "Enabled policy Require MFA covers all users and apps.",
      "percent": null,
      "facts": [
        {{
          "label": "Excluded users",
          "items": [
            {{
              "text": "Break Glass (bg@contoso.example)",
              "contact_id": 31,
              "asset_id": null
            }}
          ]
        }}
      ],
      "drift": [],
      "frameworks": [
        {{
          "framework": "soc2",
          "control_id": "CC6.1",
          "title": "Logical access security"
        }}
      ]
    }}
  ],
  "score": {{
    "framework": "soc2",
    "name": "SOC 2",
    "percent": 100,
    "passing": 1,
    "evaluable": 1,
    "not_licensed": 0,
    "not_collected": 0,
    "manual": 0
  }},
  "scores": [
    {{
      "framework": "soc2",
      "name": "SOC 2",
      "percent": 100,
      "passing": 1,
      "evaluable": 1,
      "not_licensed": 0,
      "not_collected": 0,
      "manual": 0
    }}
  ],
  "payloads": [
    {{
      "source": "subscribedSkus",
      "pages": 1,
      "sha256": "{sha}",
      "request_id": "r-1",
      "http_status": 200
    }}
  ]
}}"#
        ),
    );
    // Without a framework there is no single score.
    assert!(Compliance::new(sample(), None).score.is_none());
}

#[test]
fn sources_say_why_evidence_is_missing() {
    let lic: model::Collected<bool> = model::Collected::NotLicensed {
        reason: "No Entra ID P1".into(),
        graph_code: Some("Authentication_RequestFromNonPremiumTenantOrB2CTenant".into()),
    };
    let s = SourceState::of("registration", &lic);
    assert_eq!(s.state, "not_licensed");
    assert_eq!(
        s.detail,
        "No Entra ID P1 (Authentication_RequestFromNonPremiumTenantOrB2CTenant)"
    );
    let perm: model::Collected<bool> = model::Collected::MissingPermission {
        permission: "Policy.Read.All".into(),
        graph_code: None,
    };
    assert_eq!(
        SourceState::of("conditional_access", &perm).detail,
        "grant Policy.Read.All and consent again"
    );
}

#[test]
fn the_overview_and_settings_have_their_shapes() {
    let o = Overview {
        controls: vec!["mfa_all_users".into()],
        items: vec![
            model::OverviewRow {
                company_id: 4,
                company_name: "Contoso".into(),
                collected_at: None,
                statuses: BTreeMap::from([(
                    "mfa_all_users".to_string(),
                    model::ControlStatus::NotLicensed,
                )]),
                failing: 0,
                not_collected: 0,
            }
            .into(),
        ],
        total: 1,
    };
    assert_json(
        &o,
        r#"
{
  "controls": [
    "mfa_all_users"
  ],
  "items": [
    {
      "company_id": 4,
      "company_name": "Contoso",
      "collected_at": null,
      "statuses": {
        "mfa_all_users": "not_licensed"
      },
      "failing": 0,
      "not_collected": 0
    }
  ],
  "total": 1
}"#,
    );
    let s = EvidenceSettings::new(
        model::EvidenceSettings::default(),
        vec![model::FrameworkInfo {
            id: "hipaa".into(),
            name: "HIPAA Security Rule".into(),
        }],
    );
    assert_json(
        &s,
        r#"
{
  "frameworks": [],
  "thresholds": {
    "mfa_registration_pct": 95,
    "device_compliance_pct": 90
  },
  "available_frameworks": [
    {
      "id": "hipaa",
      "name": "HIPAA Security Rule"
    }
  ]
}"#,
    );
}
