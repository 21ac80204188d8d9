//! The controls: pure functions from a snapshot (and the previous one, for drift) to results.
//! No I/O, no clock: every test builds a snapshot and reads the verdict.

use crate::model::{ControlResult, EvidenceSnapshot};

/// Every control, in order, over `current`; `previous` is the snapshot before it (drift).
/// Framework references are left empty here; `frameworks::assess` fills them and the scores.
pub fn evaluate(
    current: &EvidenceSnapshot,
    previous: Option<&EvidenceSnapshot>,
) -> Vec<ControlResult> {
    let _ = (current, previous);
    todo!("contract: evaluate")
}
