//! Every table, in one place, with its key layout. Values are JSON documents (see `codec`),
//! so adding an optional field needs no migration; a renamed or retyped field does.

use redb::TableDefinition;

/// key (see `keys::meta`) → JSON value: the appliance's own bookkeeping
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// sequence name (see `keys::seq`) → last id given: monotonic ids, one sequence per entity
pub const SEQ: TableDefinition<&str, u64> = TableDefinition::new("seq");
/// staff user id → StaffUser
pub const STAFF: TableDefinition<u64, &[u8]> = TableDefinition::new("staff");
/// normalised e-mail → staff user id (unique)
pub const STAFF_BY_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("staff_by_email");
/// sha256(session id) → Session
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// token id → ApiToken
pub const API_TOKENS: TableDefinition<u64, &[u8]> = TableDefinition::new("api_tokens");
/// sha256(token) → token id
pub const API_TOKENS_BY_HASH: TableDefinition<&str, u64> =
    TableDefinition::new("api_tokens_by_hash");
/// company id → Company
pub const COMPANIES: TableDefinition<u64, &[u8]> = TableDefinition::new("companies");
/// (company id, contact id) → Contact
pub const CONTACTS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("contacts");
/// (company id, group id) → ContactGroup
pub const CONTACT_GROUPS: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("contact_groups");
/// (company id, group id, contact id) → sync round that last saw it : group memberships
pub const MEMBERSHIPS: TableDefinition<(u64, u64, u64), u64> = TableDefinition::new("memberships");
/// (company id, asset id) → Asset
pub const ASSETS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("assets");
/// event id (monotonic, so time-ordered) → AuditEvent
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// job id (monotonic) → Job
pub const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");
/// (run_after unix ms, job id) → () : the ready queue, ordered by due time then age
pub const JOB_QUEUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("job_queue");
/// "kind/company" → job id of the one queued or running job for that pair
pub const JOB_ACTIVE: TableDefinition<&str, u64> = TableDefinition::new("job_active");
/// setting name (see `keys::settings`) → JSON value (secret fields sealed with the data key)
pub const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");

// Schema v2: identity sync bookkeeping.

/// (company id, Entra user object id) → (contact id, sync round that last saw it)
pub const CONTACT_OIDS: TableDefinition<(u64, &str), (u64, u64)> =
    TableDefinition::new("contact_oids");
/// (company id, Entra group object id) → (group id, sync round that last saw it)
pub const GROUP_OIDS: TableDefinition<(u64, &str), (u64, u64)> = TableDefinition::new("group_oids");
/// (company id, Intune managed device id) → asset id
pub const ASSET_DEVICES: TableDefinition<(u64, &str), u64> = TableDefinition::new("asset_devices");
/// (company id, collection `users`/`groups`, see `keys::sync_state`) → SyncState (delta link
/// and resume point)
pub const SYNC_STATE: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("sync_state");

/// Create every table (schema v1). Opening a table in a write transaction creates it.
pub(super) fn create_all(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(META)?;
    txn.open_table(SEQ)?;
    txn.open_table(STAFF)?;
    txn.open_table(STAFF_BY_EMAIL)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(API_TOKENS)?;
    txn.open_table(API_TOKENS_BY_HASH)?;
    txn.open_table(COMPANIES)?;
    txn.open_table(CONTACTS)?;
    txn.open_table(CONTACT_GROUPS)?;
    txn.open_table(MEMBERSHIPS)?;
    txn.open_table(ASSETS)?;
    txn.open_table(AUDIT)?;
    txn.open_table(JOBS)?;
    txn.open_table(JOB_QUEUE)?;
    txn.open_table(JOB_ACTIVE)?;
    txn.open_table(SETTINGS)?;
    Ok(())
}

/// Schema v2: the identity sync's indexes and delta state.
pub(super) fn create_v2(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(CONTACT_OIDS)?;
    txn.open_table(GROUP_OIDS)?;
    txn.open_table(ASSET_DEVICES)?;
    txn.open_table(SYNC_STATE)?;
    Ok(())
}

// Schema v3: sign-in with Microsoft and the support portal.

/// Entra object id (lower case) → staff user id: how an SSO sign-in finds its staff account.
pub const STAFF_BY_OID: TableDefinition<&str, u64> = TableDefinition::new("staff_by_oid");
/// company id → PortalSettings
pub const PORTAL_SETTINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("portal_settings");
/// portal slug → company id (unique)
pub const PORTAL_SLUGS: TableDefinition<&str, u64> = TableDefinition::new("portal_slugs");
/// sha256(portal session id) → PortalSession (separate from staff sessions)
pub const PORTAL_SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("portal_sessions");
/// (company id, request id) → SupportRequest (with its replies)
pub const SUPPORT_REQUESTS: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("support_requests");

/// Schema v3: SSO and portal tables.
pub(super) fn create_v3(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(STAFF_BY_OID)?;
    txn.open_table(PORTAL_SETTINGS)?;
    txn.open_table(PORTAL_SLUGS)?;
    txn.open_table(PORTAL_SESSIONS)?;
    txn.open_table(SUPPORT_REQUESTS)?;
    Ok(())
}

// Schema v4: groups nested in groups.

/// (company id, parent group id, child group's Entra object id) → sync round that last saw the
/// link. Keyed by the child's object id, not its local id, because the child group may only
/// arrive later in the round (or on another page); it is resolved through `GROUP_OIDS` when
/// read. A parent's children are one contiguous range, which is what an access check walks.
pub const GROUP_NESTING: TableDefinition<(u64, u64, &str), u64> =
    TableDefinition::new("group_nesting");

/// Schema v4: group nesting.
pub(super) fn create_v4(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(GROUP_NESTING)?;
    Ok(())
}

// Schema v5: indexes for lists that cost what the page costs (see `store/index/`).

/// Schema v5 to v17: (list, sort key, id) → the row's company id. Replaced by `LIST_BLOCKS`
/// in v18; kept to drop it from an older database.
pub const LIST_INDEX: TableDefinition<(&[u8], &[u8], u64), u64> =
    TableDefinition::new("list_index");
/// scope → how many rows it lists: list totals without counting per request.
pub const LIST_COUNTS: TableDefinition<&[u8], u64> = TableDefinition::new("list_counts");
/// Schema v5 to v17: (scope, word, id) → company id. Replaced by `WORD_BLOCKS` in v18; kept to
/// drop it from an older database.
pub const SEARCH_WORDS: TableDefinition<(&[u8], &str, u64), u64> =
    TableDefinition::new("search_words");
/// (audit scope: every event, a company's, a kind prefix's, or both, event id) → the event's
/// time (`index::keys::time`) and outcome byte, so time and outcome filters read no event.
pub const AUDIT_INDEX: TableDefinition<(&[u8], u64), &[u8]> = TableDefinition::new("audit_index");
/// (company id, contact id, group id) → () : the groups a contact is a direct member of.
pub const MEMBER_OF: TableDefinition<(u64, u64, u64), ()> = TableDefinition::new("member_of");
/// (tenant id, company id) → () : which company a tenant is linked to (connected or not).
pub const COMPANY_TENANTS: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("company_tenants");
/// (portal slug a company's name gives, company id) → () : never-configured portals.
pub const DEFAULT_SLUGS: TableDefinition<(&str, u64), ()> = TableDefinition::new("default_slugs");

// Schema v7 (v6 is the compliance evidence's): jobs by company and kind.

/// (scope: every job, a company's, a kind's, a company's of a kind; job id) → the job's
/// state byte (see `store::job_index`).
pub const JOB_INDEX: TableDefinition<(&[u8], u64), u8> = TableDefinition::new("job_index");

/// Schema v7: the jobs index (filled by `job_index::build`).
pub(super) fn create_v7(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(JOB_INDEX)?;
    Ok(())
}

/// (company id, Intune managed device id) → (fingerprint of what the sync last applied from
/// Intune, sweep round that last listed the device).
///
/// WHY a table of its own rather than a wider `ASSET_DEVICES` value: Intune has no delta
/// query, so every sweep lists every device. The fingerprint lets a sweep skip an unchanged
/// device without decoding its asset, and the round stamp finds retired devices after a
/// complete listing without holding the tenant's device ids in memory. Keeping it apart
/// avoids rewriting `ASSET_DEVICES` in a migration: a device without a mark simply
/// takes the slow path once (decode and compare its asset), which also covers databases
/// synced before the table existed. Fingerprint 0 means "apply in full next time".
pub const DEVICE_MARKS: TableDefinition<(u64, &str), (u64, u64)> =
    TableDefinition::new("device_marks");

/// Schema v5: list indexes (filled by `index::build` for an existing database) and the
/// Intune sweep's device marks.
pub(super) fn create_v5(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(DEVICE_MARKS)?;
    txn.open_table(LIST_COUNTS)?;
    txn.open_table(AUDIT_INDEX)?;
    txn.open_table(MEMBER_OF)?;
    txn.open_table(COMPANY_TENANTS)?;
    txn.open_table(DEFAULT_SLUGS)?;
    Ok(())
}

// Schema v6: compliance evidence (#10).

/// (company id, snapshot id) → EvidenceSnapshot as gzip-compressed JSON (see
/// `evidence::enc_snapshot`): one immutable collection, facts only. Snapshot ids come from one
/// sequence, so a company's range is in collection order.
pub const EVIDENCE_SNAPSHOTS: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("evidence_snapshots");
/// (company id, snapshot id) → SnapshotSummary: statuses and scores evaluated when stored,
/// what the snapshot list and the history chart read without opening the facts.
pub const EVIDENCE_SUMMARIES: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("evidence_summaries");
/// company id → SnapshotSummary of its latest complete snapshot: the overview reads one row
/// per company.
pub const EVIDENCE_LATEST: TableDefinition<u64, &[u8]> = TableDefinition::new("evidence_latest");
/// (collected_at unix ms, company id, snapshot id) → () : retention walks the oldest first.
pub const EVIDENCE_BY_TIME: TableDefinition<(i64, u64, u64), ()> =
    TableDefinition::new("evidence_by_time");
/// company id → EvidenceSettings (frameworks and thresholds).
pub const EVIDENCE_SETTINGS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("evidence_settings");

/// Schema v6: evidence tables.
pub(super) fn create_v6(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(EVIDENCE_SNAPSHOTS)?;
    txn.open_table(EVIDENCE_SUMMARIES)?;
    txn.open_table(EVIDENCE_LATEST)?;
    txn.open_table(EVIDENCE_BY_TIME)?;
    txn.open_table(EVIDENCE_SETTINGS)?;
    Ok(())
}

// Schema v9: alerts and the home dashboard (#13).

/// (company id, or 0 for the appliance itself; rule, see `AlertRule::as_str`) → Incident:
/// the incidents open now. One row per company and rule is what makes an alert one message
/// per incident rather than one per failed retry; a cleared incident is deleted (its history
/// is the audit log).
pub const ALERT_INCIDENTS: TableDefinition<(u64, &str), &[u8]> =
    TableDefinition::new("alert_incidents");
/// (company id, job kind) → how many of its jobs of that kind failed in a row. Only non-zero
/// streaks are kept, so "which companies' last sync failed" is this table, not a scan.
pub const ALERT_STREAKS: TableDefinition<(u64, &str), u32> = TableDefinition::new("alert_streaks");
/// message id → AlertMessage: alerts waiting for delivery (removed once delivered or given up).
pub const ALERT_OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("alert_outbox");
/// (company id, days since 1970-01-01 UTC) → (active contacts, devices) after that day's
/// last identity sync: the dashboard's 30-day sparklines read one short range per company.
pub const DAILY_COUNTS: TableDefinition<(u64, i64), (u64, u64)> =
    TableDefinition::new("daily_counts");

/// Schema v9: alert and dashboard tables (opening creates; idempotent).
pub(super) fn create_v9(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(ALERT_INCIDENTS)?;
    txn.open_table(ALERT_STREAKS)?;
    txn.open_table(ALERT_OUTBOX)?;
    txn.open_table(DAILY_COUNTS)?;
    Ok(())
}

// Schema v11 (#11): job list totals as counters.

/// Job scope (see `store::job_index`: every scope, and each narrowed to one state) → how many
/// jobs it lists, kept with every job write: the Jobs page's total without a walk.
pub const JOB_COUNTS: TableDefinition<&[u8], u64> = TableDefinition::new("job_counts");

/// Schema v11: the job counters (filled by `job_index::build_counts`).
pub(super) fn create_v11(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(JOB_COUNTS)?;
    Ok(())
}

/// (audit scope narrowed to one outcome: `o`, the outcome byte, then the scope; event id) →
/// nothing: an outcome filter reads its page's entries, not every event of other outcomes.
pub const AUDIT_BY_OUTCOME: TableDefinition<(&[u8], u64), &[u8]> =
    TableDefinition::new("audit_by_outcome");
/// (audit scope, plain or narrowed to an outcome; UTC day number) → events that day: a time
/// filter's total from whole days' counters plus at most its two edge days' entries.
pub const AUDIT_DAYS: TableDefinition<(&[u8], i64), u64> = TableDefinition::new("audit_days");

/// Schema v11: the audit outcome index and day counters (filled by `audit_window::build`).
pub(super) fn create_v11_audit(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(AUDIT_BY_OUTCOME)?;
    txn.open_table(AUDIT_DAYS)?;
    Ok(())
}

// Schema v14 (#11): the initial sync's deferred lists.

/// (company id, list kind: `index::keys::kind::CONTACT`, `ASSET` or `GROUP`) → nothing: the
/// company's records of that kind are written without their list, search and counter
/// entries, which are built once, in key order, at the end of the round (see
/// `index/bulk.rs`). While a row is here none of those records has an entry in any scope,
/// and their lists are answered from the records.
pub const LISTS_TO_BUILD: TableDefinition<(u64, u8), ()> = TableDefinition::new("lists_to_build");

/// Schema v14: the deferred lists' marks (a new, empty table: idempotent).
pub(super) fn create_v14(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(LISTS_TO_BUILD)?;
    Ok(())
}

// Schema v16 (#12): Level.io devices on assets, remembered pair decisions, the review queue.

/// (company id, Level device id) → asset id: rule 0's link for the Level side (the Intune
/// side's is `ASSET_DEVICES`). Kept when the device leaves Level, so a device that comes back
/// finds its asset again.
pub const LEVEL_DEVICES: TableDefinition<(u64, &str), u64> = TableDefinition::new("level_devices");
/// (company id, Intune device id, Level device id) → StoredDecision: keep apart (unmerge,
/// "Keep apart") or merge (a manual merge), with who and when. Read whole per company by the
/// Level phase: a company has as many as staff made.
pub const ASSET_DECISIONS: TableDefinition<(u64, &str, &str), &[u8]> =
    TableDefinition::new("asset_decisions");
/// (company id, Intune device id, Level device id) → OpenReview: pairs the merge did not
/// decide, one company a contiguous range (the Review tab pages through it by key).
pub const ASSET_REVIEW: TableDefinition<(u64, &str, &str), &[u8]> =
    TableDefinition::new("asset_review");
/// company id → open review pairs: the count without a walk, kept with every review write.
pub const ASSET_REVIEW_COUNTS: TableDefinition<u64, u64> =
    TableDefinition::new("asset_review_counts");

/// Schema v16: Level links, decisions and the review queue (opening creates; idempotent).
pub(super) fn create_v16(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(LEVEL_DEVICES)?;
    txn.open_table(ASSET_DECISIONS)?;
    txn.open_table(ASSET_REVIEW)?;
    txn.open_table(ASSET_REVIEW_COUNTS)?;
    Ok(())
}

// Schema v18 (#11): the list and word indexes stored as blocks of entries (`index::blocks`).

/// A table of blocks: (list, first sort key, first id) → encoded block (`index::blocks`).
pub type BlockTableDef =
    TableDefinition<'static, (&'static [u8], &'static [u8], u64), &'static [u8]>;

/// (list, first sort key, first id) → a block of the list's entries (sort key, id, the row's
/// company id) in order, from that first entry on (`index::blocks` has the format). A list is
/// one scope (see `index::keys`) in one order; the company table's rows keep owner 0.
pub const LIST_BLOCKS: BlockTableDef = TableDefinition::new("list_blocks");
/// (scope, first word, first id) → a block of the scope's word entries (word, id, company id):
/// word-prefix search within a scope is a seek and a forward walk.
pub const WORD_BLOCKS: BlockTableDef = TableDefinition::new("word_blocks");

/// Schema v18: the blocked list and word indexes (filled by `index::build`).
pub(super) fn create_v18(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(LIST_BLOCKS)?;
    txn.open_table(WORD_BLOCKS)?;
    Ok(())
}

/// Scratch for a list build's sorted runs (`index::spill`): created and deleted inside the
/// build's transaction, so no commit holds it (and no backup copies it).
pub const BUILD_RUNS: BlockTableDef = TableDefinition::new("build_runs");
