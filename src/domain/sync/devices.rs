//! The Intune sweep: `managedDevice` has no delta query in v1.0, so every sync lists every
//! device. The listing is applied page by page, batched like the users round: unchanged
//! devices are skipped by fingerprint (their assets are not read), each listed device is
//! stamped with the sweep's round, and only after the last page of a complete listing are
//! the devices without the stamp retired. Memory holds one batch of pages, never the tenant.

use super::apply;
use super::batch::{Batch, DEVICE_COMMIT_ITEMS, DEVICE_WRITES_AHEAD, Tail, WriteQueue};
use super::convert::device_record;
use super::identity::StepError;
use crate::domain::Services;
use crate::graph::{GraphClient, GraphError, GraphErrorKind};
use crate::model::{ChangeCounts, DeviceRecord, SyncState};
use crate::store::keys;

impl Services {
    /// One sweep of the tenant's Intune devices. A failed page (after the client's own
    /// retries) ends the sweep with the error and retires nothing: what was read is kept, and
    /// the next sweep starts again from the first page under a new round.
    pub(super) async fn sync_devices(
        &self,
        graph: &GraphClient,
        company_id: u64,
        tenant: &str,
        progress: &(impl Fn(crate::model::Progress) + Send + Sync),
        before: &mut Tail,
        last_page_read: &(impl Fn() + Send + Sync),
    ) -> Result<ChangeCounts, StepError> {
        let prior = self
            .store
            .read(move |r| r.sync_state(company_id, keys::sync_state::DEVICES))
            .await?
            .unwrap_or_default();
        let state = SyncState {
            round: prior.round + 1,
            round_started_at: Some(self.now()),
            ..SyncState::default()
        };
        let mut counts = ChangeCounts::default();
        let mut pages = 0u64;
        let mut batch = Batch::new(DEVICE_COMMIT_ITEMS);
        // The first write waits for the groups round's last one (assets are matched to
        // their users' contacts); the reading does not (`WriteQueue`).
        let mut writes = WriteQueue::after(self.store.clone(), DEVICE_WRITES_AHEAD, before);
        let mut link: Option<String> = None;
        loop {
            let page = match graph.managed_devices_page(tenant, link.as_deref()).await {
                Ok(p) => p,
                Err(e) => {
                    if !batch.is_empty() {
                        let write = self.devices_write(&mut batch, company_id, &state, false);
                        writes.push(write).await?;
                    }
                    writes.land_all().await?;
                    before.land().await?;
                    // A first sweep that stopped half-way still lists what it stored: the job
                    // finishes without devices, and its counts and pages read the lists.
                    self.store
                        .write(move |w| {
                            w.build_deferred_lists(company_id, crate::store::ListKind::Assets)
                        })
                        .await?;
                    return Err(StepError::Graph(e));
                }
            };
            if page.next_link.is_some() && page.next_link == link {
                // A server that links a page to itself would keep us here forever.
                writes.land_all().await?;
                let mut info = GraphError::blank(GraphErrorKind::Decode);
                info.detail = Some("next link repeats the page just read".into());
                return Err(StepError::Graph(GraphError::new(info)));
            }
            let last = page.next_link.is_none();
            if last {
                last_page_read();
            }
            batch.add_page(page.items.into_iter().map(device_record));
            link = page.next_link;
            if !batch.due(last) {
                continue;
            }
            let write = self.devices_write(&mut batch, company_id, &state, last);
            if let Some((c, n)) = writes.push(write).await? {
                counts.add(c);
                pages += n;
                progress(devices_progress(pages, counts));
            }
            if last {
                let (c, n) = writes.land_all().await?;
                counts.add(c);
                pages += n;
                progress(devices_progress(pages, counts));
                return Ok(counts);
            }
        }
    }

    /// The write of the devices read so far, stamped with the sweep's round (saved with
    /// them). The last batch of a complete listing also retires the devices it did not list.
    fn devices_write(
        &self,
        batch: &mut Batch<DeviceRecord>,
        company_id: u64,
        state: &SyncState,
        complete: bool,
    ) -> impl FnOnce(
        &mut crate::store::Writer,
    ) -> Result<(ChangeCounts, u64), crate::store::StoreError>
    + Send
    + 'static {
        let (devices, n) = batch.take();
        let round = state.round;
        let at = self.now();
        let state = state.clone();
        move |w| {
            let mut c = apply::apply_device_page(w, company_id, round, devices, at)?;
            if complete {
                c.deactivated += apply::retire_unlisted_devices(w, company_id, round, at)?;
            }
            w.put_sync_state(company_id, keys::sync_state::DEVICES, &state)?;
            Ok((c, n))
        }
    }
}

fn devices_progress(pages: u64, c: ChangeCounts) -> crate::model::Progress {
    crate::model::Progress {
        step: "devices".into(),
        pages,
        objects: c.created + c.updated + c.deactivated,
        total: None,
        words: format!(
            "devices: page {pages} applied ({} created, {} updated, {} retired)",
            c.created, c.updated, c.deactivated
        ),
    }
}
