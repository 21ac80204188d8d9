//! The users phase of an identity sync: Entra's users delta, read page by page and applied
//! in batches (`batch.rs`), each batch committed with the delta state that covers it, while
//! the next pages are read.

use super::apply::{self, SyncPolicy};
use super::batch::{Batch, COMMIT_ITEMS, Committer, Tail};
use super::convert::user_delta;
use super::identity::StepError;
use crate::domain::Services;
use crate::graph::GraphClient;
use crate::model::{ChangeCounts, Progress, Requester, SyncState, UserDelta};
use crate::store::keys;

impl Services {
    /// One users round (or the rest of one a crash interrupted): the counts of the writes
    /// landed, and the round's last write, still in flight ([`Tail`]).
    pub(super) async fn sync_users(
        &self,
        graph: &GraphClient,
        by: &Requester,
        company_id: u64,
        tenant: &str,
        policy: SyncPolicy,
        progress: &(impl Fn(Progress) + Send + Sync),
    ) -> Result<(ChangeCounts, Tail), StepError> {
        let now = self.now();
        let state = self
            .store
            .read(move |r| r.sync_state(company_id, keys::sync_state::USERS))
            .await?
            .unwrap_or_default();
        // `state` is where the store will stand once the write in flight lands: the next link
        // after the last page read, and the counts committed so far (a resumed round carries
        // on counting from what its earlier pages applied).
        let mut state = self
            .start_round(by, company_id, keys::sync_state::USERS, state, now)
            .await?;
        let mut counts = state.round_counts;
        let mut pages = 0u64;
        let mut reset_once = false;
        let mut batch = Batch::new(COMMIT_ITEMS);
        let mut writes = Committer::new(self.store.clone());
        loop {
            let link = state.next_link.clone();
            let page = match graph.users_delta_page(tenant, link.as_deref()).await {
                Ok(p) => p,
                Err(e) if e.is_delta_expired() && !reset_once => {
                    reset_once = true;
                    // What was read belongs to the refused link: let the write in flight land
                    // (it is consistent on its own), drop the rest, start a full round.
                    if let Some((c, n)) = writes.land().await? {
                        counts.add(c);
                        pages += n;
                    }
                    batch.clear();
                    state = self
                        .reset_to_full(by, company_id, keys::sync_state::USERS, state, &e)
                        .await?;
                    counts = state.round_counts;
                    continue;
                }
                Err(e) => {
                    // Keep what was read: commit it with the link of the page that failed, so
                    // the retry starts there.
                    if let Some((c, _)) = writes.land().await? {
                        counts.add(c);
                    }
                    if !batch.is_empty() {
                        self.commit_users(
                            &mut writes,
                            &mut batch,
                            company_id,
                            &state,
                            counts,
                            policy,
                            false,
                        );
                        writes.land().await?;
                    }
                    return Err(StepError::Graph(e));
                }
            };
            let last = page.next_link.is_none();
            batch.add_page(page.items.into_iter().map(user_delta));
            state.next_link = page.next_link;
            if last {
                state.delta_link = page.delta_link;
                state.delta_saved_at = Some(self.now());
            }
            if !batch.due(last) {
                continue;
            }
            if let Some((c, n)) = writes.land().await? {
                counts.add(c);
                pages += n;
                progress(users_progress(pages, counts));
            }
            self.commit_users(
                &mut writes,
                &mut batch,
                company_id,
                &state,
                counts,
                policy,
                last,
            );
            if last {
                // The round's last write lands while the groups phase reads (`Tail`).
                return Ok((counts, writes.into_tail()));
            }
        }
    }

    /// Start the write of the users read so far, with `state` (the resume point after them)
    /// and the round's counts before them. A full round's last batch also deactivates the
    /// contacts the round did not see; a first sync's last batch builds the contact lists.
    #[allow(clippy::too_many_arguments)]
    fn commit_users(
        &self,
        writes: &mut Committer<(ChangeCounts, u64)>,
        batch: &mut Batch<UserDelta>,
        company_id: u64,
        state: &SyncState,
        prior: ChangeCounts,
        policy: SyncPolicy,
        last: bool,
    ) {
        let (users, n) = batch.take();
        let (round, full) = (state.round, state.full);
        let at = self.now();
        let mut saved = state.clone();
        writes.start(move |w| {
            let mut c = apply::apply_users(w, company_id, round, users, policy, at)?;
            if last {
                c.deactivated += apply::finish_users_round(w, company_id, round, full, at)?;
            }
            saved.round_counts = prior;
            saved.round_counts.add(c);
            w.put_sync_state(company_id, keys::sync_state::USERS, &saved)?;
            Ok((c, n))
        });
    }
}

fn users_progress(pages: u64, c: ChangeCounts) -> Progress {
    Progress {
        step: "users".into(),
        pages,
        objects: c.created + c.updated + c.deactivated,
        total: None,
        words: format!(
            "users: page {pages} applied ({} created, {} updated, {} deactivated)",
            c.created, c.updated, c.deactivated
        ),
    }
}
