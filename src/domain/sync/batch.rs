//! When a sync commits what it has read: several Graph pages per write transaction, written
//! while the next pages are fetched.
//!
//! WHY: a commit is an fsync, and the sync used to make one per page of 100 users (plus a
//! progress write per page), which cost more than fetching and parsing the pages did. A batch
//! still commits together with the resume state that covers it (the next link after its last
//! page, the sweep's round), so a crash loses at most the batch being written and the one
//! being read, which the resumed job reads again: nothing is skipped or applied twice. Bounded
//! by items *and* time, so a slow tenant still commits (and reports progress) every second.

use crate::model::ChangeCounts;
use crate::store::{Store, StoreError, Writer};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Most users one write transaction applies. WHY 10,000 (#11, was 2,000): every batch
/// stamps its users in the object-id index, keyed by random GUIDs, so a batch copies (and
/// its commit checksums and writes) most of that index's leaves whatever its size; fewer
/// batches copy each leaf fewer times. Still bounded by [`COMMIT_AFTER`].
pub const COMMIT_ITEMS: usize = 10_000;
/// Most Intune devices one write transaction applies. Larger than for users: a sweep stamps
/// every listed device, and devices arrive in Intune's order, not the index's, so each batch
/// dirties pages all over the device index; fewer, larger batches write each page fewer times.
/// A sweep is never resumed (it lists again), so the batch size costs no re-reading.
pub const DEVICE_COMMIT_ITEMS: usize = 10_000;
/// Intune batches whose writes may be in flight while the sweep reads on (`WriteQueue`): up to
/// this many batches of [`DEVICE_COMMIT_ITEMS`] held, beside the one being read. Five cover
/// the second or so a first sync's contact lists and groups hold the writer (three still
/// stalled the reading); they cost ~7 MiB of peak more than three (#11, BENCHMARKS.md).
pub const DEVICE_WRITES_AHEAD: usize = 5;
/// Longest the first page of a batch waits for its commit.
pub const COMMIT_AFTER: Duration = Duration::from_millis(1_000);
/// Pages of users (100 per delta page) one commit covers at most. A crash can make a resumed
/// job read again up to two batches: the one being written and the one being read.
pub const USERS_PAGES_PER_COMMIT: usize = COMMIT_ITEMS / 100;

/// Items read from Graph and not yet committed.
pub(super) struct Batch<T> {
    items: Vec<T>,
    pages: u64,
    since: Option<Instant>,
    max_items: usize,
}

impl<T> Batch<T> {
    /// A batch committed at `max_items` items (or after [`COMMIT_AFTER`]).
    pub(super) fn new(max_items: usize) -> Self {
        Self {
            items: Vec::new(),
            pages: 0,
            since: None,
            max_items,
        }
    }

    pub(super) fn add_page(&mut self, items: impl IntoIterator<Item = T>) {
        self.since.get_or_insert_with(Instant::now);
        self.items.extend(items);
        self.pages += 1;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pages == 0
    }

    /// Commit now: the listing ended, the batch is full, or it has waited long enough.
    pub(super) fn due(&self, last_page: bool) -> bool {
        last_page
            || self.items.len() >= self.max_items
            || self.since.is_some_and(|t| t.elapsed() >= COMMIT_AFTER)
    }

    /// Hand over the items and how many pages they came from; the batch starts again empty.
    pub(super) fn take(&mut self) -> (Vec<T>, u64) {
        let pages = std::mem::take(&mut self.pages);
        self.since = None;
        (std::mem::take(&mut self.items), pages)
    }

    /// Forget what was read (the round it belongs to was abandoned).
    pub(super) fn clear(&mut self) {
        self.take();
    }
}

/// One batch's write transaction, for [`Committer`] and [`WriteQueue`].
async fn write_batch<T, F>(store: &Store, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut Writer) -> Result<T, StoreError> + Send + 'static,
{
    // Shares its commit with other syncs' batches ready at the same time (group commit,
    // `store/group.rs`): a failed group fails this batch, and the job retries.
    let written = store
        .write_grouped(move |w| {
            // A batch puts thousands of records and reads no list: its index entries are
            // written once, in key order, at its commit.
            w.defer_index_upkeep();
            f(w)
        })
        .await;
    // A first sync's lists are prepared from what just committed, beside the next batches,
    // so its round's end only merges them (`store/index/prebuild/`).
    if written.is_ok() {
        store.prebuild_lists();
    }
    written
}

/// At most one write transaction in flight, so batches commit in the order they were read
/// while the caller fetches the next pages.
pub(super) struct Committer<T> {
    store: Store,
    in_flight: Option<JoinHandle<Result<T, StoreError>>>,
}

impl<T: Send + 'static> Committer<T> {
    pub(super) fn new(store: Store) -> Self {
        Self {
            store,
            in_flight: None,
        }
    }

    /// Wait for the write in flight, if any, and return what it returned.
    pub(super) async fn land(&mut self) -> Result<Option<T>, StoreError> {
        match self.in_flight.take() {
            None => Ok(None),
            Some(h) => match h.await {
                Ok(r) => r.map(Some),
                Err(e) => Err(StoreError::Join(e.to_string())),
            },
        }
    }

    /// Start a write transaction in the background. The caller lands the previous one first
    /// (its result feeds this one's counts), so two never overlap.
    pub(super) fn start<F>(&mut self, f: F)
    where
        F: FnOnce(&mut Writer) -> Result<T, StoreError> + Send + 'static,
    {
        debug_assert!(self.in_flight.is_none(), "land the previous batch first");
        let store = self.store.clone();
        self.in_flight = Some(tokio::spawn(async move { write_batch(&store, f).await }));
    }
}

/// What one queued write gave: its changes and how many pages it covered.
type Written = Result<(ChangeCounts, u64), StoreError>;

/// Writes started one after another, up to `ahead` of them in flight at once, each waiting
/// for the one before it to commit: so they still commit one at a time and in the order they
/// were read, while the reader goes on fetching pages.
///
/// WHY (#11): the Intune sweep's first write has to wait for the groups' writes (assets are
/// matched to contacts), which in a first sync wait for the contacts' list build: over a
/// second on the single writer. With one write in flight the sweep stopped reading Intune for
/// all of it, and Graph sat idle. A few batches queued behind it keep the reading going; the
/// bound keeps memory to `ahead` batches.
pub(super) struct WriteQueue {
    store: Store,
    ahead: usize,
    queued: std::collections::VecDeque<JoinHandle<Written>>,
    /// Says whether the newest queued write committed; the next one waits for it.
    newest: Option<tokio::sync::oneshot::Receiver<bool>>,
}

impl WriteQueue {
    /// A queue whose first write waits for `before` (the previous phase's last write), which
    /// it takes over: `before` then answers with what landing it gave.
    pub(super) fn after(store: Store, ahead: usize, before: &mut Tail) -> Self {
        let (mut taken, relay) = before.hand_over();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let landed = taken.land().await;
            let _ = tx.send(landed.is_ok());
            let _ = relay.send(landed.map(|c| (c, 0)));
        });
        Self {
            store,
            ahead: ahead.max(1),
            queued: std::collections::VecDeque::new(),
            newest: Some(rx),
        }
    }

    /// Queue a write transaction behind the others. When more than `ahead` are in flight,
    /// first waits for the oldest and returns what it gave.
    pub(super) async fn push<F>(&mut self, f: F) -> Result<Option<(ChangeCounts, u64)>, StoreError>
    where
        F: FnOnce(&mut Writer) -> Result<(ChangeCounts, u64), StoreError> + Send + 'static,
    {
        let landed = if self.queued.len() >= self.ahead {
            self.land_oldest().await?
        } else {
            None
        };
        let store = self.store.clone();
        let before = self.newest.take();
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.newest = Some(rx);
        self.queued.push_back(tokio::spawn(async move {
            // A write whose predecessor failed writes nothing: the job retries.
            if let Some(before) = before
                && !before.await.unwrap_or(false)
            {
                let _ = tx.send(false);
                return Err(StoreError::Join(
                    "an earlier write of this sync failed".into(),
                ));
            }
            let written = write_batch(&store, f).await;
            let _ = tx.send(written.is_ok());
            written
        }));
        Ok(landed)
    }

    /// Wait for the oldest write in flight, if any.
    async fn land_oldest(&mut self) -> Result<Option<(ChangeCounts, u64)>, StoreError> {
        match self.queued.pop_front() {
            None => Ok(None),
            Some(h) => match h.await {
                Ok(r) => r.map(Some),
                Err(e) => Err(StoreError::Join(e.to_string())),
            },
        }
    }

    /// Wait for every write in flight; what they changed, added up, and their pages.
    pub(super) async fn land_all(&mut self) -> Result<(ChangeCounts, u64), StoreError> {
        let (mut counts, mut pages) = (ChangeCounts::default(), 0);
        let mut failed = None;
        // Every write is waited for, even after one failed: none is left running.
        while let Some(r) = self.land_oldest().await.transpose() {
            match r {
                Ok((c, n)) => {
                    counts.add(c);
                    pages += n;
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok((counts, pages)),
        }
    }
}

impl Committer<(ChangeCounts, u64)> {
    /// The write in flight as the phase's [`Tail`], for the next phase to land.
    pub(super) fn into_tail(self) -> Tail {
        Tail {
            in_flight: self.in_flight,
            landed: None,
        }
    }
}

/// A phase's last write, left in flight while the next phase reads from Graph.
///
/// WHY (#11): each phase used to wait for its last commit before the next phase's first
/// request, so every job carried two commit waits (users → groups → devices) on its critical
/// path, under the 100 ms a Graph request takes. The next phase lands the tail before its own
/// first write (which may read what it wrote: memberships read contacts, assets their primary
/// users), and the job lands every tail before its outcome, on success and on failure; so a
/// job's writes still commit in order, one at a time, and all before its outcome.
pub(super) struct Tail {
    in_flight: Option<JoinHandle<Result<(ChangeCounts, u64), StoreError>>>,
    landed: Option<ChangeCounts>,
}

/// What a task that took over a [`Tail`] says it landed, for the tail it left behind.
pub(super) type Relay = tokio::sync::oneshot::Sender<Result<(ChangeCounts, u64), StoreError>>;

impl Tail {
    /// The tail of a chain of writes started by the caller (its counts, and 0 pages).
    pub(super) fn of(chain: JoinHandle<Result<(ChangeCounts, u64), StoreError>>) -> Self {
        Self {
            in_flight: Some(chain),
            landed: None,
        }
    }

    /// Hand the write over to a task that lands it before its own writes: the task gets the
    /// write (as a tail of its own) and a [`Relay`] to say what landing it gave, and this
    /// tail then answers with that. So a phase can queue its writes behind the previous
    /// phase's last one without waiting for it, and the job still learns of either failing.
    pub(super) fn hand_over(&mut self) -> (Tail, Relay) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let taken = Tail {
            in_flight: self.in_flight.take(),
            landed: self.landed.take(),
        };
        self.in_flight = Some(tokio::spawn(async move {
            rx.await.unwrap_or_else(|_| {
                Err(StoreError::Join(
                    "the write was handed to a task that ended without landing it".into(),
                ))
            })
        }));
        (taken, tx)
    }

    /// Wait for the write, once; then and later, what it changed (nothing when there was no
    /// write). A failed write fails every call: the job retries.
    pub(super) async fn land(&mut self) -> Result<ChangeCounts, StoreError> {
        if let Some(h) = self.in_flight.take() {
            let (c, _) = match h.await {
                Ok(r) => r?,
                Err(e) => return Err(StoreError::Join(e.to_string())),
            };
            self.landed = Some(c);
        }
        self.landed
            .ok_or_else(|| StoreError::Join("an earlier write of this sync failed".into()))
    }
}
