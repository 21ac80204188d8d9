//! The verdict of a company's last identity sync, decided by `model::Verdict`'s one rule from
//! what the sync recorded, so the company page, the company list, the Entra page and the API
//! say the same word as the Jobs page and the audit log.

use super::sync::identity::SyncReport;
use crate::model::{SyncWarning, Verdict};

impl SyncReport {
    pub fn verdict(&self) -> Verdict {
        // A report written before warnings were recorded: devices that could not be read
        // were its only partial outcome.
        let legacy;
        let warnings = if self.warnings.is_empty() {
            legacy = self
                .devices_error
                .iter()
                .map(|d| SyncWarning::other(format!("devices not synced — {d}")))
                .collect::<Vec<_>>();
            &legacy
        } else {
            &self.warnings
        };
        let failed = !self.ok && warnings.is_empty();
        Verdict::decide(failed, warnings, Some(&self.summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SyncOutcome, Tone};

    #[test]
    fn a_report_without_intune_reads_as_a_neutral_warning() {
        let r = SyncReport {
            ok: false,
            devices_error: Some("Intune is not available".into()),
            warnings: vec![SyncWarning::intune_not_licensed()],
            ..SyncReport::default()
        };
        let v = r.verdict();
        assert_eq!(
            (v.outcome, v.tone),
            (SyncOutcome::SucceededWithWarnings, Tone::Neutral)
        );
        let old = SyncReport {
            warnings: vec![],
            ..r.clone()
        };
        assert_eq!(old.verdict().tone, Tone::Warning);
        let failed = SyncReport {
            ok: false,
            summary: "users: 403".into(),
            ..SyncReport::default()
        };
        assert_eq!(failed.verdict().outcome, SyncOutcome::Failed);
        let ok = SyncReport {
            ok: true,
            ..SyncReport::default()
        };
        assert_eq!(ok.verdict().outcome, SyncOutcome::Succeeded);
    }
}
