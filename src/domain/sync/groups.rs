//! The groups phase of the identity sync: one delta round, read whole (a group's member
//! slices can span pages) and applied in bounded chunks, the last with the round's end.

use super::apply;
use super::batch::Tail;
use super::convert::group_delta;
use super::identity::StepError;
use crate::domain::Services;
use crate::graph::GraphClient;
use crate::graph::groups::GroupRound;
use crate::model::{ChangeCounts, GroupDelta, Requester, SyncState};
use crate::store::keys;

impl Services {
    pub(super) async fn sync_groups(
        &self,
        graph: &GraphClient,
        by: &Requester,
        company_id: u64,
        tenant: &str,
        progress: &(impl Fn(crate::model::Progress) + Send + Sync),
        before: &mut Tail,
    ) -> Result<(ChangeCounts, Tail), StepError> {
        let now = self.now();
        let state = self
            .store
            .read(move |r| r.sync_state(company_id, keys::sync_state::GROUPS))
            .await?
            .unwrap_or_default();
        // A groups round is read whole (members of one group can span pages), and its next
        // link is saved only with its last chunk, so a round interrupted half-way simply
        // starts again from its beginning.
        let mut state = self
            .start_round(
                by,
                company_id,
                keys::sync_state::GROUPS,
                SyncState {
                    next_link: None,
                    ..state
                },
                now,
            )
            .await?;
        let mut reset_once = false;
        'round: loop {
            let mut round = GroupRound::new();
            let mut link = state
                .next_link
                .clone()
                .or_else(|| (!state.full).then(|| state.delta_link.clone()).flatten());
            let (mut pages, mut objects) = (0u64, 0u64);
            let delta_link = loop {
                let page = match graph.groups_delta_page(tenant, link.as_deref()).await {
                    Ok(p) => p,
                    Err(e) if e.is_delta_expired() && !reset_once => {
                        reset_once = true;
                        state = self
                            .reset_to_full(by, company_id, keys::sync_state::GROUPS, state, &e)
                            .await?;
                        continue 'round;
                    }
                    Err(e) => return Err(StepError::Graph(e)),
                };
                pages += 1;
                objects += page.items.len() as u64;
                round.add_page(page.items);
                progress(crate::model::Progress {
                    step: "groups".into(),
                    pages,
                    objects,
                    total: None,
                    words: format!("groups: page {pages} read ({objects} groups)"),
                });
                match page.next_link {
                    Some(n) => link = Some(n),
                    None => break page.delta_link,
                }
            };
            let groups: Vec<GroupDelta> = round.finish().into_iter().map(group_delta).collect();
            let (r, full) = (state.round, state.full);
            let at = self.now();
            let mut next = state.clone();
            next.next_link = None;
            next.delta_link = delta_link;
            next.delta_saved_at = Some(at);
            // Applied in chunks, each its own transaction, the last with the round's end and
            // the next delta link: a groups round changes up to every membership of the
            // tenant, and one transaction holding all of it (its dirty pages and index
            // entries) was the sync's peak of memory. Crash-safe as before: until the last
            // chunk commits, the saved state still starts this round again, and applying a
            // chunk again leaves what applying it once did (puts, deletes, round stamps).
            //
            // WHY in a task of their own (#11): memberships are matched to the users round's
            // contacts, so the chunks wait for its last write, which in a first sync holds the
            // build of the contact lists (a second or more on the single writer). The phase
            // used to wait for that write and then for each chunk, with Graph idle all along;
            // now the chunks queue behind it in a task and the devices phase starts reading
            // Intune at once. The devices land this chain before their first write (assets
            // are matched to contacts too), and the job lands both before its outcome.
            let (mut users_write, relay) = before.hand_over();
            let store = self.store.clone();
            let chain = tokio::spawn(async move {
                match users_write.land().await {
                    Ok(c) => {
                        let _ = relay.send(Ok((c, 0)));
                    }
                    Err(e) => {
                        let _ = relay.send(Err(e));
                        return Err(crate::store::StoreError::Join(
                            "the users round's last write failed".into(),
                        ));
                    }
                }
                let mut chunks = chunk_groups(groups);
                let last = chunks.pop().unwrap_or_default();
                let mut counts = ChangeCounts::default();
                for chunk in chunks {
                    let c = store
                        .write(move |w| apply_chunk(w, company_id, r, chunk, full, at))
                        .await?;
                    counts.add(c);
                }
                // The round's last chunk, in a commit it may share with other syncs' batches.
                let c = store
                    .write_grouped(move |w| {
                        let mut c = apply_chunk(w, company_id, r, last, full, at)?;
                        if full {
                            c.deactivated += apply::finish_full_groups_round(w, company_id, r, at)?;
                            apply::recount_members(w, company_id)?;
                        }
                        // A first sync's group lists, built once with the round's end.
                        w.build_deferred_lists(company_id, crate::store::ListKind::Groups)?;
                        w.put_sync_state(company_id, keys::sync_state::GROUPS, &next)?;
                        Ok(c)
                    })
                    .await?;
                counts.add(c);
                Ok((counts, 0))
            });
            progress(crate::model::Progress {
                step: "groups".into(),
                pages,
                objects,
                total: None,
                words: format!("groups: {objects} read, applying beside the devices"),
            });
            return Ok((ChangeCounts::default(), Tail::of(chain)));
        }
    }
}

/// Most member changes (and groups) one groups transaction applies.
const GROUP_CHUNK_MEMBERS: usize = 20_000;
const GROUP_CHUNK_GROUPS: usize = 1_000;

/// Split a round's groups into chunks of at most [`GROUP_CHUNK_GROUPS`] groups and about
/// [`GROUP_CHUNK_MEMBERS`] member changes (a larger group is a chunk of its own). Never empty.
fn chunk_groups(groups: Vec<GroupDelta>) -> Vec<Vec<GroupDelta>> {
    let mut out = vec![Vec::new()];
    let mut members = 0;
    for g in groups {
        let n = g.members_added.len() + g.members_removed.len();
        let current = out.last().map_or(0, Vec::len);
        if current > 0 && (current >= GROUP_CHUNK_GROUPS || members + n > GROUP_CHUNK_MEMBERS) {
            out.push(Vec::new());
            members = 0;
        }
        members += n;
        if let Some(c) = out.last_mut() {
            c.push(g);
        }
    }
    out
}

/// One chunk of a groups round, in the caller's transaction. After an incremental round's
/// chunk, the groups whose members it changed are recounted (a full round recounts every
/// group once, at its end).
fn apply_chunk(
    w: &mut crate::store::Writer,
    company_id: u64,
    round: u64,
    groups: Vec<GroupDelta>,
    full: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<ChangeCounts, crate::store::StoreError> {
    // Thousands of groups and no list read: index entries at the commit.
    w.defer_index_upkeep();
    // A company's first groups round: their lists are built at its end (store `bulk.rs`).
    w.defer_lists_if_empty(company_id, crate::store::ListKind::Groups)?;
    let touched: Vec<String> = groups
        .iter()
        .filter(|g| !g.members_added.is_empty() || !g.members_removed.is_empty())
        .map(|g| g.oid.clone())
        .collect();
    let c = apply::apply_groups(w, company_id, round, groups, at)?;
    if !full {
        apply::recount_members_of(w, company_id, &touched)?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(members: usize) -> GroupDelta {
        GroupDelta {
            members_added: (0..members).map(|i| i.to_string()).collect(),
            ..GroupDelta::default()
        }
    }

    #[test]
    fn chunks_are_bounded_and_keep_every_group_in_order() {
        assert_eq!(chunk_groups(Vec::new()).len(), 1);
        let sizes = [5, 19_990, 20, 30_000, 1];
        let mut groups: Vec<GroupDelta> = sizes.iter().map(|n| group(*n)).collect();
        groups.extend((0..2_500).map(|_| group(0)));
        let chunks = chunk_groups(groups);
        let lens: Vec<Vec<usize>> = chunks
            .iter()
            .map(|c| c.iter().map(|g| g.members_added.len()).collect())
            .collect();
        assert_eq!(lens[0], vec![5, 19_990]);
        assert_eq!(lens[1], vec![20]);
        assert_eq!(lens[2], vec![30_000]);
        assert_eq!(lens[3].len(), 1_000);
        assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= 1_000));
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 2_505);
    }
}
