//! The indexes against the algorithm they replace: every list read through an index must
//! equal what the old code (read the whole scope, filter, sort in memory, cut the page)
//! returns, on generated data with ties, empty fields, unicode, and changes between reads.

mod blocks;
mod bulk;
mod fields;
mod filters;
mod lists;
mod migration;
mod prebuild;
mod prefix;
mod search;
mod twins;

use crate::crypto::SecretBox;
use crate::model::{
    Asset, AuditEvent, Company, CompanyStatus, Contact, ContactGroup, Membership, NewAuditEvent,
    Outcome, RequestStatus, SupportRequest, TenantLink,
};
use crate::store::{Store, StoreError, Writer};
use chrono::{DateTime, TimeZone, Utc};
use redb::ReadableTable;

pub(super) fn store(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("t.redb"), SecretBox::from_key([5; 32])).expect("open")
}

/// A small deterministic generator (the same data every run).
pub(super) struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(6364136223846793005).wrapping_add(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub(super) fn time(minutes: u64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("time")
        + chrono::Duration::minutes(minutes as i64)
}

const FIRST: &[&str] = &[
    "Ada",
    "ada",
    "Zoë",
    "Zoe",
    "Émile",
    "émile",
    "Ångström",
    "Bob",
    "",
    "O'Brien",
    "李",
    "Anna-Lena",
];
const LAST: &[&str] = &["Lovelace", "Smith", "smith", "", "Ng", "Østergaard", "Zed"];
const DEPTS: &[&str] = &["Sales", "sales", "", "R&D", "Ops", "Über Team"];
const TITLES: &[&str] = &["", "Engineer", "engineer", "Lead", "CEO"];
const HOSTS: &[&str] = &[
    "LAPTOP-01",
    "laptop-01",
    "desk",
    "",
    "Mäc-Book",
    "srv.example",
];
const OSES: &[&str] = &["Windows", "windows", "macOS", "", "iOS"];
const COMPLIANCE: &[&str] = &[
    "compliant",
    "noncompliant",
    "",
    "inGracePeriod",
    "Compliant",
];

pub(super) fn contact(g: &mut Gen, company_id: u64, id: u64) -> Contact {
    let name = format!("{} {}", g.pick(FIRST), g.pick(LAST))
        .trim()
        .to_string();
    let email = if g.chance(15) {
        String::new()
    } else {
        format!("{}.{}@c{company_id}.example", g.pick(FIRST), g.below(40)).to_lowercase()
    };
    Contact {
        id,
        company_id,
        display_name: name,
        email,
        department: g.pick(DEPTS).into(),
        job_title: g.pick(TITLES).into(),
        upn: format!("u{}@c{company_id}.onmicrosoft.example", g.below(1000)),
        account_enabled: true,
        active: g.chance(80),
        is_guest: false,
        entra_object_id: Some(format!("oid-{id}")),
        created_at: time(0),
        updated_at: time(g.below(30)),
    }
}

pub(super) fn asset(g: &mut Gen, company_id: u64, id: u64, users: &[u64]) -> Asset {
    Asset {
        id,
        company_id,
        hostname: format!("{}{}", g.pick(HOSTS), if g.chance(50) { "" } else { "-x" }),
        os: g.pick(OSES).into(),
        os_version: String::new(),
        serial_number: if g.chance(20) {
            String::new()
        } else {
            format!("SN{}", g.below(300))
        },
        compliance_state: g.pick(COMPLIANCE).into(),
        last_check_in: (!g.chance(25)).then(|| time(g.below(20))),
        primary_user_contact_id: if users.is_empty() || g.chance(30) {
            None
        } else {
            Some(users[g.below(users.len() as u64) as usize])
        },
        active: g.chance(90),
        sources: Vec::new(),
        updated_at: time(g.below(10)),
        merge: Default::default(),
    }
}

pub(super) fn group(g: &mut Gen, company_id: u64, id: u64) -> ContactGroup {
    ContactGroup {
        id,
        company_id,
        display_name: format!("{} {}", g.pick(DEPTS), g.pick(TITLES))
            .trim()
            .into(),
        description: String::new(),
        mail_enabled: false,
        active: true,
        entra_object_id: None,
        member_count: g.below(5),
        updated_at: time(0),
    }
}

pub(super) fn company(g: &mut Gen, id: u64) -> Company {
    Company {
        id,
        name: format!("{} {}", g.pick(LAST), g.pick(FIRST)).trim().into(),
        domain: if g.chance(30) {
            String::new()
        } else {
            format!("c{}.example", g.below(5))
        },
        notes: String::new(),
        status: if g.chance(25) {
            CompanyStatus::Archived
        } else {
            CompanyStatus::Active
        },
        created_at: time(g.below(5)),
        updated_at: time(g.below(5)),
        archived_at: None,
        tenant: g.chance(50).then(|| TenantLink {
            tenant_id: format!("tenant-{id}"),
            tenant_name: String::new(),
            connected_at: time(0),
            connected: g.chance(50),
        }),
        exclude_guests: false,
    }
}

pub(super) fn request(g: &mut Gen, company_id: u64, id: u64, contacts: &[u64]) -> SupportRequest {
    SupportRequest {
        id,
        company_id,
        contact_id: contacts[g.below(contacts.len() as u64) as usize],
        contact_name: format!("{} {}", g.pick(FIRST), g.pick(LAST)),
        subject: format!(
            "{} {}",
            g.pick(HOSTS),
            g.pick(&["vpn drops", "Printer", "", "VPN"])
        ),
        description: String::new(),
        status: RequestStatus::ALL[g.below(5) as usize],
        created_at: time(g.below(8)),
        updated_at: time(g.below(8)),
        replies: Vec::new(),
        assignee: None,
        internal_notes: Vec::new(),
    }
}

pub(super) fn audit(g: &mut Gen, at: u64, companies: u64) -> NewAuditEvent {
    let kind = g.pick(&[
        "company.archive",
        "company",
        "sync.identity",
        "sync.identity.resync",
        "staff.sign_in",
    ]);
    let mut e = NewAuditEvent::new(time(at), crate::model::Actor::system(), kind, "x");
    if g.chance(70) {
        e = e.company(1 + g.below(companies));
    }
    if g.chance(30) {
        e.outcome = Outcome::Failure;
    }
    e
}

/// What a generated world holds, by company.
pub(super) struct World {
    pub companies: u64,
    pub contacts: Vec<(u64, u64)>,
    pub assets: Vec<(u64, u64)>,
}

/// Write a world: `sizes[i]` contacts in company i+1 (and as many assets, a few groups and
/// requests, some memberships), plus an audit log.
pub(super) fn seed(w: &mut Writer, g: &mut Gen, sizes: &[u64]) -> Result<World, StoreError> {
    let mut world = World {
        companies: sizes.len() as u64,
        contacts: Vec::new(),
        assets: Vec::new(),
    };
    let mut next = 1000;
    for (i, n) in sizes.iter().enumerate() {
        let cid = i as u64 + 1;
        w.put_company(&company(g, cid))?;
        let mut ids = Vec::new();
        for _ in 0..*n {
            next += 1;
            w.put_contact(&contact(g, cid, next))?;
            ids.push(next);
            world.contacts.push((cid, next));
        }
        for _ in 0..*n {
            next += 1;
            w.put_asset(&asset(g, cid, next, &ids))?;
            world.assets.push((cid, next));
        }
        let mut groups = Vec::new();
        for _ in 0..8 {
            next += 1;
            w.put_group(&group(g, cid, next))?;
            groups.push(next);
        }
        for c in &ids {
            for grp in &groups {
                if g.chance(20) {
                    w.put_membership(
                        Membership {
                            company_id: cid,
                            group_id: *grp,
                            contact_id: *c,
                        },
                        1,
                    )?;
                }
            }
        }
        if !ids.is_empty() {
            for _ in 0..30 {
                next += 1;
                w.put_request(&request(g, cid, next, &ids))?;
            }
        }
    }
    for at in 0..300 {
        w.append_audit(audit(g, at / 3, world.companies))?;
    }
    Ok(world)
}

/// Read every audit event from the log itself, oldest first (the reference for the filters).
pub(super) fn all_audit(s: &Store) -> Vec<AuditEvent> {
    s.read_blocking(|r| {
        r.table(crate::store::tables::AUDIT)?
            .iter()?
            .map(|row| crate::store::codec::dec(row?.1.value()))
            .collect::<Result<Vec<AuditEvent>, StoreError>>()
    })
    .expect("audit")
}
