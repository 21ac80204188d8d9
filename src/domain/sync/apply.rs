//! Applying one page of directory changes inside one write transaction. Pure storage logic
//! over the model's delta types: the Graph client is not involved, so this is tested alone.

use super::staged::{IdBlock, Written};
use crate::model::{
    Asset, AssetSource, ChangeCounts, Contact, ContactGroup, DeviceRecord, GroupDelta, Membership,
    UserDelta,
};
use crate::store::{ListKind, StoreError, Writer, keys};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// Company-level choices that shape what a sync stores.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncPolicy {
    /// Guests (`#EXT#` accounts, userType Guest) are not synced as contacts.
    pub exclude_guests: bool,
}

fn is_guest(user_type: &str, upn: &str) -> bool {
    user_type.eq_ignore_ascii_case("guest") || upn.contains("#EXT#")
}

/// Apply users: create, update (only the properties sent), or deactivate (`@removed`,
/// disabled accounts). Contacts are never deleted.
///
/// Works on a batch of pages: the object-id index is read for the whole batch at once, new
/// contacts' ids are taken at once, and the index is written once at the end, so a user
/// costs one index lookup and, when it changed, one contact write. A user seen twice in the
/// batch (Graph may replay an object within a round) is applied to what its first
/// occurrence wrote.
pub fn apply_users(
    w: &mut Writer,
    company_id: u64,
    round: u64,
    users: Vec<UserDelta>,
    policy: SyncPolicy,
    now: DateTime<Utc>,
) -> Result<ChangeCounts, StoreError> {
    let mut counts = ChangeCounts::default();
    // A company's first sync writes its contacts without their list entries, which are
    // built once at the round's end (`finish_users_round`, store `index/bulk.rs`).
    w.defer_lists_if_empty(company_id, ListKind::Contacts)?;
    let indexed = w.contact_index_entries(company_id, users.iter().map(|u| u.oid.as_str()))?;
    let new_oids: HashSet<&str> = users
        .iter()
        .zip(&indexed)
        .filter(|(u, found)| found.is_none() && !u.removed)
        .map(|(u, _)| u.oid.as_str())
        .collect();
    let mut ids = IdBlock::reserve(w, keys::seq::CONTACT, new_oids.len() as u64)?;
    drop(new_oids);
    // Object id → contact id of every user this batch stored or saw: stamped with the round
    // at the end, and how a repeated user finds what its first occurrence wrote.
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(users.len());
    // The contacts to write, each once, written together at the end (`put_contacts`); a
    // repeated user reads what its first occurrence left here rather than in the store.
    let mut out: Written<Contact> = Written::default();
    for (u, found) in users.into_iter().zip(indexed) {
        let known = seen.get(&u.oid).copied().or(found.map(|(id, _)| id));
        let existing = match known {
            Some(id) => match out.get(id) {
                Some(c) => Some(c.clone()),
                None => w.contact(company_id, id)?,
            },
            None => None,
        };
        if u.removed {
            if let Some(mut c) = existing {
                let id = c.id;
                if c.active {
                    c.active = false;
                    c.updated_at = now;
                    out.put(id, c);
                    counts.deactivated += 1;
                }
                seen.insert(u.oid, id);
            }
            continue;
        }
        let (mut c, is_new) = match existing {
            Some(c) => (c, false),
            None => {
                let id = ids.take(w)?;
                let c = Contact {
                    id,
                    company_id,
                    display_name: String::new(),
                    email: String::new(),
                    department: String::new(),
                    job_title: String::new(),
                    upn: String::new(),
                    account_enabled: true,
                    active: true,
                    is_guest: false,
                    entra_object_id: Some(u.oid.clone()),
                    created_at: now,
                    updated_at: now,
                };
                (c, true)
            }
        };
        let was_active = c.active;
        let mut mail = if c.email.eq_ignore_ascii_case(&c.upn) && !is_new {
            String::new()
        } else {
            c.email.clone()
        };
        let mut user_type = if c.is_guest {
            "Guest".to_string()
        } else {
            "Member".to_string()
        };
        let mut changed = false;
        changed |= u.display_name.apply_to(&mut c.display_name);
        let mail_touched = u.mail.apply_to(&mut mail);
        changed |= u.upn.apply_to(&mut c.upn);
        changed |= u.department.apply_to(&mut c.department);
        changed |= u.job_title.apply_to(&mut c.job_title);
        changed |= u.account_enabled.apply_to(&mut c.account_enabled);
        u.user_type.apply_to(&mut user_type);
        // E-mail falls back to the UPN for accounts without a mailbox.
        let email = if mail.is_empty() { c.upn.clone() } else { mail };
        if email != c.email || mail_touched {
            changed |= email != c.email;
            c.email = email;
        }
        let guest = is_guest(&user_type, &c.upn);
        changed |= guest != c.is_guest;
        c.is_guest = guest;
        let excluded = guest && policy.exclude_guests;
        c.active = c.account_enabled && !excluded;
        if is_new && excluded {
            // Not stored at all; remembered nowhere, so it appears if the policy changes and a full sync runs.
            continue;
        }
        if is_new {
            counts.created += 1;
        } else if was_active && !c.active {
            counts.deactivated += 1;
        } else if changed || was_active != c.active {
            counts.updated += 1;
        }
        let id = c.id;
        if is_new || changed || was_active != c.active {
            c.updated_at = now;
            out.put(id, c);
        }
        seen.insert(u.oid, id);
    }
    w.put_contacts(&out.records)?;
    w.index_contacts(
        company_id,
        seen.iter().map(|(oid, id)| (oid.as_str(), *id, round)),
    )?;
    Ok(counts)
}

/// The end of a users round, in its last batch's transaction: a full round deactivates the
/// contacts it did not see, and a first sync's deferred lists are built.
pub fn finish_users_round(
    w: &mut Writer,
    company_id: u64,
    round: u64,
    full: bool,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let n = if full {
        deactivate_unseen_contacts(w, company_id, round, now)?
    } else {
        0
    };
    w.build_deferred_lists(company_id, ListKind::Contacts)?;
    Ok(n)
}

/// After a full round: contacts not seen in it were deleted while we had no delta token.
pub fn deactivate_unseen_contacts(
    w: &mut Writer,
    company_id: u64,
    round: u64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for id in w.contacts_unseen_in(company_id, round)? {
        if let Some(mut c) = w.contact(company_id, id)?.filter(|c| c.active) {
            c.active = false;
            c.updated_at = now;
            w.put_contact(&c)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Apply groups and membership changes. User members that are not synced contacts (excluded
/// guests, users not synced yet) are skipped; devices never get here. Nested groups are kept
/// as links by object id, whether or not the child group is synced yet.
pub fn apply_groups(
    w: &mut Writer,
    company_id: u64,
    round: u64,
    groups: Vec<GroupDelta>,
    now: DateTime<Utc>,
) -> Result<ChangeCounts, StoreError> {
    let mut counts = ChangeCounts::default();
    // Memberships added, written together (`put_memberships`, in key order) before any
    // membership is removed and at the end, so what is stored follows the deltas' order.
    let mut added_memberships: Vec<Membership> = Vec::new();
    for g in groups {
        let existing = w.group_by_oid(company_id, &g.oid)?;
        if g.removed {
            if let Some((mut grp, _)) = existing {
                if grp.active {
                    grp.active = false;
                    grp.updated_at = now;
                    w.put_group(&grp)?;
                    counts.deactivated += 1;
                }
                w.index_group(company_id, &g.oid, grp.id, round)?;
            }
            continue;
        }
        let (mut grp, is_new) = match existing {
            Some((grp, _)) => (grp, false),
            None => (
                ContactGroup {
                    id: w.next_id(keys::seq::CONTACT_GROUP)?,
                    company_id,
                    display_name: String::new(),
                    description: String::new(),
                    mail_enabled: false,
                    active: true,
                    entra_object_id: Some(g.oid.clone()),
                    member_count: 0,
                    updated_at: now,
                },
                true,
            ),
        };
        let mut changed = !grp.active;
        grp.active = true;
        changed |= g.display_name.apply_to(&mut grp.display_name);
        changed |= g.description.apply_to(&mut grp.description);
        changed |= g.mail_enabled.apply_to(&mut grp.mail_enabled);
        let mut members_changed = false;
        // Members need only their contact id: the index answers without decoding a contact,
        // for all of a group's members at once.
        let added =
            w.contact_index_entries(company_id, g.members_added.iter().map(String::as_str))?;
        for (contact_id, _) in added.into_iter().flatten() {
            added_memberships.push(Membership {
                company_id,
                group_id: grp.id,
                contact_id,
            });
            members_changed = true;
        }
        let removed =
            w.contact_index_entries(company_id, g.members_removed.iter().map(String::as_str))?;
        if removed.iter().any(Option::is_some) {
            w.put_memberships(&mut added_memberships, round)?;
            added_memberships.clear();
        }
        for (contact_id, _) in removed.into_iter().flatten() {
            w.delete_membership(Membership {
                company_id,
                group_id: grp.id,
                contact_id,
            })?;
            members_changed = true;
        }
        for oid in &g.groups_added {
            w.put_nesting(company_id, grp.id, oid, round)?;
            members_changed = true;
        }
        for oid in &g.groups_removed {
            members_changed |= w.delete_nesting(company_id, grp.id, oid)?;
        }
        if is_new {
            counts.created += 1;
        } else if changed || members_changed {
            counts.updated += 1;
        }
        if is_new || changed {
            grp.updated_at = now;
            w.put_group(&grp)?;
        }
        w.index_group(company_id, &g.oid, grp.id, round)?;
    }
    w.put_memberships(&mut added_memberships, round)?;
    Ok(counts)
}

/// After a full groups round: drop memberships and nesting links, and deactivate groups, the
/// round did not see.
pub fn finish_full_groups_round(
    w: &mut Writer,
    company_id: u64,
    round: u64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    for m in w.memberships_unseen_in(company_id, round)? {
        w.delete_membership(m)?;
    }
    for (parent, child, seen) in w.nesting_with_round(company_id)? {
        if seen < round {
            w.delete_nesting(company_id, parent, &child)?;
        }
    }
    let mut n = 0;
    let unseen = w.groups_unseen_in(company_id, round)?;
    for mut g in unseen
        .into_iter()
        .filter_map(|id| w.contact_group_by_id(company_id, id).transpose())
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|g| g.active)
    {
        g.active = false;
        g.updated_at = now;
        w.put_group(&g)?;
        n += 1;
    }
    Ok(n)
}

/// Recount the members of the groups with these Entra object ids: an incremental round's
/// groups whose members changed. The others' counts cannot have moved.
pub fn recount_members_of(
    w: &mut Writer,
    company_id: u64,
    oids: &[String],
) -> Result<(), StoreError> {
    for oid in oids {
        if let Some((mut g, _)) = w.group_by_oid(company_id, oid)? {
            let n = w.member_count(company_id, g.id)?;
            if g.member_count != n {
                g.member_count = n;
                w.put_group(&g)?;
            }
        }
    }
    Ok(())
}

/// Recount members of every group (one range scan) after a full round.
pub fn recount_members(w: &mut Writer, company_id: u64) -> Result<(), StoreError> {
    let mut counts: HashMap<u64, u64> = HashMap::new();
    for m in w.memberships_of(company_id)? {
        *counts.entry(m.group_id).or_default() += 1;
    }
    for mut g in w.groups_of(company_id)? {
        let n = counts.get(&g.id).copied().unwrap_or(0);
        if g.member_count != n {
            g.member_count = n;
            w.put_group(&g)?;
        }
    }
    Ok(())
}

/// What the sync keeps of one Intune device: everything [`apply_device_page`] writes into the
/// asset, reduced to 64 bits (FNV-1a over the fields, each length-prefixed so that moving a
/// character from one field to the next changes the result). Stored in the device's mark, it
/// lets a sweep skip an unchanged device without decoding its asset. Never 0, which marks a
/// device to be applied in full (see `retire_unlisted_devices`).
///
/// WHY a hand-written FNV and not `std::hash`: the value is stored, and std's hasher output is
/// not promised to stay the same across Rust releases. A changed fingerprint would only cost
/// one slow sweep, but a stable one costs nothing.
pub fn device_fingerprint(d: &DeviceRecord, primary_contact: Option<u64>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    fn eat(h: &mut u64, bytes: &[u8]) {
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            *h ^= u64::from(*b);
            *h = h.wrapping_mul(PRIME);
        }
    }
    let mut h = OFFSET;
    for field in [
        &d.hostname,
        &d.os,
        &d.os_version,
        &d.serial_number,
        &d.compliance_state,
        &d.model,
        &d.manufacturer,
    ] {
        eat(&mut h, field.as_bytes());
    }
    // Optional values: a tag byte (absent / present) before the value, so `None` and any
    // value differ.
    let check_in = d.last_check_in.map(|t| t.timestamp_micros().to_le_bytes());
    eat(&mut h, &[u8::from(check_in.is_some())]);
    eat(&mut h, &check_in.unwrap_or_default());
    eat(&mut h, &[u8::from(primary_contact.is_some())]);
    eat(&mut h, &primary_contact.unwrap_or_default().to_le_bytes());
    eat(&mut h, &[d.is_encrypted.map_or(2, u8::from)]);
    eat(&mut h, &[u8::from(d.jail_broken.is_some())]);
    eat(
        &mut h,
        d.jail_broken.as_deref().unwrap_or_default().as_bytes(),
    );
    h.max(1)
}

/// Apply a batch of pages of the Intune device listing of sweep `round`: create new assets,
/// write only changed ones, and stamp every listed device with the round. The indexes are
/// read and written once for the batch; a device whose mark holds the same fingerprint is
/// unchanged and costs two index lookups and a stamp, its asset is not read. A device listed
/// twice in the batch is applied once, as last listed.
pub fn apply_device_page(
    w: &mut Writer,
    company_id: u64,
    round: u64,
    devices: Vec<DeviceRecord>,
    now: DateTime<Utc>,
) -> Result<ChangeCounts, StoreError> {
    let mut counts = ChangeCounts::default();
    // A company's first sweep: assets without list entries, built at its end.
    w.defer_lists_if_empty(company_id, ListKind::Assets)?;
    let devices = last_of_each(devices);
    let primaries = w.contact_index_entries(
        company_id,
        devices.iter().map(|d| d.user_oid.as_deref().unwrap_or("")),
    )?;
    let primaries: Vec<Option<u64>> = devices
        .iter()
        .zip(primaries)
        .map(|(d, primary)| {
            primary
                .map(|(id, _)| id)
                .filter(|_| d.user_oid.as_deref().is_some_and(|o| !o.is_empty()))
        })
        .collect();
    let fingerprints: Vec<u64> = devices
        .iter()
        .zip(&primaries)
        .map(|(d, primary)| device_fingerprint(d, *primary))
        .collect();
    // Every listed device gets this round's stamp (same transaction as its asset, so a
    // failed batch stamps nothing); the mark it had says whether it changed.
    let marks = {
        let stamps: Vec<(&str, u64)> = devices
            .iter()
            .zip(&fingerprints)
            .map(|(d, f)| (d.device_id.as_str(), *f))
            .collect();
        w.swap_device_marks(company_id, round, &stamps)?
    };
    let mut changed: Vec<(DeviceRecord, Option<u64>)> = Vec::new();
    for (((d, primary), fingerprint), mark) in devices
        .into_iter()
        .zip(primaries)
        .zip(fingerprints)
        .zip(marks)
    {
        if mark.is_none_or(|(f, _)| f != fingerprint) {
            changed.push((d, primary));
        }
    }
    let asset_ids = w.asset_ids_by_devices(
        company_id,
        changed.iter().map(|(d, _)| d.device_id.as_str()),
    )?;
    let unknown = asset_ids.iter().filter(|a| a.is_none()).count() as u64;
    let mut ids = IdBlock::reserve(w, keys::seq::ASSET, unknown)?;
    let mut indexed: Vec<(String, u64)> = Vec::new();
    // The assets to write, written together (`put_assets`) a thousand at a time: a batch is
    // up to 10,000 devices, and holding all their assets until the end was the sync's peak
    // of memory (the end of the devices phase). A record written already is read back from
    // the transaction, so a device listed twice still reads its first write.
    let mut out: Written<Asset> = Written::default();
    for ((d, primary), asset_id) in changed.into_iter().zip(asset_ids) {
        let source = AssetSource {
            source: "intune".into(),
            external_id: d.device_id.clone(),
            last_seen: d.last_check_in,
            details: serde_json::json!({"model": d.model, "manufacturer": d.manufacturer, "complianceState": d.compliance_state, "isEncrypted": d.is_encrypted, "jailBroken": d.jail_broken}),
        };
        let existing = match asset_id {
            Some(id) => match out.get(id) {
                Some(a) => Some(a.clone()),
                None => w.asset(company_id, id)?,
            },
            None => None,
        };
        match existing {
            None => {
                let id = ids.take(w)?;
                indexed.push((d.device_id.clone(), id));
                counts.created += 1;
                let a = Asset {
                    id,
                    company_id,
                    hostname: d.hostname,
                    os: d.os,
                    os_version: d.os_version,
                    serial_number: d.serial_number,
                    compliance_state: d.compliance_state,
                    last_check_in: d.last_check_in,
                    primary_user_contact_id: primary,
                    active: true,
                    sources: vec![source],
                    updated_at: now,
                    merge: Default::default(),
                };
                out.put(id, a);
            }
            Some(mut a) => {
                let before = a.clone();
                a.hostname = d.hostname;
                a.os = d.os;
                a.os_version = d.os_version;
                a.serial_number = d.serial_number;
                a.compliance_state = d.compliance_state;
                a.last_check_in = d.last_check_in;
                a.primary_user_contact_id = primary;
                a.active = true;
                a.sources.retain(|s| s.source != "intune");
                a.sources.push(source);
                a.sources.sort_by(|x, y| x.source.cmp(&y.source));
                a.updated_at = before.updated_at;
                if a != before {
                    a.updated_at = now;
                    counts.updated += 1;
                    out.put(a.id, a);
                }
            }
        }
        if out.records.len() >= ASSETS_WRITTEN_TOGETHER {
            w.put_assets(&std::mem::take(&mut out).records)?;
        }
    }
    w.put_assets(&out.records)?;
    w.index_assets(company_id, indexed.iter().map(|(d, id)| (d.as_str(), *id)))?;
    Ok(counts)
}

/// Assets a device batch holds before it writes them (see `apply_device_page`).
const ASSETS_WRITTEN_TOGETHER: usize = 1_000;

/// The devices of a batch, each once, as last listed (in listing order otherwise).
fn last_of_each(devices: Vec<DeviceRecord>) -> Vec<DeviceRecord> {
    let keep: Option<HashSet<usize>> = {
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(devices.len());
        for (i, d) in devices.iter().enumerate() {
            last.insert(d.device_id.as_str(), i);
        }
        (last.len() != devices.len()).then(|| last.into_values().collect())
    };
    match keep {
        None => devices,
        Some(keep) => devices
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, d)| d)
            .collect(),
    }
}

/// After a *complete* listing of sweep `round`: mark inactive (kept, never deleted) the
/// devices the sweep did not list. Never called when a page failed: a device missing from an
/// incomplete listing may simply be on the page that was not read.
pub fn retire_unlisted_devices(
    w: &mut Writer,
    company_id: u64,
    round: u64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    // Deferred lists are built after the retirements below, so each asset is indexed once.
    for (device_id, id) in w.devices_not_listed_in(company_id, round)? {
        // Fingerprint 0: should the device come back, it is applied in full (made active).
        // Round u64::MAX: a retired device is not looked at again by later sweeps.
        w.mark_device(company_id, &device_id, 0, u64::MAX)?;
        if let Some(mut a) = w.asset(company_id, id)?.filter(|a| a.active) {
            a.active = false;
            a.updated_at = now;
            w.put_asset(&a)?;
            n += 1;
        }
    }
    w.build_deferred_lists(company_id, ListKind::Assets)?;
    Ok(n)
}
