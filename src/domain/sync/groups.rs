//! The groups phase of the identity sync: one delta round, read whole (a group's member
//! slices can span pages) and applied in one transaction.

use super::apply;
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
    ) -> Result<ChangeCounts, StepError> {
        let now = self.now();
        let state = self
            .store
            .read(move |r| r.sync_state(company_id, keys::sync_state::GROUPS))
            .await?
            .unwrap_or_default();
        // A groups round is applied as a whole (members of one group can span pages), so a
        // round interrupted half-way simply starts again from its beginning.
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
            let counts = self
                .store
                .write(move |w| {
                    let touched: Vec<String> = groups
                        .iter()
                        .filter(|g| !g.members_added.is_empty() || !g.members_removed.is_empty())
                        .map(|g| g.oid.clone())
                        .collect();
                    let mut c = apply::apply_groups(w, company_id, r, groups, at)?;
                    if full {
                        c.deactivated += apply::finish_full_groups_round(w, company_id, r, at)?;
                        apply::recount_members(w, company_id)?;
                    } else {
                        apply::recount_members_of(w, company_id, &touched)?;
                    }
                    w.put_sync_state(company_id, keys::sync_state::GROUPS, &next)?;
                    Ok::<_, crate::store::StoreError>(c)
                })
                .await?;
            return Ok(counts);
        }
    }
}
