//! A first sync's prebuild takes a contact's and an asset's entries once per twinned list
//! (`entries::contact_twinned`, `asset_twinned`): with each twin added, they must be exactly
//! the entries `contact_of` / `asset_of` give, for every kind of record.

use super::{Gen, asset, contact};
use crate::model::{AssetSource, MergeState};
use crate::store::index::entries::{self, Entries, TwinSink, twin_of};
use crate::store::index::fields::{AssetFields, ContactFields};

/// The entries a sink was given, each twin added: what `contact_of` / `asset_of` list.
struct Expanded {
    company: u64,
    e: Entries,
    twinned: usize,
}

impl Expanded {
    fn new(id: u64, company: u64) -> Self {
        Self {
            company,
            e: Entries::new(id, company),
            twinned: 0,
        }
    }

    fn twin(&mut self, scope: &[u8]) -> Vec<u8> {
        self.twinned += 1;
        twin_of(scope, self.company).expect("a twinned scope of the record's company")
    }

    /// Sorted, so two entries' orders do not matter (a list's entries are sorted anyway).
    fn sorted(mut e: Entries) -> Entries {
        e.sorted.sort();
        e.scopes.sort();
        e.words.sort();
        e
    }
}

impl TwinSink for Expanded {
    fn sorted(&mut self, list: &[u8], key: &[u8], twin: bool) {
        self.e.sorted.push((list.to_vec(), key.to_vec()));
        if twin {
            let t = self.twin(list);
            self.e.sorted.push((t, key.to_vec()));
        }
    }

    fn word(&mut self, scope: &[u8], word: &str) {
        self.e.words.push((scope.to_vec(), word.to_string()));
    }

    fn counted(&mut self, scope: &[u8], twin: bool) {
        self.e.scopes.push(scope.to_vec());
        if twin {
            let t = self.twin(scope);
            self.e.scopes.push(t);
        }
    }
}

#[test]
fn twinned_contact_entries_with_their_twins_are_the_contacts_entries() {
    let mut g = Gen::new(23);
    let mut seen = [0usize; 4];
    for id in 1..500 {
        let mut c = contact(&mut g, 1 + id % 4, id);
        c.is_guest = g.chance(25);
        if g.chance(20) {
            c.department.clear();
        }
        if g.chance(10) {
            c.display_name.clear();
            c.job_title.clear();
        }
        seen[usize::from(c.active) * 2 + usize::from(c.is_guest)] += 1;
        let f = ContactFields::of(&c);
        let mut x = Expanded::new(c.id, c.company_id);
        entries::contact_twinned(&f, &mut x);
        assert!(x.twinned > 10, "{c:?}");
        assert_eq!(
            Expanded::sorted(x.e),
            Expanded::sorted(entries::contact_of(&f)),
            "{c:?}"
        );
    }
    assert!(seen.iter().all(|n| *n > 10), "{seen:?}");
}

#[test]
fn twinned_asset_entries_with_their_twins_are_the_assets_entries() {
    let mut g = Gen::new(29);
    let states = [
        MergeState::Single,
        MergeState::Merged,
        MergeState::NeedsReview,
        MergeState::Inactive,
    ];
    let (mut with_user, mut sources) = (0, [0usize; 3]);
    for id in 1..700 {
        let mut a = asset(&mut g, 1 + id % 3, id, &[7, 8, 9]);
        for (source, percent) in [("intune", 70), ("levelio", 40), ("other", 10)] {
            if g.chance(percent) {
                a.sources.push(AssetSource {
                    source: source.into(),
                    external_id: format!("{source}-{id}"),
                    last_seen: None,
                    details: serde_json::Value::Null,
                });
            }
        }
        a.merge.state = states[g.below(4) as usize];
        with_user += usize::from(a.primary_user_contact_id.is_some());
        sources[a.sources.len().min(2)] += 1;
        let f = AssetFields::of(&a);
        let mut x = Expanded::new(a.id, a.company_id);
        entries::asset_twinned(&f, &mut x);
        let (got, want) = (
            Expanded::sorted(x.e),
            Expanded::sorted(entries::asset_of(&f)),
        );
        assert_eq!(got.sorted, want.sorted, "{a:?}");
        assert_eq!(got.words, want.words, "{a:?}");
        assert_eq!(got.scopes, want.scopes, "{a:?}");
    }
    assert!(with_user > 100 && with_user < 650, "{with_user}");
    assert!(sources.iter().all(|n| *n > 50), "{sources:?}");
}

#[test]
fn a_scope_of_another_company_or_of_every_company_has_no_twin() {
    let scope = crate::store::index::keys::scope(1, &[7]);
    assert_eq!(
        twin_of(&scope, 7),
        Some(crate::store::index::keys::scope(1, &[0]))
    );
    assert_eq!(twin_of(&scope, 8), None);
    assert_eq!(twin_of(&crate::store::index::keys::scope(1, &[0]), 0), None);
    assert_eq!(twin_of(&[1, 0, 0], 7), None);
}
