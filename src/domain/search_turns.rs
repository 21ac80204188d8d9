//! How many ranking searches read at once. A search that cannot walk per-word lists in its
//! page's order (contacts by another column or filtered, assets, groups, companies,
//! requests) ranks its candidates: it holds their ids and reads a record per candidate
//! (`store::index::read`). At most `RANKING` of those run at once: the VM has two cores,
//! more at once would only add memory, not speed.
//!
//! The turn is taken here, before the store's read, so a search that waits holds nothing: no
//! blocking-pool thread, no read snapshot (the store's own gate, before #11's search plan,
//! waited inside the read and held both). It does hold one of the web layer's request turns
//! (`web::admission`), so a search waits at most `TURN_WAIT` for its turn and is then told
//! the server is busy (503 + Retry-After, code `overloaded`): a burst of slow searches
//! cannot make cheap pages wait behind it. A search by name walks the word lists and takes
//! no turn.

use super::{DomainError, DomainResult};
use crate::model::ListQuery;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Does `q` search at all (a search with no letters or digits matches nothing, at no cost)?
pub(super) fn searches(q: &ListQuery) -> bool {
    q.search_query().is_some_and(|s| !s.words.is_empty())
}

/// Ranking searches reading at once.
pub const RANKING: usize = 2;

static TURNS: Semaphore = Semaphore::const_new(RANKING);

/// How long a ranking search waits for its turn before it is answered "busy": a few
/// ranking searches' time (tens of milliseconds each in a 100,000-contact company), well
/// under the web layer's own wait for a request turn.
pub const TURN_WAIT: Duration = Duration::from_millis(300);

/// Seconds a search told "busy" is asked to wait before it tries again.
const RETRY_AFTER_SECS: u64 = 1;

/// A turn for a search that ranks (None when `ranks` is false: nothing to wait for), given
/// back when dropped.
pub(super) async fn ranking_turn(ranks: bool) -> DomainResult<Option<SemaphorePermit<'static>>> {
    turn(&TURNS, ranks, TURN_WAIT).await
}

async fn turn(
    turns: &Semaphore,
    ranks: bool,
    wait: Duration,
) -> DomainResult<Option<SemaphorePermit<'_>>> {
    if !ranks {
        return Ok(None);
    }
    match tokio::time::timeout(wait, turns.acquire()).await {
        Ok(permit) => permit
            .map(Some)
            .map_err(|e| DomainError::internal("waiting for a search turn", e)),
        Err(_) => Err(DomainError::Overloaded {
            retry_after_secs: RETRY_AFTER_SECS,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_third_ranking_search_waits_and_a_walking_one_never_does() {
        // Its own turns: other tests' searches take the process's.
        static MINE: Semaphore = Semaphore::const_new(RANKING);
        let busy = || RANKING - MINE.available_permits();
        let a = turn(&MINE, true, TURN_WAIT).await.expect("a");
        let b = turn(&MINE, true, TURN_WAIT).await.expect("b");
        assert!(a.is_some() && b.is_some());
        assert_eq!(busy(), RANKING);
        // A search through the word lists takes no turn, even when every turn is taken.
        assert!(turn(&MINE, false, TURN_WAIT).await.expect("walk").is_none());
        let third = tokio::spawn(async {
            let t = turn(&MINE, true, TURN_WAIT).await.expect("c");
            t.is_some()
        });
        tokio::task::yield_now().await;
        assert!(!third.is_finished(), "the third waits for a turn");
        drop(a);
        assert!(
            third.await.expect("join"),
            "it enters once a turn is given back"
        );
        drop(b);
        assert_eq!(busy(), 0);
    }

    #[tokio::test]
    async fn a_ranking_search_that_waits_past_its_deadline_is_told_the_server_is_busy() {
        static MINE: Semaphore = Semaphore::const_new(RANKING);
        let wait = Duration::from_millis(20);
        let _a = turn(&MINE, true, wait).await.expect("a");
        let _b = turn(&MINE, true, wait).await.expect("b");
        // Every turn is held and none is given back: the third gives up at its deadline.
        match turn(&MINE, true, wait).await {
            Err(DomainError::Overloaded { retry_after_secs }) => assert!(retry_after_secs > 0),
            other => panic!("expected overloaded, got {:?}", other.map(|t| t.is_some())),
        }
        // A walking search still never waits.
        assert!(turn(&MINE, false, wait).await.expect("walk").is_none());
    }
}
