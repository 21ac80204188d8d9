//! How many ranking searches read at once. A search that cannot walk per-word lists in its
//! page's order (contacts by another column or filtered, assets, groups, companies,
//! requests) ranks its candidates: it holds their ids and reads a record per candidate
//! (`store::index::read`). At most `RANKING` of those run at once: the VM has two cores,
//! more at once would only add memory, not speed.
//!
//! The turn is taken here, before the store's read, so a search that waits holds nothing: no
//! blocking-pool thread, no read snapshot (the store's own gate, before #11's search plan,
//! waited inside the read and held both). How long a request may wait overall is the web
//! layer's in-flight bound (503 + Retry-After), not this queue's.

use super::{DomainError, DomainResult};
use crate::model::ListQuery;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Does `q` search at all (a search with no letters or digits matches nothing, at no cost)?
pub(super) fn searches(q: &ListQuery) -> bool {
    q.search_query().is_some_and(|s| !s.words.is_empty())
}

/// Ranking searches reading at once.
pub const RANKING: usize = 2;

static TURNS: Semaphore = Semaphore::const_new(RANKING);

/// A turn for a search that ranks (None when `ranks` is false: nothing to wait for), given
/// back when dropped.
pub(super) async fn ranking_turn(ranks: bool) -> DomainResult<Option<SemaphorePermit<'static>>> {
    turn(&TURNS, ranks).await
}

async fn turn(turns: &Semaphore, ranks: bool) -> DomainResult<Option<SemaphorePermit<'_>>> {
    if !ranks {
        return Ok(None);
    }
    turns
        .acquire()
        .await
        .map(Some)
        .map_err(|e| DomainError::internal("waiting for a search turn", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_third_ranking_search_waits_and_a_walking_one_never_does() {
        // Its own turns: other tests' searches take the process's.
        static MINE: Semaphore = Semaphore::const_new(RANKING);
        let busy = || RANKING - MINE.available_permits();
        let a = turn(&MINE, true).await.expect("a");
        let b = turn(&MINE, true).await.expect("b");
        assert!(a.is_some() && b.is_some());
        assert_eq!(busy(), RANKING);
        // A search through the word lists takes no turn, even when every turn is taken.
        assert!(turn(&MINE, false).await.expect("walk").is_none());
        let third = tokio::spawn(async {
            let t = turn(&MINE, true).await.expect("c");
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
}
