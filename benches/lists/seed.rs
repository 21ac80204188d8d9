//! Seeding for the lists bench: companies of generated contacts (and a tenth as many
//! assets), written through the store's `Writer` as sync writes them.

use tenantry::model::{Asset, Company, CompanyStatus, Contact};
use tenantry::store::{Store, StoreError, Writer, keys};

const FIRST: &[&str] = &[
    "Ada", "Bob", "Chloé", "Dev", "Émile", "Farah", "Gus", "Hana", "Ivo", "Jo",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Smith",
    "Ng",
    "Østergaard",
    "Okafor",
    "Tanaka",
    "Weber",
];
const DEPTS: &[&str] = &["Sales", "R&D", "Ops", "Finance", ""];

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// Write one company with `contacts` contacts and a tenth as many assets, in transactions of
/// 5,000 records. Returns the company id and its first 50 contact ids (for the floor).
pub fn seed_company(
    store: &Store,
    name: &str,
    contacts: u64,
) -> Result<(u64, Vec<u64>), StoreError> {
    let company = store.write_blocking(|w: &mut Writer| {
        let id = w.next_id(keys::seq::COMPANY)?;
        w.put_company(&Company {
            id,
            name: name.into(),
            domain: format!("c{id}.example"),
            notes: String::new(),
            status: CompanyStatus::Active,
            created_at: now(),
            updated_at: now(),
            archived_at: None,
            tenant: None,
            exclude_guests: false,
        })?;
        Ok::<_, StoreError>(id)
    })?;
    let mut first = Vec::new();
    let mut done = 0u64;
    while done < contacts {
        let n = (contacts - done).min(5_000);
        let ids = store.write_blocking(|w: &mut Writer| {
            let mut ids = Vec::new();
            for i in done..done + n {
                let id = w.next_id(keys::seq::CONTACT)?;
                let (f, l) = (FIRST[(i % 10) as usize], LAST[((i / 10) % 7) as usize]);
                w.put_contact(&Contact {
                    id,
                    company_id: company,
                    display_name: format!("{f} {l} {i}"),
                    email: format!(
                        "{}.{}{i}@c{company}.example",
                        f.to_lowercase(),
                        l.to_lowercase()
                    ),
                    department: DEPTS[(i % 5) as usize].into(),
                    job_title: format!("Role {}", i % 37),
                    upn: format!("u{i}@c{company}.onmicrosoft.example"),
                    account_enabled: true,
                    active: i % 13 != 0,
                    is_guest: false,
                    entra_object_id: Some(format!("oid-{company}-{i}")),
                    created_at: now(),
                    updated_at: now() + chrono::Duration::seconds((i % 997) as i64),
                })?;
                if i % 10 == 0 {
                    let aid = w.next_id(keys::seq::ASSET)?;
                    w.put_asset(&Asset {
                        id: aid,
                        company_id: company,
                        hostname: format!("PC-{i:06}"),
                        os: ["Windows", "macOS", "iOS"][(i % 3) as usize].into(),
                        os_version: String::new(),
                        serial_number: format!("SN{i:08}"),
                        // One device in seven noncompliant: the filtered row's list.
                        compliance_state: if (i / 10) % 7 == 0 {
                            "noncompliant"
                        } else {
                            "compliant"
                        }
                        .into(),
                        last_check_in: Some(now()),
                        primary_user_contact_id: Some(id),
                        active: true,
                        sources: Vec::new(),
                        updated_at: now(),
                        merge: Default::default(),
                    })?;
                }
                ids.push(id);
            }
            Ok::<_, StoreError>(ids)
        })?;
        if first.len() < 50 {
            first.extend(ids.into_iter().take(50 - first.len()));
        }
        done += n;
    }
    Ok((company, first))
}
