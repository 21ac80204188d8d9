//! One asset per physical machine from Intune and Level records (rules 0–7 of
//! docs/levelio.md#merge-rules). Pure: same input, same outcome; no store, no clock.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::identity::{hostname_key, platform_family, serial_key};
use super::provenance::fields;
use crate::model::{
    ExistingAsset, IntuneRecord, LevelRecord, MatchRule, MergeOutcome, MergedAsset, PairDecision,
    PairDecisionKind, ReviewItem, ReviewReason,
};

/// Everything the merge reads. Records of several companies may be mixed: they are merged
/// company by company and never across (rule 4).
pub struct MergeInput<'a> {
    /// Stands in for "seen now" for an online Level agent without `last_seen_at`.
    pub now: DateTime<Utc>,
    pub intune: &'a [IntuneRecord],
    pub level: &'a [LevelRecord],
    pub existing: &'a [ExistingAsset],
    pub decisions: &'a [PairDecision],
}

/// Merges every company in the input.
pub fn merge(input: &MergeInput<'_>) -> MergeOutcome {
    let mut companies: BTreeSet<u64> = BTreeSet::new();
    companies.extend(input.intune.iter().map(|r| r.company_id));
    companies.extend(input.level.iter().map(|r| r.company_id));
    companies.extend(input.existing.iter().map(|r| r.company_id));
    let mut out = MergeOutcome::default();
    for c in companies {
        let company = Company {
            id: c,
            now: input.now,
            intune: input.intune.iter().filter(|r| r.company_id == c).collect(),
            level: input.level.iter().filter(|r| r.company_id == c).collect(),
            existing: input
                .existing
                .iter()
                .filter(|r| r.company_id == c)
                .collect(),
            decisions: input
                .decisions
                .iter()
                .filter(|r| r.company_id == c)
                .collect(),
        };
        company.merge_into(&mut out);
    }
    out
}

struct Company<'a> {
    id: u64,
    now: DateTime<Utc>,
    intune: Vec<&'a IntuneRecord>,
    level: Vec<&'a LevelRecord>,
    existing: Vec<&'a ExistingAsset>,
    decisions: Vec<&'a PairDecision>,
}

/// A pair or single the merge settled on, before its asset id is chosen.
struct Settled<'a> {
    i: Option<&'a IntuneRecord>,
    l: Option<&'a LevelRecord>,
    rule: MatchRule,
    /// The asset that already held both (rule 0).
    linked_asset: Option<u64>,
}

/// Mutable bookkeeping while one company is merged.
#[derive(Default)]
struct Book<'a> {
    used_i: HashSet<&'a str>,
    used_l: HashSet<&'a str>,
    /// Records held back for review: not matched by a later rule.
    held_i: HashSet<&'a str>,
    held_l: HashSet<&'a str>,
    settled: Vec<Settled<'a>>,
    review: BTreeSet<ReviewItem>,
}

impl<'a> Book<'a> {
    fn pair(&mut self, i: &'a IntuneRecord, l: &'a LevelRecord, rule: MatchRule) {
        self.used_i.insert(&i.id);
        self.used_l.insert(&l.id);
        self.settled.push(Settled {
            i: Some(i),
            l: Some(l),
            rule,
            linked_asset: None,
        });
    }

    fn free_i(&self, id: &str) -> bool {
        !self.used_i.contains(id) && !self.held_i.contains(id)
    }

    fn free_l(&self, id: &str) -> bool {
        !self.used_l.contains(id) && !self.held_l.contains(id)
    }
}

impl<'a> Company<'a> {
    fn review(&self, book: &mut Book<'a>, i: &'a str, l: &'a str, reason: ReviewReason) {
        book.review.insert(ReviewItem {
            company_id: self.id,
            intune_id: i.to_string(),
            level_id: l.to_string(),
            reason,
        });
    }

    fn merge_into(&self, out: &mut MergeOutcome) {
        let by_i: HashMap<&str, &IntuneRecord> =
            self.intune.iter().map(|r| (r.id.as_str(), *r)).collect();
        let by_l: HashMap<&str, &LevelRecord> =
            self.level.iter().map(|r| (r.id.as_str(), *r)).collect();
        let apart: HashSet<(&str, &str)> = self
            .decisions
            .iter()
            .filter(|d| d.kind == PairDecisionKind::KeepApart)
            .map(|d| (d.intune_id.as_str(), d.level_id.as_str()))
            .collect();
        let mut book = Book::default();
        // Rule 0: a pair already linked stays linked by its ids, whatever its serial or
        // hostname say now. Assets that lost a source keep the other (rule 7).
        let mut asset_of_i: HashMap<&str, u64> = HashMap::new();
        let mut asset_of_l: HashMap<&str, u64> = HashMap::new();
        let mut existing = self.existing.clone();
        existing.sort_by_key(|e| e.asset_id);
        for e in existing {
            let i = e.intune_id.as_deref().and_then(|x| by_i.get(x).copied());
            let l = e.level_id.as_deref().and_then(|x| by_l.get(x).copied());
            let i = i.filter(|r| {
                !book.used_i.contains(r.id.as_str()) && !asset_of_i.contains_key(r.id.as_str())
            });
            let l = l.filter(|r| {
                !book.used_l.contains(r.id.as_str()) && !asset_of_l.contains_key(r.id.as_str())
            });
            match (i, l) {
                (Some(i), Some(l)) if !apart.contains(&(i.id.as_str(), l.id.as_str())) => {
                    book.used_i.insert(&i.id);
                    book.used_l.insert(&l.id);
                    book.settled.push(Settled {
                        i: Some(i),
                        l: Some(l),
                        rule: MatchRule::Linked,
                        linked_asset: Some(e.asset_id),
                    });
                }
                (None, None) => out.retired.push(e.asset_id),
                (i, l) => {
                    if let Some(i) = i {
                        asset_of_i.insert(&i.id, e.asset_id);
                    }
                    if let Some(l) = l {
                        asset_of_l.entry(&l.id).or_insert(e.asset_id);
                    }
                    if i.is_some() && l.is_some() {
                        // Kept apart although stored together: the Level side gets a new asset.
                        if let Some(l) = l {
                            asset_of_l.remove(l.id.as_str());
                        }
                    }
                }
            }
        }
        // Rule 6: a manual merge is remembered like a link.
        for d in self
            .decisions
            .iter()
            .filter(|d| d.kind == PairDecisionKind::Merge)
        {
            if let (Some(i), Some(l)) = (
                by_i.get(d.intune_id.as_str()),
                by_l.get(d.level_id.as_str()),
            ) && book.free_i(&i.id)
                && book.free_l(&l.id)
            {
                book.pair(i, l, MatchRule::Manual);
            }
        }
        self.match_serials(&mut book, &apart);
        self.match_hostnames(&mut book, &apart);
        self.emit(book, &asset_of_i, &asset_of_l, out);
    }

    /// Rule 2: the same usable serial on exactly one free record on each side.
    fn match_serials(&self, book: &mut Book<'a>, apart: &HashSet<(&str, &str)>) {
        // Counted over every record of the source: a serial two devices report is not unique
        // (rule 1), even when one of them is already linked.
        let mut count_i: HashMap<String, usize> = HashMap::new();
        for r in &self.intune {
            if let Some(k) = serial_key(&r.serial_number) {
                *count_i.entry(k).or_default() += 1;
            }
        }
        let mut level_by_serial: HashMap<String, Vec<&'a LevelRecord>> = HashMap::new();
        for r in &self.level {
            if let Some(k) = serial_key(&r.serial_number) {
                level_by_serial.entry(k).or_default().push(*r);
            }
        }
        let mut intune = self.intune.clone();
        intune.sort_by(|a, b| a.id.cmp(&b.id));
        for i in intune {
            if !book.free_i(&i.id) {
                continue;
            }
            let Some(key) = serial_key(&i.serial_number) else {
                continue;
            };
            let all = level_by_serial
                .get(&key)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let cands: Vec<&'a LevelRecord> = all
                .iter()
                .copied()
                .filter(|l| book.free_l(&l.id) && !apart.contains(&(i.id.as_str(), l.id.as_str())))
                .collect();
            let unique = count_i.get(&key) == Some(&1) && all.len() == 1;
            match cands.as_slice() {
                [l] if unique => {
                    let host_differs = hostname_key(&i.hostname) != hostname_key(&l.hostname);
                    let platform_differs = platform_family(&i.os) != platform_family(&l.platform);
                    if host_differs && platform_differs {
                        book.held_i.insert(&i.id);
                        book.held_l.insert(&l.id);
                        self.review(
                            book,
                            &i.id,
                            &l.id,
                            ReviewReason::SerialMatchButHostAndPlatformDiffer,
                        );
                    } else {
                        book.pair(i, l, MatchRule::Serial);
                    }
                }
                _ => {}
            }
        }
    }

    /// Rule 3: the same hostname on exactly one free record on each side; ties and serial
    /// conflicts go to review. Then serials shared by several devices that the hostname did
    /// not settle go to review too.
    fn match_hostnames(&self, book: &mut Book<'a>, apart: &HashSet<(&str, &str)>) {
        let mut hi: BTreeMap<String, Vec<&'a IntuneRecord>> = BTreeMap::new();
        let mut hl: BTreeMap<String, Vec<&'a LevelRecord>> = BTreeMap::new();
        for r in self.intune.iter().filter(|r| book.free_i(&r.id)) {
            if let Some(k) = hostname_key(&r.hostname) {
                hi.entry(k).or_default().push(*r);
            }
        }
        for r in self.level.iter().filter(|r| book.free_l(&r.id)) {
            if let Some(k) = hostname_key(&r.hostname) {
                hl.entry(k).or_default().push(*r);
            }
        }
        for (key, is) in &hi {
            let Some(ls) = hl.get(key) else { continue };
            let pairs: Vec<(&'a IntuneRecord, &'a LevelRecord)> = is
                .iter()
                .flat_map(|i| ls.iter().map(move |l| (*i, *l)))
                .filter(|(i, l)| !apart.contains(&(i.id.as_str(), l.id.as_str())))
                .collect();
            if is.len() == 1 && ls.len() == 1 {
                let Some((i, l)) = pairs.first().copied() else {
                    continue; // the only pair was kept apart
                };
                match (serial_key(&i.serial_number), serial_key(&l.serial_number)) {
                    (Some(a), Some(b)) if a != b => {
                        self.review(book, &i.id, &l.id, ReviewReason::HostnameMatchSerialsDiffer);
                    }
                    _ => book.pair(i, l, MatchRule::Hostname),
                }
            } else {
                for (i, l) in pairs {
                    self.review(book, &i.id, &l.id, ReviewReason::HostnameTie);
                }
            }
        }
        // Serials several devices share, that neither rule settled: a human decides.
        let mut level_by_serial: HashMap<String, Vec<&'a LevelRecord>> = HashMap::new();
        for r in self.level.iter().filter(|r| book.free_l(&r.id)) {
            if let Some(k) = serial_key(&r.serial_number) {
                level_by_serial.entry(k).or_default().push(*r);
            }
        }
        let mut intune_by_serial: HashMap<String, usize> = HashMap::new();
        for r in &self.intune {
            if let Some(k) = serial_key(&r.serial_number) {
                *intune_by_serial.entry(k).or_default() += 1;
            }
        }
        let free: Vec<&'a IntuneRecord> = self
            .intune
            .iter()
            .copied()
            .filter(|r| book.free_i(&r.id))
            .collect();
        for i in free {
            let Some(key) = serial_key(&i.serial_number) else {
                continue;
            };
            let Some(ls) = level_by_serial.get(&key) else {
                continue;
            };
            let shared = ls.len() > 1 || intune_by_serial.get(&key).is_some_and(|n| *n > 1);
            if !shared {
                continue;
            }
            for l in ls {
                if !apart.contains(&(i.id.as_str(), l.id.as_str())) {
                    self.review(book, &i.id, &l.id, ReviewReason::SerialSharedByMany);
                }
            }
        }
    }

    /// Chooses asset ids, fills the fields and appends this company's outcome.
    fn emit(
        &self,
        mut book: Book<'a>,
        asset_of_i: &HashMap<&str, u64>,
        asset_of_l: &HashMap<&str, u64>,
        out: &mut MergeOutcome,
    ) {
        for i in &self.intune {
            if !book.used_i.contains(i.id.as_str()) {
                book.settled.push(Settled {
                    i: Some(*i),
                    l: None,
                    rule: MatchRule::Single,
                    linked_asset: None,
                });
            }
        }
        for l in &self.level {
            if !book.used_l.contains(l.id.as_str()) {
                book.settled.push(Settled {
                    i: None,
                    l: Some(*l),
                    rule: MatchRule::Single,
                    linked_asset: None,
                });
            }
        }
        let mut assets = Vec::with_capacity(book.settled.len());
        for s in book.settled {
            let ai = s.i.and_then(|i| asset_of_i.get(i.id.as_str()).copied());
            let al = s.l.and_then(|l| asset_of_l.get(l.id.as_str()).copied());
            // Two existing single-source assets that now pair: the older id survives and the
            // other is absorbed (rule 6: duplicates merge on the next sync).
            let asset_id = match (s.linked_asset, ai, al) {
                (Some(a), _, _) => Some(a),
                (None, Some(a), Some(b)) => {
                    let (keep, gone) = if a <= b { (a, b) } else { (b, a) };
                    if keep != gone {
                        out.absorbed.push((gone, keep));
                    }
                    Some(keep)
                }
                (None, a, b) => a.or(b),
            };
            assets.push(MergedAsset {
                company_id: self.id,
                asset_id,
                intune_id: s.i.map(|i| i.id.clone()),
                level_id: s.l.map(|l| l.id.clone()),
                rule: s.rule,
                fields: fields(s.i, s.l, self.now),
            });
        }
        assets.sort_by(|a, b| {
            (a.asset_id.is_none(), a.asset_id, &a.intune_id, &a.level_id).cmp(&(
                b.asset_id.is_none(),
                b.asset_id,
                &b.intune_id,
                &b.level_id,
            ))
        });
        out.assets.extend(assets);
        out.review.extend(book.review);
        out.retired.sort_unstable();
        out.absorbed.sort_unstable();
    }
}
