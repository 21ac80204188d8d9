//! The devices' write queue (`batch::WriteQueue`): writes queue behind the previous phase's
//! last write without holding up the reader, commit in order, and a failure stops what is
//! queued behind it.

use super::batch::{Tail, WriteQueue};
use super::tests::store;
use crate::model::ChangeCounts;
use crate::store::{Store, StoreError, Writer};

const ORDER: &str = "test.write_order";

/// A write that appends `n` to the order the writes committed in, and counts `n` created.
fn append(n: u64) -> impl FnOnce(&mut Writer) -> Result<(ChangeCounts, u64), StoreError> + Send {
    move |w| {
        let mut order: Vec<u64> = w.meta(ORDER)?.unwrap_or_default();
        order.push(n);
        w.set_meta(ORDER, &order)?;
        let counts = ChangeCounts {
            created: n,
            ..ChangeCounts::default()
        };
        Ok((counts, 1))
    }
}

fn failing(w: &mut Writer) -> Result<(ChangeCounts, u64), StoreError> {
    w.set_meta(ORDER, &vec![999u64])?;
    Err(StoreError::Join("this write fails".into()))
}

async fn order(s: &Store) -> Vec<u64> {
    s.read(|r| r.meta::<Vec<u64>>(ORDER))
        .await
        .expect("read")
        .unwrap_or_default()
}

/// A previous phase whose last write waits for `gate`, then commits `n` (or fails).
fn previous_phase(s: &Store, n: u64, ok: bool) -> (Tail, tokio::sync::oneshot::Sender<()>) {
    let (open, gate) = tokio::sync::oneshot::channel::<()>();
    let s = s.clone();
    let chain = tokio::spawn(async move {
        let _ = gate.await;
        if ok {
            s.write(append(n)).await
        } else {
            Err(StoreError::Join("the previous phase failed".into()))
        }
    });
    (Tail::of(chain), open)
}

#[tokio::test]
async fn writes_queue_behind_the_previous_phase_without_holding_up_the_reader() {
    let (_d, s) = store();
    let (mut before, open) = previous_phase(&s, 1, true);
    let mut q = WriteQueue::after(s.clone(), 2, &mut before);
    // Two writes queue at once although the previous phase has not written yet: the pushes
    // return (the reader goes on) and nothing of theirs is committed. (Bounded, so a queue
    // that waited here fails the test instead of hanging it.)
    let pushes = async {
        assert!(q.push(append(2)).await.expect("push").is_none());
        assert!(q.push(append(3)).await.expect("push").is_none());
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), pushes)
        .await
        .expect("the pushes did not wait for the previous phase");
    assert_eq!(order(&s).await, Vec::<u64>::new());
    open.send(()).expect("gate");
    // A third is more than `ahead`: its push waits for the oldest and returns what it did.
    let (c, pages) = q
        .push(append(4))
        .await
        .expect("push")
        .expect("the oldest landed");
    assert_eq!((c.created, pages), (2, 1));
    let (c, pages) = q.land_all().await.expect("land");
    assert_eq!((c.created, pages), (3 + 4, 2));
    assert_eq!(
        order(&s).await,
        vec![1, 2, 3, 4],
        "in the order they were read"
    );
    assert_eq!(before.land().await.expect("relayed").created, 1);
}

#[tokio::test]
async fn a_failed_write_fails_every_write_queued_behind_it() {
    let (_d, s) = store();
    let (mut before, open) = previous_phase(&s, 1, true);
    open.send(()).expect("gate");
    let mut q = WriteQueue::after(s.clone(), 3, &mut before);
    q.push(failing).await.expect("push");
    q.push(append(2)).await.expect("push");
    q.push(append(3)).await.expect("push");
    assert!(q.land_all().await.is_err());
    // The failed write's transaction was not committed, and the ones behind it wrote nothing.
    assert_eq!(order(&s).await, vec![1]);
    assert!(before.land().await.is_ok(), "the previous phase did land");
}

#[tokio::test]
async fn a_failed_previous_phase_fails_the_queue_and_says_so_to_its_tail() {
    let (_d, s) = store();
    let (mut before, open) = previous_phase(&s, 1, false);
    let mut q = WriteQueue::after(s.clone(), 3, &mut before);
    q.push(append(2)).await.expect("push");
    open.send(()).expect("gate");
    assert!(q.land_all().await.is_err());
    assert_eq!(order(&s).await, Vec::<u64>::new());
    assert!(
        before.land().await.is_err(),
        "the job learns the previous phase failed"
    );
}
