//! The reviewed mapping of Tenantry's controls to framework controls (embedded data file),
//! and framework scores.

use crate::model::{Assessment, ControlResult, EvidenceSnapshot, FrameworkInfo};

/// Every framework, in display order.
pub fn all() -> Vec<FrameworkInfo> {
    todo!("contract: frameworks")
}

/// Evaluate `current` (against `previous`), attach framework references, keep only controls
/// mapped to `frameworks` (all when empty) and score each framework.
pub fn assess(
    current: &EvidenceSnapshot,
    previous: Option<&EvidenceSnapshot>,
    frameworks: &[String],
) -> Assessment {
    let _ = (current, previous, frameworks);
    let _: Vec<ControlResult> = Vec::new();
    todo!("contract: frameworks")
}
