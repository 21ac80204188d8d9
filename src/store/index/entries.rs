//! Which index entries each kind of record has: the one description both the writers (on
//! every put) and the rebuild and check (`build.rs`) use, so they cannot disagree.

use super::fields::{AssetFields, ContactFields};
use super::keys::{self, ALL_COMPANIES, company_scope, kind};
use super::prefix_lists;
use crate::model::{
    Asset, AssetSort, AuditEvent, Company, CompanySort, Contact, ContactGroup, ContactSort,
    GroupSort, MergeState, Outcome, RequestSort, SourcesFilter, SupportRequest, search_words,
};

/// A record's entries in the list index, the counters and the search words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entries {
    pub id: u64,
    /// The company id the row is found under (0 for companies themselves).
    pub owner: u64,
    /// (list, sort key)
    pub sorted: Vec<(Vec<u8>, Vec<u8>)>,
    /// Scopes whose counter counts this row.
    pub scopes: Vec<Vec<u8>>,
    /// (scope, word)
    pub words: Vec<(Vec<u8>, String)>,
}

impl Entries {
    pub(crate) fn new(id: u64, owner: u64) -> Self {
        Self {
            id,
            owner,
            sorted: Vec::new(),
            scopes: Vec::new(),
            words: Vec::new(),
        }
    }

    /// Count the row in `scope` and list it there in every order `keys` gives.
    fn listed(&mut self, scope: &[u8], keys: impl IntoIterator<Item = (u8, Vec<u8>)>) {
        for (order, key) in keys {
            self.sorted.push((keys::list(scope, order), key));
        }
        self.scopes.push(scope.to_vec());
    }

    /// Count the row in `scope` without listing it there.
    fn counted(&mut self, scope: &[u8]) {
        self.scopes.push(scope.to_vec());
    }

    fn searchable<'a>(&mut self, scope: &[u8], texts: impl IntoIterator<Item = &'a str>) {
        self.words
            .extend(words_of(texts).into_iter().map(|w| (scope.to_vec(), w)));
    }
}

/// A record's search words, each once, in order.
fn words_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut words: Vec<String> = texts.into_iter().flat_map(search_words).collect();
    words.sort();
    words.dedup();
    words
}

/// The order byte of a column: its place in the type's `ALL` (never reorder those).
fn order<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|a| a == x).unwrap_or(0) as u8
}

pub(crate) fn contact_key(c: &Contact, sort: ContactSort) -> Vec<u8> {
    contact_fields_key(&ContactFields::of(c), sort)
}

fn contact_fields_key(c: &ContactFields<'_>, sort: ContactSort) -> Vec<u8> {
    match sort {
        ContactSort::Name => keys::text(&c.display_name),
        ContactSort::Email => keys::text(&c.email),
        ContactSort::Department => keys::text(&c.department),
        ContactSort::JobTitle => keys::text(&c.job_title),
        ContactSort::Status => keys::flag(!c.active),
        ContactSort::Updated => keys::time(c.updated_at),
    }
}

pub(crate) fn contact_order(sort: ContactSort) -> u8 {
    order(&ContactSort::ALL, &sort)
}

/// What contact search looks at.
pub(crate) fn contact_texts(c: &Contact) -> [&str; 5] {
    [
        &c.display_name,
        &c.email,
        &c.upn,
        &c.department,
        &c.job_title,
    ]
}

/// [`contact_texts`] of a contact's fields (the same fields, in the same order).
fn contact_fields_texts<'c>(c: &'c ContactFields<'_>) -> [&'c str; 5] {
    [
        &c.display_name,
        &c.email,
        &c.upn,
        &c.department,
        &c.job_title,
    ]
}

/// A contact's entries. Its search words are kept in its company's scope only (schema v10):
/// a search that ranks across companies looks in each company's. Its lists, unfiltered and
/// filtered, have a copy across companies, so `/contacts` and `/api/v1/contacts`, filtered or
/// not, page one list (schema v17: a filtered page merged from 1,000 companies' lists cost a
/// seek per company, 258 ms p99 at 50 connections; the copy costs 3 entries per contact).
pub(crate) fn contact(c: &Contact) -> Entries {
    contact_of(&ContactFields::of(c))
}

/// [`contact`]'s entries, from a contact's fields (a build reads only those, `fields.rs`).
pub(crate) fn contact_of(c: &ContactFields<'_>) -> Entries {
    let mut e = Entries::new(c.id, c.company_id);
    // Each sort key and the search words once (a build computes them for every record),
    // copied into each scope.
    let sort_keys = ContactSort::ALL.map(|s| (contact_order(s), contact_fields_key(c, s)));
    let name = contact_fields_key(c, ContactSort::Name);
    let words = words_of(contact_fields_texts(c));
    for company in [c.company_id, ALL_COMPANIES] {
        let scope = keys::scope(kind::CONTACT, &[company]);
        e.listed(&scope, sort_keys.iter().cloned());
        if company != ALL_COMPANIES {
            e.words
                .extend(words.iter().map(|w| (scope.clone(), w.clone())));
        }
        // Schema v19: each search word under its first letters' list, by name, per company
        // and across companies, so a search by name is an intersection of one list per query
        // word walked in page order (`index::prefix_lists`). Listed, not counted: a counter
        // per prefix would be a write per word for a total the search bounds anyway.
        for w in &words {
            let list = keys::list(
                &keys::word_scope(kind::CONTACT_WORD, company, prefix_lists::prefix_of(w)),
                contact_order(ContactSort::Name),
            );
            e.sorted
                .push((list, prefix_lists::entry_key(&name, c.id, w)));
        }
        // The filtered lists (active / guest), in the name order only: a filter narrows a
        // list people then read by name, and every order more would cost a key per contact.
        let (a, g) = (Some(c.active), Some(c.is_guest));
        for (active, guest) in [(a, None), (None, g), (a, g)] {
            let scope = keys::contact_filter_scope(company, active, guest);
            e.listed(&scope, [(contact_order(ContactSort::Name), name.clone())]);
        }
    }
    e
}

/// The orders a filtered contact list is kept in.
pub(crate) const CONTACT_FILTER_SORTS: [ContactSort; 1] = [ContactSort::Name];

pub(crate) fn asset_key(a: &Asset, sort: AssetSort) -> Vec<u8> {
    asset_fields_key(&AssetFields::of(a), sort)
}

fn asset_fields_key(a: &AssetFields<'_>, sort: AssetSort) -> Vec<u8> {
    match sort {
        AssetSort::Hostname => keys::text(&a.hostname),
        AssetSort::Os => keys::text(&a.os),
        AssetSort::Serial => keys::text(&a.serial_number),
        AssetSort::Compliance => keys::raw(&a.compliance_state),
        AssetSort::LastCheckIn => keys::opt_time(a.last_check_in),
    }
}

pub(crate) fn asset_order(sort: AssetSort) -> u8 {
    order(&AssetSort::ALL, &sort)
}

pub(crate) fn asset_texts(a: &Asset) -> [&str; 3] {
    [&a.hostname, &a.serial_number, &a.os]
}

/// [`asset_texts`] of an asset's fields (the same fields, in the same order).
fn asset_fields_texts<'a>(a: &'a AssetFields<'_>) -> [&'a str; 3] {
    [&a.hostname, &a.serial_number, &a.os]
}

/// The orders a filtered asset list is kept in.
pub(crate) const ASSET_FILTER_SORTS: [AssetSort; 2] = [AssetSort::Hostname, AssetSort::LastCheckIn];

/// The Sources lists an asset is in: none when inactive; by which sources hold a record;
/// `NoAgent` for an Intune-only computer (Windows or macOS: phones never carry an agent).
pub(crate) fn asset_sources(a: &Asset) -> Vec<SourcesFilter> {
    asset_fields_sources(&AssetFields::of(a))
}

fn asset_fields_sources(a: &AssetFields<'_>) -> Vec<SourcesFilter> {
    if !a.active || a.merge.state == MergeState::Inactive {
        return Vec::new();
    }
    let (intune, level) = (a.held.intune, a.held.level);
    let mut out = Vec::new();
    match (intune, level) {
        (true, true) => out.push(SourcesFilter::Merged),
        (true, false) => {
            out.push(SourcesFilter::IntuneOnly);
            let os = a.os.to_lowercase();
            if os.starts_with("windows") || os.starts_with("mac") {
                out.push(SourcesFilter::NoAgent);
            }
        }
        (false, true) => out.push(SourcesFilter::LevelOnly),
        (false, false) => {}
    }
    if a.merge.state == MergeState::NeedsReview {
        out.push(SourcesFilter::NeedsReview);
    }
    out
}

pub(crate) fn asset(a: &Asset) -> Entries {
    asset_of(&AssetFields::of(a))
}

/// [`asset`]'s entries, from an asset's fields (a build reads only those, `fields.rs`).
pub(crate) fn asset_of(a: &AssetFields<'_>) -> Entries {
    let mut e = Entries::new(a.id, a.company_id);
    // Each sort key once (a build computes them for every record), copied into each list.
    let sort_keys = AssetSort::ALL.map(|s| (asset_order(s), asset_fields_key(a, s)));
    let filter_keys = ASSET_FILTER_SORTS.map(|s| (asset_order(s), asset_fields_key(a, s)));
    for company in [a.company_id, ALL_COMPANIES] {
        let scope = keys::scope(kind::ASSET, &[company]);
        e.listed(&scope, sort_keys.iter().cloned());
        if company != ALL_COMPANIES {
            e.searchable(&scope, asset_fields_texts(a));
        }
        // The filtered lists (compliance / OS), by hostname and by last check-in (the stale
        // filter is a range of the check-in order), per company and across companies (as
        // the contacts' filtered lists, schema v17).
        let (st, os) = (Some(a.compliance_state.as_ref()), Some(a.os.as_ref()));
        for (state, os) in [(st, None), (None, os), (st, os)] {
            let scope = keys::asset_filter_scope(company, state, os);
            e.listed(&scope, filter_keys.iter().cloned());
        }
    }
    // The Sources lists and gap reports (schema v16), by hostname and by check-in.
    for f in asset_fields_sources(a) {
        e.listed(
            &keys::asset_sources_scope(a.company_id, f),
            filter_keys.iter().cloned(),
        );
        e.counted(&keys::asset_sources_scope(ALL_COMPANIES, f));
    }
    if let Some(user) = a.primary_user_contact_id {
        // A contact's devices, by hostname as written (the contact page's order), in its
        // company's one list of them (`keys::user_devices_list`): listed, not counted.
        e.sorted.push((
            keys::user_devices_list(a.company_id),
            keys::user_device_key(user, &a.hostname),
        ));
    }
    e
}

/// Where a first sync's prebuild (`prebuild/`) takes a contact's or asset's entries from
/// [`contact_twinned`] / [`asset_twinned`]: its company's entries only, each marked with
/// whether its list (or counter) has an ALL_COMPANIES twin, [`twin_of`] it, which receives
/// exactly the same entry (sort key, id, owner).
///
/// WHY (#11): most of a contact's and an asset's lists are kept per company and across
/// companies with the same entries (schema v17, v19). A first sync's prebuild holds, sorts,
/// spills and merges each such entry once and writes the merged list twice, instead of doing
/// all of it twice. The lists are handed over as borrowed bytes, built in one buffer, so the
/// prebuild allocates nothing per entry for them.
pub(crate) trait TwinSink {
    /// An entry of `list`, twinned or not.
    fn sorted(&mut self, list: &[u8], key: &[u8], twin: bool);
    /// A search word in `scope` (never twinned: words are kept per company, schema v10).
    fn word(&mut self, scope: &[u8], word: &str);
    /// The row counts in `scope` (and in its twin's).
    fn counted(&mut self, scope: &[u8], twin: bool);
}

/// The ALL_COMPANIES twin of a per-company scope or list: every such scope starts `[kind,
/// company u64 BE, ...]` (`keys::scope`), and its twin is the same bytes with the company
/// zeroed. None when `list` does not start with `company` (never expected: the prebuild
/// then gives up, and the lists are built from the records).
pub(crate) fn twin_of(list: &[u8], company: u64) -> Option<Vec<u8>> {
    if company == ALL_COMPANIES || list.get(1..9)? != company.to_be_bytes() {
        return None;
    }
    let mut t = list.to_vec();
    t[1..9].copy_from_slice(&ALL_COMPANIES.to_be_bytes());
    Some(t)
}

/// `buf` = the list of `[kind, company, tail...]` in the order `order` (`keys::list` of
/// `keys::scope`, without allocating).
fn set_list(buf: &mut Vec<u8>, kind: u8, company: u64, tail: &[u8], order: u8) {
    buf.clear();
    buf.push(kind);
    buf.extend_from_slice(&company.to_be_bytes());
    buf.extend_from_slice(tail);
    buf.push(order);
}

/// [`contact_of`]'s entries as a [`TwinSink`] takes them: the same entries, once their
/// twins are added (tested against `contact_of` in `tests/twins.rs`).
pub(crate) fn contact_twinned(c: &ContactFields<'_>, out: &mut impl TwinSink) {
    let company = c.company_id;
    let scope = keys::scope(kind::CONTACT, &[company]);
    let mut list = Vec::with_capacity(64);
    let mut name = Vec::new();
    for s in ContactSort::ALL {
        let key = contact_fields_key(c, s);
        set_list(&mut list, kind::CONTACT, company, &[], contact_order(s));
        out.sorted(&list, &key, true);
        if s == ContactSort::Name {
            name = key;
        }
    }
    out.counted(&scope, true);
    let words = words_of(contact_fields_texts(c));
    for w in &words {
        out.word(&scope, w);
    }
    let by_name = contact_order(ContactSort::Name);
    for w in &words {
        let prefix = prefix_lists::prefix_of(w);
        set_list(
            &mut list,
            kind::CONTACT_WORD,
            company,
            prefix.as_bytes(),
            by_name,
        );
        out.sorted(&list, &prefix_lists::entry_key(&name, c.id, w), true);
    }
    let (a, g) = (Some(c.active), Some(c.is_guest));
    for (active, guest) in [(a, None), (None, g), (a, g)] {
        let scope = keys::contact_filter_scope(company, active, guest);
        list.clear();
        list.extend_from_slice(&scope);
        list.push(by_name);
        out.sorted(&list, &name, true);
        out.counted(&scope, true);
    }
}

/// [`asset_of`]'s entries as a [`TwinSink`] takes them: the same entries, once their twins
/// are added. The Sources lists and a user's devices have no twin list (the Sources lists
/// across companies are counted only).
pub(crate) fn asset_twinned(a: &AssetFields<'_>, out: &mut impl TwinSink) {
    let company = a.company_id;
    let scope = keys::scope(kind::ASSET, &[company]);
    let mut list = Vec::with_capacity(64);
    for s in AssetSort::ALL {
        set_list(&mut list, kind::ASSET, company, &[], asset_order(s));
        out.sorted(&list, &asset_fields_key(a, s), true);
    }
    out.counted(&scope, true);
    for w in words_of(asset_fields_texts(a)) {
        out.word(&scope, &w);
    }
    let filter_keys = ASSET_FILTER_SORTS.map(|s| (asset_order(s), asset_fields_key(a, s)));
    let listed = |out: &mut dyn FnMut(&[u8], &[u8]), list: &mut Vec<u8>, scope: &[u8]| {
        for (order, key) in &filter_keys {
            list.clear();
            list.extend_from_slice(scope);
            list.push(*order);
            out(list, key);
        }
    };
    let (st, os) = (Some(a.compliance_state.as_ref()), Some(a.os.as_ref()));
    for (state, os) in [(st, None), (None, os), (st, os)] {
        let scope = keys::asset_filter_scope(company, state, os);
        listed(&mut |l, k| out.sorted(l, k, true), &mut list, &scope);
        out.counted(&scope, true);
    }
    for f in asset_fields_sources(a) {
        // Listed per company, counted per company and across companies.
        let scope = keys::asset_sources_scope(company, f);
        listed(&mut |l, k| out.sorted(l, k, false), &mut list, &scope);
        out.counted(&scope, true);
    }
    if let Some(user) = a.primary_user_contact_id {
        out.sorted(
            &keys::user_devices_list(company),
            &keys::user_device_key(user, &a.hostname),
            false,
        );
    }
}

pub(crate) fn group_key(g: &ContactGroup, sort: GroupSort) -> Vec<u8> {
    match sort {
        GroupSort::Name => keys::text(&g.display_name),
        GroupSort::Members => keys::number(g.member_count),
    }
}

pub(crate) fn group_order(sort: GroupSort) -> u8 {
    order(&GroupSort::ALL, &sort)
}

pub(crate) fn group(g: &ContactGroup) -> Entries {
    let mut e = Entries::new(g.id, g.company_id);
    let scope = keys::scope(kind::GROUP, &[g.company_id]);
    e.listed(
        &scope,
        GroupSort::ALL.map(|s| (group_order(s), group_key(g, s))),
    );
    e.searchable(&scope, [g.display_name.as_str()]);
    e
}

pub(crate) fn company_key(c: &Company, sort: CompanySort) -> Vec<u8> {
    match sort {
        CompanySort::Name => keys::text(&c.name),
        CompanySort::Domain => keys::raw(&c.domain),
        CompanySort::Created => keys::time(c.created_at),
        CompanySort::Updated => keys::time(c.updated_at),
    }
}

pub(crate) fn company_order(sort: CompanySort) -> u8 {
    order(&CompanySort::ALL, &sort)
}

pub(crate) fn company_texts(c: &Company) -> [&str; 2] {
    [&c.name, &c.domain]
}

pub(crate) fn company(c: &Company) -> Entries {
    let mut e = Entries::new(c.id, 0);
    let status = if c.is_archived() {
        company_scope::ARCHIVED
    } else {
        company_scope::ACTIVE
    };
    for s in [company_scope::ALL, status] {
        let scope = keys::scope(kind::COMPANY, &[s]);
        e.listed(
            &scope,
            CompanySort::ALL.map(|s| (company_order(s), company_key(c, s))),
        );
    }
    // Searched in the all-companies scope; a status filter applies to the matches.
    e.searchable(
        &keys::scope(kind::COMPANY, &[company_scope::ALL]),
        company_texts(c),
    );
    e
}

pub(crate) fn request_key(r: &SupportRequest, sort: RequestSort) -> Vec<u8> {
    match sort {
        RequestSort::Subject => keys::text(&r.subject),
        RequestSort::Status => vec![keys::status_byte(r.status)],
        RequestSort::Contact => keys::text(&r.contact_name),
        RequestSort::Created => keys::time(r.created_at),
        RequestSort::Updated => keys::time(r.updated_at),
    }
}

pub(crate) fn request_order(sort: RequestSort) -> u8 {
    order(&RequestSort::ALL, &sort)
}

pub(crate) fn request_texts(r: &SupportRequest) -> [&str; 2] {
    [&r.subject, &r.contact_name]
}

pub(crate) fn request(r: &SupportRequest) -> Entries {
    let mut e = Entries::new(r.id, r.company_id);
    let orders = || RequestSort::ALL.map(|s| (request_order(s), request_key(r, s)));
    for company in [r.company_id, ALL_COMPANIES] {
        let any = keys::request_scope(company, None);
        e.listed(&any, orders());
        e.listed(&keys::request_scope(company, Some(r.status)), orders());
        e.searchable(&any, request_texts(r));
    }
    e.listed(
        &keys::scope(kind::REQUEST_BY_CONTACT, &[r.company_id, r.contact_id]),
        orders(),
    );
    e
}

/// The audit index's scopes of an event: every event, and its company's, each alone and with
/// each dotted prefix of its kind (`sync`, `sync.identity`, ...), which is what the kind
/// filter matches.
pub(crate) fn audit_scopes(e: &AuditEvent) -> Vec<Vec<u8>> {
    let mut kinds: Vec<&str> = vec![""];
    for (i, ch) in e.kind.char_indices() {
        if ch == '.' {
            kinds.push(&e.kind[..i]);
        }
    }
    kinds.push(&e.kind);
    let mut out = Vec::new();
    for company in [Some(ALL_COMPANIES), e.company_id].into_iter().flatten() {
        for k in &kinds {
            out.push(audit_scope(company, k));
        }
    }
    out.sort();
    out.dedup();
    out
}

pub(crate) fn audit_scope(company: u64, kind_prefix: &str) -> Vec<u8> {
    let mut s = keys::scope(kind::AUDIT, &[company]);
    s.extend_from_slice(kind_prefix.as_bytes());
    s
}

/// The audit index's value: the event's time then its outcome.
pub(crate) fn audit_value(e: &AuditEvent) -> Vec<u8> {
    let mut v = keys::time(e.at);
    v.push(match e.outcome {
        Outcome::Success => 0,
        Outcome::Failure => 1,
        Outcome::Warning => 2,
    });
    v
}
