//! The merge rules over crafted estates, one row per situation: the exact assets (id, records,
//! rule), review items, retirements and absorptions each must produce.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::identity::{hostname_key, serial_key};
use super::merge::{MergeInput, merge};
use crate::model::{
    ExistingAsset, IntuneRecord, LevelRecord, MatchRule, PairDecision, PairDecisionKind,
    ReviewReason, SourceKind,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn i(id: &str, host: &str, serial: &str, os: &str) -> IntuneRecord {
    IntuneRecord {
        company_id: 1,
        id: id.into(),
        hostname: host.into(),
        serial_number: serial.into(),
        os: os.into(),
        os_version: "10.0.26100".into(),
        compliance_state: "compliant".into(),
        manufacturer: "LENOVO".into(),
        model: "ThinkPad T14".into(),
        last_seen: Some(now() - Duration::hours(2)),
        ..Default::default()
    }
}

fn l(id: &str, host: &str, serial: &str, platform: &str) -> LevelRecord {
    LevelRecord {
        company_id: 1,
        id: id.into(),
        hostname: host.into(),
        serial_number: serial.into(),
        platform: platform.into(),
        role: "workstation".into(),
        online: false,
        last_seen: Some(now() - Duration::hours(5)),
        manufacturer: "Lenovo".into(),
        model: "20XX".into(),
        ..Default::default()
    }
}

fn linked(asset: u64, intune: Option<&str>, level: Option<&str>) -> ExistingAsset {
    ExistingAsset {
        company_id: 1,
        asset_id: asset,
        intune_id: intune.map(str::to_string),
        level_id: level.map(str::to_string),
    }
}

fn decide(intune: &str, level: &str, kind: PairDecisionKind) -> PairDecision {
    PairDecision {
        company_id: 1,
        intune_id: intune.into(),
        level_id: level.into(),
        kind,
    }
}

type Row = (
    Option<u64>,
    Option<&'static str>,
    Option<&'static str>,
    MatchRule,
);

struct Case {
    name: &'static str,
    intune: Vec<IntuneRecord>,
    level: Vec<LevelRecord>,
    existing: Vec<ExistingAsset>,
    decisions: Vec<PairDecision>,
    assets: Vec<Row>,
    review: Vec<(&'static str, &'static str, ReviewReason)>,
    retired: Vec<u64>,
    absorbed: Vec<(u64, u64)>,
}

fn case(name: &'static str) -> Case {
    Case {
        name,
        intune: vec![],
        level: vec![],
        existing: vec![],
        decisions: vec![],
        assets: vec![],
        review: vec![],
        retired: vec![],
        absorbed: vec![],
    }
}

const JUNK: [&str; 20] = [
    "",
    "0",
    "000000",
    "......",
    "To be filled by O.E.M.",
    "Default string",
    "System Serial Number",
    "System Product Name",
    "Not Specified",
    "Not Applicable",
    "None",
    "N/A",
    "Unknown",
    "Invalid",
    "-",
    "0123456789",
    "123456789",
    "Chassis Serial Number",
    " to be filled by o.e.m. ",
    "\u{7}\u{0}",
];

fn cases() -> Vec<Case> {
    use MatchRule::*;
    use PairDecisionKind::*;
    use ReviewReason::*;
    let mut v = Vec::new();

    let mut c = case("rule 1+2: serial matches across case, spacing and separators");
    c.intune = vec![i("i1", "CON-LT-0001", "ab12cd34", "Windows")];
    c.level = vec![l(
        "l1",
        "con-lt-0001.contoso.example",
        " AB12-CD34 ",
        "Windows",
    )];
    c.assets = vec![(None, Some("i1"), Some("l1"), Serial)];
    v.push(c);

    let mut c = case("rule 1: every junk serial is no serial (hostnames differ: nothing matches)");
    for (n, j) in JUNK.iter().enumerate() {
        c.intune.push(i(
            leak(format!("i{n}")),
            leak(format!("INTUNE-{n}")),
            j,
            "Windows",
        ));
        c.level.push(l(
            leak(format!("l{n}")),
            leak(format!("LEVEL-{n}")),
            j,
            "Windows",
        ));
    }
    for n in 0..JUNK.len() {
        c.assets
            .push((None, Some(leak(format!("i{n}"))), None, Single));
        c.assets
            .push((None, None, Some(leak(format!("l{n}"))), Single));
    }
    v.push(c);

    let mut c = case("rule 1+3: a junk serial pair is resolved by hostname");
    c.intune = vec![i("i1", "RECEPTION-PC", "Default string", "Windows")];
    c.level = vec![l("l1", "reception-pc", "To be filled by O.E.M.", "Windows")];
    c.assets = vec![(None, Some("i1"), Some("l1"), Hostname)];
    v.push(c);

    let mut c = case("rule 1: a serial two Intune devices report is not unique → review");
    c.intune = vec![
        i("i1", "OLD-ENROLMENT", "DUPL1234", "Windows"),
        i("i2", "NEW-ENROLMENT", "DUPL1234", "Windows"),
    ];
    c.level = vec![l("l1", "THIRD-NAME", "dupl-1234", "Windows")];
    c.assets = vec![
        (None, Some("i1"), None, Single),
        (None, Some("i2"), None, Single),
        (None, None, Some("l1"), Single),
    ];
    c.review = vec![
        ("i1", "l1", SerialSharedByMany),
        ("i2", "l1", SerialSharedByMany),
    ];
    v.push(c);

    let mut c = case("rule 2: a VM serial on two Level devices is sent to review, not guessed");
    c.intune = vec![i("i1", "CON-LT-0045", "VMware-56 4d 9a", "Windows")];
    c.level = vec![
        l("l1", "CON-VDI-00", "VMware-56 4d 9a", "Windows"),
        l("l2", "CON-VDI-01", "VMware-56 4d 9a", "Windows"),
    ];
    c.assets = vec![
        (None, Some("i1"), None, Single),
        (None, None, Some("l1"), Single),
        (None, None, Some("l2"), Single),
    ];
    c.review = vec![
        ("i1", "l1", SerialSharedByMany),
        ("i1", "l2", SerialSharedByMany),
    ];
    v.push(c);

    let mut c = case("rule 2+3: a shared serial the hostname settles is merged by hostname");
    c.intune = vec![i("i1", "CON-VDI-01", "VMSERIAL9", "Windows")];
    c.level = vec![
        l("l1", "CON-VDI-00", "VMSERIAL9", "Windows"),
        l("l2", "con-vdi-01", "VMSERIAL9", "Windows"),
    ];
    c.assets = vec![
        (None, Some("i1"), Some("l2"), Hostname),
        (None, None, Some("l1"), Single),
    ];
    v.push(c);

    let mut c = case("rule 2: a renamed machine still matches by serial (same platform)");
    c.intune = vec![i("i1", "OLD-NAME", "SER00001", "Windows")];
    c.level = vec![l("l1", "NEW-NAME", "ser00001", "Windows")];
    c.assets = vec![(None, Some("i1"), Some("l1"), Serial)];
    v.push(c);

    let mut c = case("rule 3: serial matches but hostname and platform differ → review");
    c.intune = vec![i("i1", "Anna's iPad", "DMPXK2", "iOS")];
    c.level = vec![l("l1", "CON-SRV-01", "DMPXK2", "Linux")];
    c.assets = vec![
        (None, Some("i1"), None, Single),
        (None, None, Some("l1"), Single),
    ];
    c.review = vec![("i1", "l1", SerialMatchButHostAndPlatformDiffer)];
    v.push(c);

    let mut c = case("rule 3: hostname with DNS suffix and NetBIOS truncation, no serials");
    c.intune = vec![i("i1", "CONTOSO-RECEPTION-01", "", "Windows")];
    c.level = vec![l("l1", "contoso-recepti.corp.local", "0", "Windows")];
    c.assets = vec![(None, Some("i1"), Some("l1"), Hostname)];
    v.push(c);

    let mut c = case("rule 3: a hostname tie goes to review");
    c.intune = vec![
        i("i1", "FRONTDESK", "", "Windows"),
        i("i2", "frontdesk", "N/A", "Windows"),
    ];
    c.level = vec![l("l1", "FrontDesk.local", "", "Windows")];
    c.assets = vec![
        (None, Some("i1"), None, Single),
        (None, Some("i2"), None, Single),
        (None, None, Some("l1"), Single),
    ];
    c.review = vec![("i1", "l1", HostnameTie), ("i2", "l1", HostnameTie)];
    v.push(c);

    let mut c = case("rule 3: same hostname but two valid, different serials → review");
    c.intune = vec![i("i1", "PC-1", "AAAA1111", "Windows")];
    c.level = vec![l("l1", "PC-1", "BBBB2222", "Windows")];
    c.assets = vec![
        (None, Some("i1"), None, Single),
        (None, None, Some("l1"), Single),
    ];
    c.review = vec![("i1", "l1", HostnameMatchSerialsDiffer)];
    v.push(c);

    let mut c = case("rule 4: never across companies, even with serial and hostname equal");
    c.intune = vec![i("i1", "DESKTOP-1A2B3C", "SAME0001", "Windows")];
    let mut other = l("l1", "DESKTOP-1A2B3C", "SAME0001", "Windows");
    other.company_id = 2;
    c.level = vec![other];
    c.assets = vec![
        (None, Some("i1"), None, Single),
        (None, None, Some("l1"), Single),
    ];
    v.push(c);

    let mut c = case("rule 0: a linked pair stays linked when serial and hostname change");
    c.intune = vec![i("i1", "RENAMED", "NEWSER01", "Windows")];
    c.level = vec![
        l("l1", "OLDNAME", "OLDSER01", "Windows"),
        l("l2", "RENAMED", "NEWSER01", "Windows"),
    ];
    c.existing = vec![linked(7, Some("i1"), Some("l1"))];
    c.assets = vec![
        (Some(7), Some("i1"), Some("l1"), Linked),
        (None, None, Some("l2"), Single),
    ];
    v.push(c);

    let mut c = case("rule 6: existing single-source duplicates merge, the older id survives");
    c.intune = vec![i("i1", "CON-LT-0002", "SER00002", "Windows")];
    c.level = vec![l("l1", "con-lt-0002", "SER00002", "Windows")];
    c.existing = vec![linked(5, None, Some("l1")), linked(3, Some("i1"), None)];
    c.assets = vec![(Some(3), Some("i1"), Some("l1"), Serial)];
    c.absorbed = vec![(5, 3)];
    v.push(c);

    let mut c = case("rule 6: an unmerged pair never auto-merges again and is not reviewed");
    c.intune = vec![i("i1", "CON-LT-0003", "SER00003", "Windows")];
    c.level = vec![l("l1", "CON-LT-0003", "SER00003", "Windows")];
    c.existing = vec![linked(3, Some("i1"), None), linked(9, None, Some("l1"))];
    c.decisions = vec![decide("i1", "l1", KeepApart)];
    c.assets = vec![
        (Some(3), Some("i1"), None, Single),
        (Some(9), None, Some("l1"), Single),
    ];
    v.push(c);

    let mut c = case("rule 6: a manual merge is remembered although nothing matches");
    c.intune = vec![i("i1", "LAPTOP-A", "AAAA0001", "Windows")];
    c.level = vec![l("l1", "WORKSHOP-7", "BBBB0002", "Windows")];
    c.existing = vec![linked(4, Some("i1"), None), linked(6, None, Some("l1"))];
    c.decisions = vec![decide("i1", "l1", Merge)];
    c.assets = vec![(Some(4), Some("i1"), Some("l1"), Manual)];
    c.absorbed = vec![(6, 4)];
    v.push(c);

    let mut c = case("rule 7: removed from Intune, the asset keeps its Level record");
    c.level = vec![l("l1", "CON-LT-0004", "SER00004", "Windows")];
    c.existing = vec![linked(4, Some("i-gone"), Some("l1"))];
    c.assets = vec![(Some(4), None, Some("l1"), Single)];
    v.push(c);

    let mut c = case("rule 7: removed from both sources, the asset is retired (kept inactive)");
    c.intune = vec![i("i2", "OTHER", "SER00005", "Windows")];
    c.existing = vec![
        linked(4, Some("i1"), Some("l1")),
        linked(8, Some("i2"), None),
    ];
    c.assets = vec![(Some(8), Some("i2"), None, Single)];
    c.retired = vec![4];
    v.push(c);

    let mut c = case("Intune-only phone and Level-only server stay single-source");
    c.intune = vec![i("i1", "Anna's iPhone", "F2LXK3", "iOS")];
    let mut srv = l("l1", "CON-SRV-00", "SRV0001", "Windows");
    srv.role = "server".into();
    c.level = vec![srv];
    c.assets = vec![
        (None, Some("i1"), None, Single),
        (None, None, Some("l1"), Single),
    ];
    v.push(c);
    v
}

/// Test ids built in loops need `'static` lifetimes to sit in the expectation rows.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn every_rule_produces_the_exact_assets_review_items_and_retirements() {
    for c in cases() {
        let out = merge(&MergeInput {
            now: now(),
            intune: &c.intune,
            level: &c.level,
            existing: &c.existing,
            decisions: &c.decisions,
        });
        let mut got: Vec<String> = out
            .assets
            .iter()
            .map(|a| {
                format!(
                    "{:?} {:?} {:?} {:?}",
                    a.asset_id, a.intune_id, a.level_id, a.rule
                )
            })
            .collect();
        let mut want: Vec<String> = c
            .assets
            .iter()
            .map(|(a, i, l, r)| {
                format!(
                    "{a:?} {:?} {:?} {r:?}",
                    i.map(str::to_string),
                    l.map(str::to_string)
                )
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}: assets", c.name);
        let got: Vec<(String, String, ReviewReason)> = out
            .review
            .iter()
            .map(|r| (r.intune_id.clone(), r.level_id.clone(), r.reason))
            .collect();
        let want: Vec<(String, String, ReviewReason)> = c
            .review
            .iter()
            .map(|(i, l, r)| (i.to_string(), l.to_string(), *r))
            .collect();
        assert_eq!(got, want, "{}: review", c.name);
        assert_eq!(out.retired, c.retired, "{}: retired", c.name);
        assert_eq!(out.absorbed, c.absorbed, "{}: absorbed", c.name);
    }
}

fn provenance(
    out: &crate::model::MergeOutcome,
) -> std::collections::BTreeMap<String, (String, SourceKind)> {
    out.assets[0]
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), (v.value.clone(), v.source)))
        .collect()
}

#[test]
fn rule_5_each_field_comes_from_its_owner_and_shared_fields_from_the_latest_source() {
    let mut a = i("i1", "CON-LT-0001", "AB12CD34", "Windows");
    a.primary_user = Some("anna@contoso.example".into());
    a.enrolled_at = Some(now() - Duration::days(100));
    let mut b = l("l1", "con-lt-0001", "ab12-cd34", "Windows");
    b.online = true;
    b.last_seen = Some(now() - Duration::minutes(1)); // Level saw it last
    b.security_score = Some(87);
    b.last_logged_in_user = Some("CON\\anna".into());
    b.maintenance_mode = true;
    b.warranty = Some("2027-03-14".into());
    b.os = "Microsoft Windows 11 Pro 24H2".into();
    let input = |a: &IntuneRecord, b: &LevelRecord| {
        merge(&MergeInput {
            now: now(),
            intune: std::slice::from_ref(a),
            level: std::slice::from_ref(b),
            existing: &[],
            decisions: &[],
        })
    };
    let out = input(&a, &b);
    let s = |v: &str, k: SourceKind| (v.to_string(), k);
    let mut want = std::collections::BTreeMap::new();
    for (k, v, src) in [
        ("compliance_state", "compliant", SourceKind::Intune),
        ("os", "Windows", SourceKind::Intune),
        ("os_version", "10.0.26100", SourceKind::Intune),
        ("primary_user", "anna@contoso.example", SourceKind::Intune),
        ("online", "true", SourceKind::Level),
        ("platform", "Windows", SourceKind::Level),
        ("role", "workstation", SourceKind::Level),
        ("security_score", "87", SourceKind::Level),
        ("last_logged_in_user", "CON\\anna", SourceKind::Level),
        ("maintenance_mode", "true", SourceKind::Level),
        ("warranty_end", "2027-03-14", SourceKind::Level),
        ("hostname", "con-lt-0001", SourceKind::Level),
        ("serial_number", "ab12-cd34", SourceKind::Level),
        ("manufacturer", "Lenovo", SourceKind::Level),
        ("model", "20XX", SourceKind::Level),
    ] {
        want.insert(k.to_string(), s(v, src));
    }
    let enrolled = (now() - Duration::days(100)).to_rfc3339();
    want.insert("enrolled_at".into(), s(&enrolled, SourceKind::Intune));
    let synced = (now() - Duration::hours(2)).to_rfc3339();
    want.insert("intune_last_sync".into(), s(&synced, SourceKind::Intune));
    let seen = (now() - Duration::minutes(1)).to_rfc3339();
    want.insert("agent_last_seen".into(), s(&seen, SourceKind::Level));
    assert_eq!(provenance(&out), want);
    let f = &out.assets[0].fields;
    assert_eq!(f["hostname"].seen_at, Some(now() - Duration::minutes(1)));
    assert_eq!(
        f["compliance_state"].seen_at,
        Some(now() - Duration::hours(2))
    );

    // Level without last_seen_at, offline, last rebooted long ago: Intune is more recent and
    // gives the shared fields; a blank Intune model falls back to Level's.
    b.last_seen = None;
    b.online = false;
    b.last_reboot = Some(now() - Duration::days(3));
    a.model = String::new();
    let p = provenance(&input(&a, &b));
    assert_eq!(p["hostname"], s("CON-LT-0001", SourceKind::Intune));
    assert_eq!(p["serial_number"], s("AB12CD34", SourceKind::Intune));
    assert_eq!(p["model"], s("20XX", SourceKind::Level));
    assert!(
        !p.contains_key("agent_last_seen"),
        "no last_seen_at, nothing invented"
    );
    // An online agent without last_seen_at counts as seen now.
    b.online = true;
    let out = input(&a, &b);
    assert_eq!(out.assets[0].fields["hostname"].source, SourceKind::Level);
    assert_eq!(out.assets[0].fields["online"].seen_at, Some(now()));
}

#[test]
fn serial_and_hostname_keys_follow_the_normalisation_rules() {
    assert_eq!(serial_key(" ab12-cd34 ").as_deref(), Some("AB12CD34"));
    assert_eq!(serial_key("AB 12:CD.34").as_deref(), Some("AB12CD34"));
    assert_eq!(serial_key("ab12\u{200b}cd34").as_deref(), Some("AB12CD34"));
    for j in JUNK {
        assert_eq!(serial_key(j), None, "{j:?} is junk");
    }
    assert_eq!(serial_key("AAAAAAAB").as_deref(), Some("AAAAAAAB"));
    assert_eq!(
        hostname_key("CON-LT-0001.contoso.example").as_deref(),
        Some("con-lt-0001")
    );
    assert_eq!(
        hostname_key("CONTOSO-RECEPTION-01"),
        hostname_key("contoso-recepti")
    );
    assert_eq!(hostname_key("  "), None);
}
