//! Prebuilds (`prebuild/`): a first sync whose lists were prepared beside it ends with
//! exactly the indexes a full build writes, falls back to the full build when a covered
//! record is written again, and is left correct by a restart or a failed batch.

use super::lists::{assert_consistent, compare_directory};
use super::*;
use crate::store::ListKind;
use crate::store::index::{blocks, keys};
use crate::store::tables::{LIST_BLOCKS, LIST_COUNTS, WORD_BLOCKS};

const NEW: u64 = 5;
/// Records of each kind per batch, and batches before the round's last.
const PER_BATCH: u64 = 40;
const BATCHES: u64 = 5;

/// Every entry of the list and word indexes, and every counter: (table, list, key, id, owner).
/// Entries, not rows: how a list is cut into blocks may differ (the full build applies a
/// small run at once, the prebuild streams each list whole), and both cuts keep the blocks'
/// invariants (`verify_indexes`).
type Dump = Vec<(u8, Vec<u8>, Vec<u8>, u64, u64)>;

fn dump(s: &Store) -> Dump {
    s.read_blocking(|r| {
        let mut out = Vec::new();
        for (n, def) in [(0u8, LIST_BLOCKS), (1, WORD_BLOCKS)] {
            for row in r.txn.open_table(def)?.iter()? {
                let (k, v) = row?;
                let list = k.value().0.to_vec();
                for e in blocks::decode(v.value())? {
                    out.push((n, list.clone(), e.key, e.id, e.owner));
                }
            }
        }
        for row in r.txn.open_table(LIST_COUNTS)?.iter()? {
            let (k, v) = row?;
            out.push((2, k.value().to_vec(), Vec::new(), v.value(), 0));
        }
        Ok::<_, StoreError>(out)
    })
    .expect("dump")
}

/// A store with other companies' records, and company `NEW` in its first sync.
fn started(dir: &std::path::Path) -> (Store, Gen) {
    let s = store(dir);
    let mut g = Gen::new(41);
    s.write_blocking(|w| seed(w, &mut g, &[60, 20]))
        .expect("seed");
    s.write_blocking(|w| w.put_company(&company(&mut g, NEW)))
        .expect("company");
    (s, g)
}

/// One sync batch of `NEW`'s contacts and assets with ids from `first` (as a sync batch
/// writes: deferred upkeep, marks first), then the kick a sync gives after a commit.
fn batch(s: &Store, g: &mut Gen, first: u64, kick: bool) {
    s.write_blocking(|w| put_batch(w, g, first)).expect("batch");
    if kick {
        s.prebuild_lists();
    }
}

fn put_batch(w: &mut Writer, g: &mut Gen, first: u64) -> Result<(), StoreError> {
    w.defer_index_upkeep();
    assert!(w.defer_lists_if_empty(NEW, ListKind::Contacts)?);
    assert!(w.defer_lists_if_empty(NEW, ListKind::Assets)?);
    let ids: Vec<u64> = (first..first + PER_BATCH).collect();
    for id in &ids {
        w.put_contact(&contact(g, NEW, *id))?;
    }
    for id in &ids {
        w.put_asset(&asset(g, NEW, id + 100_000, &ids))?;
    }
    Ok(())
}

/// The round's last batch, which builds both kinds' lists in its transaction.
fn last_batch(s: &Store, g: &mut Gen, first: u64) {
    s.write_blocking(|w| {
        put_batch(w, g, first)?;
        w.build_deferred_lists(NEW, ListKind::Contacts)?;
        w.build_deferred_lists(NEW, ListKind::Assets)
    })
    .expect("last batch");
}

fn served(s: &Store) -> Vec<((u64, ListKind), u64)> {
    s.prebuilds()
        .served
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// The same first sync, with or without the kicks that prepare its lists.
fn first_sync(dir: &std::path::Path, kick: bool) -> Store {
    let (s, mut g) = started(dir);
    for b in 0..BATCHES {
        batch(&s, &mut g, 50_000 + b * PER_BATCH, kick);
    }
    last_batch(&s, &mut g, 50_000 + BATCHES * PER_BATCH);
    s
}

/// The same first sync run twice, with the prebuild kicked and without: the two stores (and
/// their directories, which must outlive them). Both must end with identical indexes.
fn with_and_without(
    run: impl Fn(&std::path::Path, bool) -> Store,
) -> ((tempfile::TempDir, Store), (tempfile::TempDir, Store)) {
    let both = with_and_without_unchecked(run);
    assert_consistent(&both.0.1);
    both
}

/// A contact written where the helper had already covered (a replay, a low id): the
/// contacts' lists come from the records, the assets' prebuild (untouched) serves.
fn only_the_assets_served(pre: &Store) {
    let kinds: Vec<ListKind> = served(pre).iter().map(|(k, _)| k.1).collect();
    assert_eq!(kinds, vec![ListKind::Assets]);
}

/// Every batch but the last, the helper settled (it covers them), then `write` in a
/// transaction of its own, then the last batch: a first sync with one write where the
/// prebuild had already been.
fn written_after_covering(
    dir: &std::path::Path,
    kick: bool,
    write: impl FnOnce(&mut Writer, &mut Gen) -> Result<(), StoreError>,
) -> Store {
    let (s, mut g) = started(dir);
    for b in 0..BATCHES {
        batch(&s, &mut g, 50_000 + b * PER_BATCH, kick);
    }
    s.prebuilds().settle();
    s.write_blocking(|w| {
        w.defer_index_upkeep();
        write(w, &mut g)
    })
    .expect("the write after covering");
    if kick {
        s.prebuild_lists();
    }
    last_batch(&s, &mut g, 50_000 + BATCHES * PER_BATCH);
    s
}

#[test]
fn a_prebuilt_first_sync_writes_exactly_the_indexes_of_a_full_build() {
    let (a, b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let pre = first_sync(a.path(), true);
    let full = first_sync(b.path(), false);
    // The prebuild covered every batch committed before the last (the build waits for the
    // helper); the full build's store prepared nothing.
    let covered = BATCHES * PER_BATCH;
    let mut got = served(&pre);
    got.sort_by_key(|(k, _)| k.1 as u8);
    assert_eq!(
        got,
        vec![
            ((NEW, ListKind::Contacts), covered),
            ((NEW, ListKind::Assets), covered)
        ]
    );
    assert!(served(&full).is_empty());
    assert_consistent(&pre);
    assert_consistent(&full);
    let (dp, df) = (dump(&pre), dump(&full));
    assert!(dp.len() > 10_000, "{} entries", dp.len());
    assert_eq!(dp, df, "the prebuilt indexes differ from the full build's");
    assert!(compare_directory(&pre, &[Some(NEW), None]) > 100);
}

#[test]
fn a_covered_record_written_again_falls_back_to_the_full_build_and_stays_exact() {
    // Graph replays a user of the first batch (covered by now), renamed.
    let run = |dir: &std::path::Path, kick: bool| {
        written_after_covering(dir, kick, |w, _| {
            let mut c = w.contact(NEW, 50_003)?.expect("covered contact");
            c.display_name = "Zed Replayed".into();
            w.put_contact(&c)
        })
    };
    let ((_a, pre), _full) = with_and_without(run);
    only_the_assets_served(&pre);
    let window = crate::store::Window {
        desc: false,
        search: None,
        after: None,
        offset: 0,
        limit: 1_000,
    };
    let page = pre
        .read_blocking(|r| r.contact_page(Some(NEW), crate::model::ContactSort::Name, window))
        .expect("page");
    let replayed: Vec<&str> = page
        .rows
        .iter()
        .filter(|c| c.id == 50_003)
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(
        replayed,
        vec!["Zed Replayed"],
        "listed once, as last written"
    );
}

#[test]
fn a_restart_mid_round_drops_the_prebuild_and_the_lists_are_built_from_the_records() {
    let (a, b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (s, mut g) = started(a.path());
    for b in 0..BATCHES {
        batch(&s, &mut g, 50_000 + b * PER_BATCH, true);
    }
    s.prebuilds().settle();
    drop(s);
    // The next start builds every mark left (`build_all_pending`), from the records.
    let s = store(a.path());
    assert!(served(&s).is_empty());
    assert!(
        s.read_blocking(|r| r.all_lists_pending())
            .expect("marks")
            .is_empty()
    );
    assert_consistent(&s);

    let (f, mut g) = started(b.path());
    for b in 0..BATCHES {
        batch(&f, &mut g, 50_000 + b * PER_BATCH, false);
    }
    drop(f);
    let f = store(b.path());
    assert_eq!(dump(&s), dump(&f));
}

#[test]
fn a_failed_batch_leaves_nothing_stale_in_the_prebuild() {
    let run = |dir: &std::path::Path, kick: bool| {
        let (s, mut g) = started(dir);
        batch(&s, &mut g, 50_000, kick);
        batch(&s, &mut g, 50_000 + PER_BATCH, kick);
        // A batch that fails after writing its records (its group did not commit): nothing
        // of it is committed, so the helper never reads it; its ids are taken again below.
        let mut lost = Gen::new(99);
        let failed = s.write_blocking(|w| {
            put_batch(w, &mut lost, 50_000 + 2 * PER_BATCH)?;
            Err::<(), _>(StoreError::Join("the group failed".into()))
        });
        assert!(failed.is_err());
        if kick {
            s.prebuild_lists();
        }
        batch(&s, &mut g, 50_000 + 2 * PER_BATCH, kick);
        last_batch(&s, &mut g, 50_000 + 3 * PER_BATCH);
        s
    };
    let ((_a, pre), _full) = with_and_without(run);
    assert_eq!(served(&pre).len(), 2, "both kinds from their prebuilds");
    assert!(served(&pre).iter().all(|(_, n)| *n == 3 * PER_BATCH));
}

#[test]
fn a_new_record_with_an_id_below_what_is_covered_falls_back_to_the_full_build() {
    // Ids grow (`keys::seq`), so this never happens in a sync; if it did, the helper, past
    // that id already, would never read the record.
    let run = |dir: &std::path::Path, kick: bool| {
        written_after_covering(dir, kick, |w, g| w.put_contact(&contact(g, NEW, 49_999)))
    };
    let ((_a, pre), _full) = with_and_without(run);
    only_the_assets_served(&pre);
}

#[test]
fn the_very_first_company_writes_each_twinned_list_to_both_scopes() {
    // No other company: every list across companies is empty, so the prebuild writes the
    // company's merged blocks to its twins as they are (with other companies, as in the
    // tests above, it applies them to the twins that have entries).
    let run = |dir: &std::path::Path, kick: bool| {
        let s = store(dir);
        let mut g = Gen::new(43);
        s.write_blocking(|w| w.put_company(&company(&mut g, NEW)))
            .expect("company");
        for b in 0..BATCHES {
            batch(&s, &mut g, 50_000 + b * PER_BATCH, kick);
        }
        last_batch(&s, &mut g, 50_000 + BATCHES * PER_BATCH);
        s
    };
    let ((_a, pre), _full) = with_and_without(run);
    assert_eq!(served(&pre).len(), 2, "both kinds from their prebuilds");
    let d = dump(&pre);
    let across = |kind: u8| {
        d.iter()
            .filter(|e| e.0 == 0 && e.1.first() == Some(&kind) && e.1.get(1..9) == Some(&[0; 8]))
            .count()
    };
    use crate::store::index::keys::kind;
    assert!(
        across(kind::CONTACT) >= 6 * 240,
        "{}",
        across(kind::CONTACT)
    );
    assert!(
        across(kind::CONTACT_WORD) > 240,
        "{}",
        across(kind::CONTACT_WORD)
    );
    assert!(
        across(kind::ASSET_FILTER) >= 6 * 240,
        "{}",
        across(kind::ASSET_FILTER)
    );
}

/// `first_sync` whose assets with a user all belong to one (a contact of its first batch):
/// that user's devices take some 170 entries of the company's list (two blocks), from every
/// run.
fn first_sync_one_user(dir: &std::path::Path, kick: bool) -> Store {
    let (s, mut g) = started(dir);
    let users = [50_000];
    let put = |w: &mut Writer, g: &mut Gen, first: u64| -> Result<(), StoreError> {
        w.defer_index_upkeep();
        assert!(w.defer_lists_if_empty(NEW, ListKind::Contacts)?);
        assert!(w.defer_lists_if_empty(NEW, ListKind::Assets)?);
        for id in first..first + PER_BATCH {
            w.put_contact(&contact(g, NEW, id))?;
        }
        for id in first..first + PER_BATCH {
            w.put_asset(&asset(g, NEW, id + 100_000, &users))?;
        }
        Ok(())
    };
    for b in 0..BATCHES {
        s.write_blocking(|w| put(w, &mut g, 50_000 + b * PER_BATCH))
            .expect("batch");
        if kick {
            s.prebuild_lists();
        }
    }
    s.write_blocking(|w| {
        put(w, &mut g, 50_000 + BATCHES * PER_BATCH)?;
        w.build_deferred_lists(NEW, ListKind::Contacts)?;
        w.build_deferred_lists(NEW, ListKind::Assets)
    })
    .expect("last batch");
    s
}

/// The keys of `NEW`'s devices-by-user entries in a dump, by list (and no counter of them).
fn user_lists(d: &Dump) -> std::collections::BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut out = std::collections::BTreeMap::<Vec<u8>, Vec<Vec<u8>>>::new();
    for e in d {
        if e.1.first() == Some(&kind_by_user()) && e.1.get(1..9) == Some(&NEW.to_be_bytes()[..]) {
            assert_eq!(e.0, 0, "a devices-by-user entry outside the lists: {e:?}");
            out.entry(e.1.clone()).or_default().push(e.2.clone());
        }
    }
    out
}

#[test]
fn a_companys_devices_by_user_are_one_list_as_the_full_build_writes_it() {
    // Many users with a device or two (the usual tenant), and a user with many devices,
    // spread over every run: one list of the company, each user's devices one run of it
    // (`keys::user_devices_list`), the same as the full build's (`with_and_without`).
    let ((_a, pre), _full) = with_and_without(first_sync);
    assert_eq!(served(&pre).len(), 2, "both kinds from their prebuilds");
    let many = user_lists(&dump(&pre));
    assert_eq!(
        many.keys().collect::<Vec<_>>(),
        vec![&keys::user_devices_list(NEW)]
    );
    let users: std::collections::BTreeSet<&[u8]> =
        many.values().flatten().map(|k| &k[..8]).collect();
    assert!(users.len() > 100, "{} users with devices", users.len());

    let ((_a, pre), _full) = with_and_without(first_sync_one_user);
    assert_eq!(served(&pre).len(), 2, "both kinds from their prebuilds");
    let one = user_lists(&dump(&pre));
    let keys_of_one = one.get(&keys::user_devices_list(NEW)).expect("the list");
    assert!(
        keys_of_one
            .iter()
            .all(|k| k.starts_with(&50_000u64.to_be_bytes())),
        "every device is the one user's"
    );
    // More than a block takes (`blocks::MAX`): cut into blocks as any list.
    assert!(keys_of_one.len() > blocks::MAX, "{}", keys_of_one.len());
    let rows = pre
        .read_blocking(|r| {
            let mut n = 0;
            for row in r.txn.open_table(LIST_BLOCKS)?.iter()? {
                n += usize::from(row?.0.value().0 == keys::user_devices_list(NEW).as_slice());
            }
            Ok::<_, StoreError>(n)
        })
        .expect("rows");
    assert!(
        rows >= 2,
        "{rows} blocks for a list of over {} entries",
        blocks::MAX
    );
    // And a contact's devices read back from it, by hostname then id.
    let mine = pre
        .read_blocking(|r| r.assets_of_user(NEW, 50_000))
        .expect("devices");
    assert_eq!(mine.len(), keys_of_one.len());
    assert!(
        mine.windows(2)
            .all(|w| (w[0].hostname.as_bytes(), w[0].id) < (w[1].hostname.as_bytes(), w[1].id))
    );
    assert!(
        pre.read_blocking(|r| r.assets_of_user(NEW, 50_001))
            .expect("none")
            .is_empty()
    );
}

fn kind_by_user() -> u8 {
    keys::kind::ASSET_BY_USER
}

#[test]
fn a_devices_by_user_list_with_blocks_before_the_build_keeps_them() {
    // Never expected in a first sync (its records have no entries while the mark stands),
    // but a list that has blocks already takes the merged entries through `blocks::apply`,
    // as every list does: the prebuild still serves, and the early entry stays.
    let early = keys::user_device_key(50_001, "early");
    let run = |dir: &std::path::Path, kick: bool| {
        written_after_covering(dir, kick, |w, _| {
            let list = keys::user_devices_list(NEW);
            let block = blocks::encode([(early.as_slice(), 7u64, NEW)], 1);
            let mut t = w.txn.open_table(LIST_BLOCKS)?;
            t.insert((list.as_slice(), early.as_slice(), 7), block.as_slice())?;
            Ok(())
        })
    };
    let ((_a, pre), _full) = with_and_without_unchecked(run);
    assert_eq!(served(&pre).len(), 2, "both kinds from their prebuilds");
    let lists = user_lists(&dump(&pre));
    let keys_of = lists.get(&keys::user_devices_list(NEW)).expect("the list");
    assert!(keys_of.contains(&early), "the early entry is kept");
    assert!(keys_of.len() > 1, "and the sync's entries added");
}

/// [`with_and_without`] for stores whose indexes hold an entry no record makes (so they
/// are not checked against the records): the two must still be identical.
fn with_and_without_unchecked(
    run: impl Fn(&std::path::Path, bool) -> Store,
) -> ((tempfile::TempDir, Store), (tempfile::TempDir, Store)) {
    let (a, b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let pre = run(a.path(), true);
    let full = run(b.path(), false);
    assert_eq!(
        dump(&pre),
        dump(&full),
        "the indexes differ from a full build's"
    );
    ((a, pre), (b, full))
}

#[test]
fn a_counter_stored_before_the_build_is_moved_not_replaced() {
    // The prebuild inserts a company's counters when none of their kind is stored yet (a
    // first sync's) and moves them otherwise: a stored counter must keep what it held.
    let run = |dir: &std::path::Path, kick: bool| {
        written_after_covering(dir, kick, |w, _| {
            let mut t = w.txn.open_table(LIST_COUNTS)?;
            crate::store::index::add(&mut t, &keys::scope(keys::kind::ASSET, &[NEW]), 1_000)?;
            Ok(())
        })
    };
    let ((_a, pre), _full) = with_and_without_unchecked(run);
    assert_eq!(served(&pre).len(), 2, "both kinds from their prebuilds");
    let assets = keys::scope(keys::kind::ASSET, &[NEW]);
    let n = pre
        .read_blocking(|r| {
            Ok::<_, StoreError>(
                r.txn
                    .open_table(LIST_COUNTS)?
                    .get(assets.as_slice())?
                    .map(|g| g.value()),
            )
        })
        .expect("counter");
    assert!(n.is_some_and(|n| n >= 1_000), "{n:?}");
}
