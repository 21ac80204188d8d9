//! A build reads only the fields a record's entries use (`index::fields`): read that way from
//! the stored bytes, every contact and asset has exactly the entries its full decode gives,
//! whatever its strings hold (escapes, which the view copies; unicode), its sources and merge
//! state, and for an asset stored before schema v16 (no `merge`).

use super::{Gen, asset, contact};
use crate::model::{Asset, AssetSource, Contact, MergeState};
use crate::store::codec::{dec, dec_view, enc};
use crate::store::index::entries;

/// Sometimes a string the JSON must escape (quote, backslash, control character).
fn maybe_escaped(g: &mut Gen, s: &mut String) {
    if g.chance(30) {
        s.push_str(" \"Q\" \\ tab\t é");
    }
}

#[test]
fn a_record_read_as_its_fields_has_the_entries_of_the_full_record() {
    let mut g = Gen::new(11);
    let mut escaped = 0;
    for id in 1..400 {
        let mut c = contact(&mut g, 1 + id % 3, id);
        c.is_guest = g.chance(20);
        maybe_escaped(&mut g, &mut c.display_name);
        maybe_escaped(&mut g, &mut c.email);
        maybe_escaped(&mut g, &mut c.department);
        escaped += usize::from(c.display_name.contains('"'));
        let bytes = enc(&c).expect("enc");
        let full = entries::contact(&dec::<Contact>(&bytes).expect("full"));
        assert_eq!(full, entries::contact(&c), "{c:?}");
        assert_eq!(
            entries::contact_of(&dec_view(&bytes).expect("view")),
            full,
            "{c:?}"
        );
    }
    assert!(escaped > 20, "few escaped names: {escaped}");
    let states = [
        MergeState::Single,
        MergeState::Merged,
        MergeState::NeedsReview,
        MergeState::Inactive,
    ];
    let mut with_sources = [0usize; 3];
    for id in 1..600 {
        let mut a = asset(&mut g, 1 + id % 3, id, &[7, 8, 9]);
        maybe_escaped(&mut g, &mut a.hostname);
        maybe_escaped(&mut g, &mut a.os);
        for (source, percent) in [("intune", 70), ("levelio", 40), ("other", 10)] {
            if g.chance(percent) {
                a.sources.push(AssetSource {
                    source: source.into(),
                    external_id: format!("{source}-{id}"),
                    last_seen: None,
                    details: serde_json::json!({"isEncrypted": true, "note": "a \"b\"", "n": [1, 2]}),
                });
            }
        }
        with_sources[a.sources.len().min(2)] += 1;
        a.merge.state = states[g.below(4) as usize];
        let bytes = enc(&a).expect("enc");
        let full = entries::asset(&dec::<Asset>(&bytes).expect("full"));
        assert_eq!(full, entries::asset(&a), "{a:?}");
        assert_eq!(
            entries::asset_of(&dec_view(&bytes).expect("view")),
            full,
            "{a:?}"
        );
        // Stored before schema v16: no merge at all.
        let mut old: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        if let Some(o) = old.as_object_mut() {
            o.remove("merge");
        }
        let bytes = serde_json::to_vec(&old).expect("old");
        let full = entries::asset(&dec::<Asset>(&bytes).expect("full old"));
        assert_eq!(
            entries::asset_of(&dec_view(&bytes).expect("view old")),
            full,
            "{a:?}"
        );
    }
    assert!(with_sources.iter().all(|n| *n > 50), "{with_sources:?}");
}
