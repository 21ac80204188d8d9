//! How index keys are spelled. Part of the database format: a change here needs a migration
//! that rebuilds the indexes (see `build.rs`).
//!
//! A *scope* is one list's membership: `[kind, scope bytes...]` (a company's contacts, every
//! company's contacts, one company's open requests...). It keys the counters and the search
//! words. A *list* is a scope in one order: the scope followed by the order's byte. Entries of
//! a list are `(list, sort key, id)`, so one list is one contiguous key range, sorted as the
//! old in-memory sort was: by the column's key, then by id.
//!
//! Sort keys are bytes that compare as the values did: text as its UTF-8 (byte order is
//! `String`'s order), booleans as 0/1, times as big-endian seconds with the sign bit flipped
//! followed by nanoseconds, an absent time as no bytes (before every present one).
//!
//! Storage (schema v18): a list's entries are kept in blocks of consecutive entries, in
//! `LIST_BLOCKS` keyed `(list, first sort key, first id)`; the search words likewise in
//! `WORD_BLOCKS` keyed `(scope, first word, first id)`, the word's UTF-8 bytes standing as the
//! sort key. A block's value is `varint n`, then n times `varint shared, varint suffix length,
//! suffix, varint id, varint owner`, where `shared` counts the leading bytes the entry's sort
//! key has in common with the previous entry's (0 for the first); varints are LEB128 (7 bits a
//! byte, low first). See `blocks.rs` for the invariants (order, key = first entry, 1 to 2 B
//! entries, under B / 4 only as a list's only block).

use crate::model::RequestStatus;
use chrono::{DateTime, Utc};

/// What a scope lists. Never renumber: stored in every key.
pub(crate) mod kind {
    pub const CONTACT: u8 = 1;
    pub const ASSET: u8 = 2;
    pub const GROUP: u8 = 3;
    pub const COMPANY: u8 = 4;
    pub const REQUEST: u8 = 5;
    /// A portal user's own requests (company, contact).
    pub const REQUEST_BY_CONTACT: u8 = 6;
    /// The devices of a company's contacts, by primary user then hostname (company; see
    /// `user_devices_list`; one list per contact before schema v20): listed only.
    pub const ASSET_BY_USER: u8 = 7;
    /// Audit events (see `AUDIT_INDEX`): counters only.
    pub const AUDIT: u8 = 8;
    /// Assets by compliance state and/or OS (see `asset_filter_scope`).
    pub const ASSET_FILTER: u8 = 9;
    /// Contacts by active and/or guest (see `contact_filter_scope`).
    pub const CONTACT_FILTER: u8 = 10;
    /// A company's (or every company's) contacts with a search word that starts with the
    /// scope's first letters, by name (schema v19, see `index::prefix_lists`; one list per
    /// word from v15): listed only, never counted.
    pub const CONTACT_WORD: u8 = 11;
    /// Assets by sources (only Intune, only Level, merged, needs review, no agent; schema v16,
    /// see `asset_sources_scope`).
    pub const ASSET_SOURCES: u8 = 12;
}

/// The scope of `kind`'s rows of `company` with the search word `word`: `[kind, company,
/// word bytes]`. Words are letters and digits only, so the list byte that follows (see
/// `list`) cannot be mistaken for part of a longer word, and every word that starts with a
/// prefix is one contiguous run of lists, in word order.
pub(crate) fn word_scope(kind: u8, company: u64, word: &str) -> Vec<u8> {
    let mut v = scope(kind, &[company]);
    v.extend_from_slice(word.as_bytes());
    v
}

/// The active assets of `company` (or every company: counted only) in the Sources list
/// `filter` (its `SourcesFilter::tag` byte).
pub(crate) fn asset_sources_scope(company: u64, filter: crate::model::SourcesFilter) -> Vec<u8> {
    let mut v = scope(kind::ASSET_SOURCES, &[company]);
    v.push(filter.tag());
    v
}

/// A filter part meaning "any value": 0xFF never occurs in UTF-8, so it cannot clash with a
/// value's bytes.
pub(crate) const ANY: u8 = 0xFF;

/// The assets of `company` (or every company) with compliance state `state` and OS `os`
/// (lowercased), None for "any". Each asset is listed under (state, any), (any, os) and
/// (state, os), so each filter, alone or together, is one list with its own counter.
pub(crate) fn asset_filter_scope(company: u64, state: Option<&str>, os: Option<&str>) -> Vec<u8> {
    let mut v = scope(kind::ASSET_FILTER, &[company]);
    let part = |v: &mut Vec<u8>, p: Option<&str>| match p {
        Some(p) => v.extend_from_slice(p.as_bytes()),
        None => v.push(ANY),
    };
    part(&mut v, state);
    // A separator no value contains (state values are Intune's camelCase words).
    v.push(0);
    part(&mut v, os.map(str::to_lowercase).as_deref());
    v
}

/// The contacts of `company` (or every company) by active and guest, None for "any".
pub(crate) fn contact_filter_scope(
    company: u64,
    active: Option<bool>,
    guest: Option<bool>,
) -> Vec<u8> {
    let mut v = scope(kind::CONTACT_FILTER, &[company]);
    v.push(active.map_or(ANY, u8::from));
    v.push(guest.map_or(ANY, u8::from));
    v
}

/// The company half of a scope that spans every company (company ids start at 1).
pub(crate) const ALL_COMPANIES: u64 = 0;

/// Companies lists by status.
pub(crate) mod company_scope {
    pub const ALL: u64 = 0;
    pub const ACTIVE: u64 = 1;
    pub const ARCHIVED: u64 = 2;
}

/// Status half of a request scope meaning "any status".
pub(crate) const ANY_STATUS: u8 = 0xFF;

pub(crate) fn scope(kind: u8, parts: &[u64]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + 8 * parts.len());
    v.push(kind);
    for p in parts {
        v.extend_from_slice(&p.to_be_bytes());
    }
    v
}

pub(crate) fn request_scope(company: u64, status: Option<RequestStatus>) -> Vec<u8> {
    let mut v = scope(kind::REQUEST, &[company]);
    v.push(status.map_or(ANY_STATUS, status_byte));
    v
}

/// The list of `scope` in the order numbered `order`.
pub(crate) fn list(scope: &[u8], order: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(scope.len() + 1);
    v.extend_from_slice(scope);
    v.push(order);
    v
}

/// The smallest key element after every key that starts with exactly `list` as its first
/// element: `list` with a zero byte appended is its immediate successor.
pub(crate) fn after(list: &[u8]) -> Vec<u8> {
    let mut v = list.to_vec();
    v.push(0);
    v
}

pub(crate) fn text(s: &str) -> Vec<u8> {
    s.to_lowercase().into_bytes()
}

/// The devices of `company`'s contacts: one list, sorted by (primary user, hostname as
/// written, id), so one contact's devices are the entries whose key starts with its id
/// ([`user_device_key`]), by hostname.
///
/// WHY one list per company (schema v20, #11): one list per contact made a first sync of
/// 100,000 devices write some 70,000 lists of one or two entries, each a block row and a
/// counter row of its own, at the end of the round on the writer's path: the assets' build
/// took 0.48–0.52 s, against 0.28–0.34 s with one list (BENCHMARKS.md). Nothing reads a
/// contact's count, so the list is not counted.
pub(crate) fn user_devices_list(company: u64) -> Vec<u8> {
    list(&scope(kind::ASSET_BY_USER, &[company]), 0)
}

/// A device's sort key in [`user_devices_list`]: its primary user (big-endian, so a
/// contact's devices are one run), then its hostname as written.
pub(crate) fn user_device_key(user: u64, hostname: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + hostname.len());
    v.extend_from_slice(&user.to_be_bytes());
    v.extend_from_slice(hostname.as_bytes());
    v
}

pub(crate) fn raw(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

pub(crate) fn flag(b: bool) -> Vec<u8> {
    vec![u8::from(b)]
}

pub(crate) fn time(t: DateTime<Utc>) -> Vec<u8> {
    let mut v = Vec::with_capacity(12);
    v.extend_from_slice(&((t.timestamp() as u64) ^ (1 << 63)).to_be_bytes());
    v.extend_from_slice(&t.timestamp_subsec_nanos().to_be_bytes());
    v
}

pub(crate) fn opt_time(t: Option<DateTime<Utc>>) -> Vec<u8> {
    t.map(time).unwrap_or_default()
}

pub(crate) fn number(n: u64) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

pub(crate) fn status_byte(s: RequestStatus) -> u8 {
    match s {
        RequestStatus::Open => 0,
        RequestStatus::InProgress => 1,
        RequestStatus::WaitingOnCustomer => 2,
        RequestStatus::Resolved => 3,
        RequestStatus::Closed => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn encodings_sort_as_the_values_do() {
        let t = |s: i64, n: u32| Utc.timestamp_opt(s, n).single().expect("time");
        let times = [t(-5, 0), t(-1, 999), t(0, 0), t(0, 1), t(1_700_000_000, 5)];
        for w in times.windows(2) {
            assert!(time(w[0]) < time(w[1]), "{w:?}");
            assert!(opt_time(None) < opt_time(Some(w[0])));
        }
        for w in RequestStatus::ALL.windows(2) {
            assert!(w[0] < w[1] && status_byte(w[0]) < status_byte(w[1]));
        }
        assert!(text("Ab") < text("abc") && text("Zoë") > text("zoe"));
        let l = list(&scope(kind::CONTACT, &[7]), 1);
        assert!(l.as_slice() < after(&l).as_slice());
        assert!(list(&scope(kind::CONTACT, &[7]), 2) > after(&l));
    }
}
