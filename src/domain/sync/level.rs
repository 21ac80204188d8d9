//! The Level.io phase of the identity job (docs/levelio.md#sync): after the Entra and Intune
//! steps, when Level is connected and the company has mapped groups, list the company's
//! mapped subtrees (every include flag), read the warranty field's values in one listing,
//! turn them into the company's Level records and merge them with its Intune records in one
//! write transaction (`assets::outcome::merge_company`).
//!
//! A Level failure is audited with Level's status and body and ends the phase, never the job:
//! the identity job then ends *succeeded with warnings* with both stories told. Nothing is
//! merged from an incomplete listing, so a device on an unread page is never retired.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::identity::entry;
use crate::domain::assets::outcome::{MergeCounts, merge_company};
use crate::domain::levelio::records::level_records;
use crate::domain::levelio::{LevelConnection, describe_level_error};
use crate::domain::{DomainError, Services};
use crate::levelio::{Device, LevelClient, LevelError};
use crate::model::{Company, Job, SyncWarning};
use crate::store::levelio as level_keys;

/// How the Level phase of one identity job ended.
#[derive(Debug)]
pub(super) enum LevelPhase {
    /// Level not connected, or no group mapped to the company: nothing to do, nothing said.
    Skipped,
    Done(MergeCounts),
    /// Level failed (audited); the words for the job's summary and warning.
    Failed(String),
}

impl LevelPhase {
    /// What the job's summary says about Level (empty when skipped), after a `; `.
    pub(super) fn words(&self) -> String {
        match self {
            LevelPhase::Skipped => String::new(),
            LevelPhase::Done(c) => {
                format!("; Level.io: {} merged, {} to review", c.merged, c.review)
            }
            LevelPhase::Failed(_) => "; Level.io devices not synced".into(),
        }
    }

    /// The job's warning when Level failed.
    pub(super) fn warning(&self) -> Option<SyncWarning> {
        match self {
            LevelPhase::Failed(m) => Some(SyncWarning::other(m.clone())),
            _ => None,
        }
    }

    /// The job's counts (`level_merged`, `level_review`, ...) when the phase ran.
    pub(super) fn count_into(&self, counts: &mut BTreeMap<String, u64>) {
        if let LevelPhase::Done(c) = self {
            for (k, v) in [
                ("level_created", c.created),
                ("level_updated", c.updated),
                ("level_merged", c.merged),
                ("level_retired", c.retired),
                ("level_absorbed", c.absorbed),
                ("level_review", c.review),
            ] {
                counts.insert(k.into(), v);
            }
        }
    }
}

/// The mapped groups of `company_id` that no other group of the same company contains: the
/// roots to list with `ancestor_group_id`, so no device is listed twice.
fn company_roots(
    company_id: u64,
    map: &BTreeMap<String, u64>,
    parents: &HashMap<String, Option<String>>,
) -> Vec<String> {
    let mine: HashSet<&str> = map
        .iter()
        .filter(|(_, c)| **c == company_id)
        .map(|(g, _)| g.as_str())
        .collect();
    let mut roots: Vec<String> = mine
        .iter()
        .filter(|g| {
            let mut cur = parents.get(**g).cloned().flatten();
            let mut steps = 0;
            while let Some(p) = cur {
                if mine.contains(p.as_str()) || steps > 64 {
                    return false;
                }
                cur = parents.get(&p).cloned().flatten();
                steps += 1;
            }
            true
        })
        .map(|g| g.to_string())
        .collect();
    roots.sort();
    roots
}

/// The warranty values that can apply to the listed devices. `level_records` takes a value
/// assigned to neither a listed device nor a group as the organisation's; with only the
/// company's subtree listed, other companies' device values are such values too. So an
/// unknown target counts as the organisation only when it is the only one; with several,
/// unknown targets are dropped (no organisation default) rather than guessed.
fn without_foreign_values(
    values: Vec<crate::levelio::CustomFieldValue>,
    devices: &[Device],
    groups: &[crate::levelio::Group],
) -> Vec<crate::levelio::CustomFieldValue> {
    let known: HashSet<&str> = devices
        .iter()
        .map(|d| d.id.as_str())
        .chain(groups.iter().map(|g| g.id.as_str()))
        .collect();
    let unknown: HashSet<&str> = values
        .iter()
        .filter_map(|v| v.assigned_to_id.as_deref())
        .filter(|t| !known.contains(t))
        .collect();
    if unknown.len() <= 1 {
        return values;
    }
    values
        .into_iter()
        .filter(|v| {
            v.assigned_to_id
                .as_deref()
                .is_some_and(|t| known.contains(t))
        })
        .collect()
}

/// Every device under `roots`, each once.
async fn list_devices(client: &LevelClient, roots: &[String]) -> Result<Vec<Device>, LevelError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for g in roots {
        for d in client.devices_under(g).await? {
            if seen.insert(d.id.clone()) {
                out.push(d);
            }
        }
    }
    Ok(out)
}

/// Level group → company, for a company that has a Level phase (see
/// [`Services::level_phase_map`]).
pub(super) type LevelMap = Result<Option<BTreeMap<String, u64>>, String>;

impl Services {
    /// The Level group map when `company_id`'s identity job has a Level phase (its company is
    /// mapped to a Level group), `None` when it has none, or why the map could not be read.
    /// Read once a job: it says both whether the phase runs and when the job's reading ends.
    pub(super) async fn level_phase_map(&self, company_id: u64) -> LevelMap {
        match self.level_group_map().await {
            Ok(m) => Ok(m.values().any(|c| *c == company_id).then_some(m)),
            Err(e) => Err(format!("could not read the Level mapping: {e}")),
        }
    }

    /// The Level phase of `company`'s identity job (see the module comment); `map` is
    /// [`Services::level_phase_map`] for it.
    pub(super) async fn sync_level_devices(
        &self,
        job: &Job,
        company: &Company,
        map: LevelMap,
    ) -> LevelPhase {
        let company_id = company.id;
        let by = job.requester();
        let map = match map {
            Ok(Some(m)) => m,
            Ok(None) => return LevelPhase::Skipped,
            Err(why) => return LevelPhase::Failed(why),
        };
        let client = match self.level_client().await {
            Ok(c) => c,
            Err(DomainError::Conflict(_)) => return LevelPhase::Skipped, // not connected
            Err(e) => return LevelPhase::Failed(e.to_string()),
        };
        let conn: LevelConnection = match self
            .store
            .read(|r| r.level_setting(level_keys::LEVEL_CONNECTION))
            .await
        {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => return LevelPhase::Failed(format!("could not read the Level settings: {e}")),
        };
        let started = self.now();
        let read = async {
            let groups = client.groups().await.map_err(|e| ("groups", e))?;
            let parents: HashMap<String, Option<String>> = groups
                .iter()
                .map(|g| (g.id.clone(), g.parent_id.clone()))
                .collect();
            let roots = company_roots(company_id, &map, &parents);
            let devices = list_devices(&client, &roots)
                .await
                .map_err(|e| ("devices", e))?;
            let mut values = Vec::new();
            let mut field_note = None;
            let wanted = conn.warranty_field.trim();
            if !wanted.is_empty() {
                let fields = client
                    .custom_fields()
                    .await
                    .map_err(|e| ("custom_fields", e))?;
                match fields
                    .iter()
                    .find(|f| f.name.trim().eq_ignore_ascii_case(wanted))
                {
                    Some(f) => {
                        values = client
                            .custom_field_values(&f.id)
                            .await
                            .map_err(|e| ("custom_field_values", e))?;
                    }
                    None => {
                        field_note = Some(format!(
                            "Level has no custom field called \"{wanted}\": no warranty dates read"
                        ));
                    }
                }
            }
            Ok::<_, (&str, LevelError)>((groups, roots, devices, values, field_note))
        };
        let (groups, roots, devices, values, field_note) = match read.await {
            Ok(x) => x,
            Err((what, e)) => {
                let msg = format!(
                    "Level.io devices not synced: listing {what} failed. {}",
                    describe_level_error(&e)
                );
                let details = serde_json::json!({
                    "trigger": job.trigger.as_str(), "job_id": job.id, "listing": what,
                    "status": e.status(), "body": e.body(), "error": e.to_string(),
                });
                let warning = SyncWarning::other(msg.clone());
                let _ = self
                    .record(
                        entry(
                            &by,
                            self.now(),
                            "sync.identity.level",
                            &msg,
                            company_id,
                            details,
                        )
                        .warned(std::slice::from_ref(&warning)),
                    )
                    .await;
                return LevelPhase::Failed(msg);
            }
        };
        let values = without_foreign_values(values, &devices, &groups);
        let listing = level_records(&devices, &groups, &map, &values, conn.day_first);
        let unreadable = listing.unreadable_warranties.len();
        let records = listing
            .per_company
            .get(&company_id)
            .cloned()
            .unwrap_or_default();
        let listed = records.len();
        let elsewhere = devices.len() - listed;
        let now = self.now();
        let name = company.name.clone();
        let trigger = job.trigger.as_str();
        let job_id = job.id;
        let written = self
            .store
            .write(move |w| {
                let c = merge_company(w, company_id, records, now)?;
                let secs = (now - started).num_milliseconds() as f64 / 1000.0;
                let summary = format!(
                    "Level.io devices of {name}: {listed} listed, {} merged with Intune, {} created, {} updated, {} retired, {} absorbed, {} to review in {secs:.1}s",
                    c.merged, c.created, c.updated, c.retired, c.absorbed, c.review
                );
                let mut details = serde_json::json!({
                    "trigger": trigger, "job_id": job_id, "groups": roots, "listed": listed,
                    "in_other_companies_subgroups": elsewhere, "counts": c,
                    "unreadable_warranties": unreadable,
                });
                if let (Some(note), Some(o)) = (&field_note, details.as_object_mut()) {
                    o.insert("warranty_field".into(), note.clone().into());
                }
                w.append_audit(entry(&by, now, "sync.identity.level", summary, company_id, details))?;
                Ok::<_, DomainError>(c)
            })
            .await;
        match written {
            Ok(c) => LevelPhase::Done(c),
            Err(e) => LevelPhase::Failed(format!("Level.io devices not stored: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(target: &str) -> crate::levelio::CustomFieldValue {
        crate::levelio::CustomFieldValue {
            id: format!("v-{target}"),
            custom_field_id: Some("f".into()),
            assigned_to_id: Some(target.into()),
            value: Some("2030-01-01".into()),
        }
    }

    fn targets(v: &[crate::levelio::CustomFieldValue]) -> Vec<&str> {
        v.iter()
            .filter_map(|x| x.assigned_to_id.as_deref())
            .collect()
    }

    #[test]
    fn other_companies_device_values_are_not_taken_for_the_organisations() {
        let devices: Vec<Device> =
            serde_json::from_value(serde_json::json!([{"id": "d1"}])).unwrap_or_default();
        let groups: Vec<crate::levelio::Group> =
            serde_json::from_value(serde_json::json!([{"id": "g1", "name": "G"}]))
                .unwrap_or_default();
        assert_eq!(devices.len() + groups.len(), 2);
        // One unknown target: the organisation's value, kept.
        let kept = without_foreign_values(
            vec![value("d1"), value("g1"), value("org")],
            &devices,
            &groups,
        );
        assert_eq!(targets(&kept), vec!["d1", "g1", "org"]);
        // Several: other companies' devices among them, so none is trusted as the organisation.
        let kept = without_foreign_values(
            vec![value("d1"), value("org"), value("d-elsewhere")],
            &devices,
            &groups,
        );
        assert_eq!(targets(&kept), vec!["d1"]);
    }

    #[test]
    fn roots_are_the_topmost_groups_mapped_to_the_company() {
        let parents: HashMap<String, Option<String>> = [
            ("root", None),
            ("ws", Some("root")),
            ("remote", Some("ws")),
            ("srv", None),
            ("other", None),
        ]
        .into_iter()
        .map(|(g, p)| (g.to_string(), p.map(str::to_string)))
        .collect();
        let map = BTreeMap::from([
            ("root".to_string(), 1),
            ("remote".to_string(), 1),
            ("srv".to_string(), 1),
            ("other".to_string(), 2),
        ]);
        assert_eq!(company_roots(1, &map, &parents), vec!["root", "srv"]);
        assert_eq!(company_roots(2, &map, &parents), vec!["other"]);
        assert!(company_roots(3, &map, &parents).is_empty());
    }
}
