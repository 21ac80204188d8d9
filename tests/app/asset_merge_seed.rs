//! A company's merged Intune + Level estate written straight to the store, shaped as the Level
//! phase writes it (`domain::assets::stored::apply_records`), so the asset pages, the API and
//! the browser tests meet every case without a Level sync: a merged laptop, a review pair, a
//! Level-only server with an expired warranty, and an Intune-only laptop without an agent.
//! (The sync that produces such estates is tested end to end in tests/app/levelio*.)

use chrono::{DateTime, Duration, Utc};
use tenantry::domain::assets::stored::apply_records;
use tenantry::model::{
    Asset, AssetSource, IntuneRecord, LevelRecord, MatchRule, OpenReview, ReviewReason,
};

/// What [`seed`] wrote.
// Shared with tests/browser (through `#[path]`), which reads only some of the ids.
#[allow(dead_code)]
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// Both records, merged by serial.
    pub merged: u64,
    /// The review pair: an Intune-only and a Level-only asset.
    pub review_intune: u64,
    pub review_level: u64,
    /// `<intune id>|<level id>` of the pair.
    pub key: String,
    /// Level-only, warranty expired in 2020.
    pub server: u64,
    /// Intune-only Windows laptop.
    pub no_agent: u64,
}

fn intune(
    company_id: u64,
    id: &str,
    host: &str,
    serial: &str,
    seen: DateTime<Utc>,
) -> IntuneRecord {
    IntuneRecord {
        company_id,
        id: id.into(),
        hostname: host.into(),
        serial_number: serial.into(),
        os: "Windows".into(),
        os_version: "10.0.26100".into(),
        compliance_state: "compliant".into(),
        enrolled_at: Some(seen - Duration::days(300)),
        primary_user: Some("ada@contoso.example".into()),
        manufacturer: "Dell Inc.".into(),
        model: "Latitude 7440".into(),
        last_seen: Some(seen),
    }
}

fn level(
    company_id: u64,
    id: &str,
    host: &str,
    serial: &str,
    role: &str,
    warranty: &str,
    seen: DateTime<Utc>,
) -> LevelRecord {
    LevelRecord {
        company_id,
        id: id.into(),
        hostname: host.into(),
        serial_number: serial.into(),
        platform: "Windows".into(),
        role: role.into(),
        os: "Windows 11 Pro".into(),
        online: false,
        last_seen: Some(seen),
        last_reboot: None,
        security_score: Some(82),
        last_logged_in_user: Some("CONTOSO\\ada".into()),
        maintenance_mode: false,
        manufacturer: "Dell Inc.".into(),
        model: "Latitude 7440".into(),
        warranty: Some(warranty.into()),
    }
}

fn blank(id: u64, company_id: u64, now: DateTime<Utc>) -> Asset {
    Asset {
        id,
        company_id,
        hostname: String::new(),
        os: String::new(),
        os_version: String::new(),
        serial_number: String::new(),
        compliance_state: String::new(),
        last_check_in: None,
        primary_user_contact_id: None,
        active: true,
        sources: Vec::<AssetSource>::new(),
        updated_at: now,
        merge: Default::default(),
    }
}

/// Write the estate for `company_id` in one transaction.
pub async fn seed(s: &tenantry::domain::Services, company_id: u64) -> Seeded {
    let now = s.now();
    let seen = now - Duration::hours(2);
    s.store_handle()
        .write(move |w| {
            let c = company_id;
            let put = |w: &mut tenantry::store::Writer,
                       i: Option<IntuneRecord>,
                       l: Option<LevelRecord>,
                       rule: MatchRule,
                       review: bool|
             -> Result<u64, tenantry::store::StoreError> {
                let id = w.next_id("asset")?;
                let mut a = blank(id, c, now);
                apply_records(&mut a, i.as_ref(), l.as_ref(), rule, review, now);
                w.put_asset(&a)?;
                if let Some(i) = &i {
                    w.link_intune_device(c, &i.id, id)?;
                }
                if let Some(l) = &l {
                    w.link_level_device(c, &l.id, id)?;
                }
                Ok(id)
            };
            let merged = put(
                w,
                Some(intune(c, "intune-0001", "CON-LT-0001", "AB12CD34", seen)),
                Some(level(
                    c,
                    "lvl-0001",
                    "con-lt-0001.contoso.example",
                    "ab12 cd34",
                    "workstation",
                    "2031-06-30",
                    now,
                )),
                MatchRule::Serial,
                false,
            )?;
            let review_intune = put(
                w,
                Some(intune(c, "intune-vdi", "CON-VDI-HOST", "VMW-5566", seen)),
                None,
                MatchRule::Single,
                true,
            )?;
            let review_level = put(
                w,
                None,
                Some(level(
                    c,
                    "lvl-vdi-00",
                    "CON-VDI-00",
                    "VMW-5566",
                    "workstation",
                    "",
                    seen,
                )),
                MatchRule::Single,
                true,
            )?;
            let server = put(
                w,
                None,
                Some(level(
                    c,
                    "lvl-srv-01",
                    "CON-SRV-01",
                    "SRV0001",
                    "server",
                    "2020-01-31",
                    seen,
                )),
                MatchRule::Single,
                false,
            )?;
            let no_agent = put(
                w,
                Some(intune(c, "intune-0099", "CON-LT-0099", "ZZ99ZZ99", seen)),
                None,
                MatchRule::Single,
                false,
            )?;
            let pair = OpenReview {
                company_id: c,
                intune_id: "intune-vdi".into(),
                level_id: "lvl-vdi-00".into(),
                reason: ReviewReason::SerialSharedByMany,
                intune_asset: Some(review_intune),
                level_asset: Some(review_level),
                intune_hostname: "CON-VDI-HOST".into(),
                intune_serial: "VMW-5566".into(),
                level_hostname: "CON-VDI-00".into(),
                level_serial: "VMW-5566".into(),
                since: now,
            };
            w.put_review_item(&pair)?;
            Ok::<_, tenantry::store::StoreError>(Seeded {
                merged,
                review_intune,
                review_level,
                key: pair.key(),
                server,
                no_agent,
            })
        })
        .await
        .expect("seed the estate")
}
