//! The filters of the contact and asset lists, as query parameters (GET forms and the API):
//! read as text, checked here, turned into the model's filters, and written back into the
//! links of a filtered page (paging and sorting keep the filter).

use crate::domain::directory::COMPLIANCE_STATES;
use crate::model::{AssetFilter, ContactFilter, SourcesFilter, ValidationError};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// `compliance` (an Intune state), `os` (Windows, macOS...), `stale_days` (not seen for that many
/// days), `sources` (only Intune, only Level, merged, needs review, no agent: `SourcesFilter`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssetFilterParams {
    pub compliance: Option<String>,
    pub os: Option<String>,
    pub stale_days: Option<String>,
    pub sources: Option<String>,
}

/// `active` and `guest` (`yes` / `no`), `group` (a contact group's id).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactFilterParams {
    pub active: Option<String>,
    pub guest: Option<String>,
    pub group: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn yes_no(field: &'static str, v: &Option<String>) -> Result<Option<bool>, ValidationError> {
    match given(v) {
        None => Ok(None),
        Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some(o) => Err(ValidationError::new(
            field,
            format!("{o:?} is not yes or no"),
        )),
    }
}

/// The days a stale filter may name: a day to ten years.
const MAX_STALE_DAYS: i64 = 3650;

impl AssetFilterParams {
    /// The filter, with a stale cutoff counted back from `now`.
    pub fn filter(&self, now: DateTime<Utc>) -> Result<AssetFilter, ValidationError> {
        let compliance = match given(&self.compliance) {
            None => None,
            Some(c) if COMPLIANCE_STATES.contains(&c) => Some(c.to_string()),
            Some(c) => {
                return Err(ValidationError::new(
                    "compliance",
                    format!(
                        "{c:?} is not a compliance state ({})",
                        COMPLIANCE_STATES.join(", ")
                    ),
                ));
            }
        };
        let checked_in_before = match given(&self.stale_days) {
            None => None,
            Some(d) => match d.parse::<i64>() {
                Ok(n) if (1..=MAX_STALE_DAYS).contains(&n) => Some(now - Duration::days(n)),
                _ => {
                    return Err(ValidationError::new(
                        "stale_days",
                        format!("{d:?} is not a number of days from 1 to {MAX_STALE_DAYS}"),
                    ));
                }
            },
        };
        let sources = match given(&self.sources) {
            None => None,
            Some(v) => Some(SourcesFilter::parse(v).ok_or_else(|| {
                let all: Vec<&str> = SourcesFilter::ALL.iter().map(|f| f.as_str()).collect();
                ValidationError::new(
                    "sources",
                    format!("{v:?} is not a sources filter ({})", all.join(", ")),
                )
            })?),
        };
        // A sources list is a list of its own in the store: compliance and OS do not narrow it
        // (the check-in range does). Refused rather than silently ignored, so a page never
        // claims a filter it did not apply.
        if sources.is_some() && (compliance.is_some() || given(&self.os).is_some()) {
            return Err(ValidationError::new(
                "sources",
                "cannot be combined with compliance or os: choose one of them",
            ));
        }
        Ok(AssetFilter {
            compliance,
            os: given(&self.os).map(str::to_string),
            checked_in_before,
            sources,
        })
    }

    /// The filter as query parameters (`&compliance=...`), for the page's links.
    pub fn query_string(&self) -> String {
        let mut s = String::new();
        for (k, v) in [
            ("compliance", &self.compliance),
            ("os", &self.os),
            ("stale_days", &self.stale_days),
            ("sources", &self.sources),
        ] {
            if let Some(v) = given(v) {
                s.push_str(&format!("&{k}={}", enc(v)));
            }
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.query_string().is_empty()
    }
}

impl ContactFilterParams {
    pub fn filter(&self) -> Result<ContactFilter, ValidationError> {
        let group =
            match given(&self.group) {
                None => None,
                Some(g) => Some(g.parse::<u64>().map_err(|_| {
                    ValidationError::new("group", format!("{g:?} is not a group id"))
                })?),
            };
        Ok(ContactFilter {
            active: yes_no("active", &self.active)?,
            guest: yes_no("guest", &self.guest)?,
            group,
        })
    }

    pub fn query_string(&self) -> String {
        let mut s = String::new();
        for (k, v) in [
            ("active", &self.active),
            ("guest", &self.guest),
            ("group", &self.group),
        ] {
            if let Some(v) = given(v) {
                s.push_str(&format!("&{k}={}", enc(v)));
            }
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.query_string().is_empty()
    }
}

/// What a list's filter form shows as chosen (empty: any).
#[derive(Debug, Clone, Default)]
pub struct FilterView {
    pub compliance: String,
    pub os: String,
    pub stale_days: String,
    /// The Sources filter (`SourcesFilter::as_str`).
    pub sources: String,
    pub active: String,
    pub guest: String,
    pub group: String,
    /// A filter narrows the list (for the empty state: no match vs nothing synced).
    pub filtered: bool,
    /// The company's contact groups (id, name), for the group choice (company pages only).
    pub groups: Vec<(u64, String)>,
    /// Devices per compliance state (asset lists).
    pub bar: Option<ComplianceBar>,
    /// The list's CSV export.
    pub export_url: String,
}

/// One part of the compliance bar.
#[derive(Debug, Clone)]
pub struct BarSegment {
    /// Where it starts and how wide it is, in percent of the bar.
    pub x: f64,
    pub width: f64,
    pub count: u64,
    pub label: &'static str,
    /// The badge class whose colour it takes.
    pub class: &'static str,
    /// The filter value that lists these devices (empty: not evaluated, no filter).
    pub state: &'static str,
}

/// Devices per compliance state as a bar (inline SVG, no script) and a legend.
#[derive(Debug, Clone)]
pub struct ComplianceBar {
    pub total: u64,
    pub segments: Vec<BarSegment>,
}

impl ComplianceBar {
    pub fn new(c: &crate::domain::directory::ComplianceCounts) -> Self {
        let total = c.total;
        let mut parts: Vec<(&'static str, u64)> = COMPLIANCE_STATES
            .iter()
            .map(|s| {
                let n = c
                    .by_state
                    .iter()
                    .find(|(st, _)| st == s)
                    .map_or(0, |(_, n)| *n);
                (*s, n)
            })
            .collect();
        parts.push(("", c.other()));
        let mut x = 0.0;
        let mut segments = Vec::new();
        for (state, count) in parts.into_iter().filter(|(_, n)| *n > 0) {
            let width = if total == 0 {
                0.0
            } else {
                count as f64 * 100.0 / total as f64
            };
            let (label, class) = crate::domain::portal::compliance_label(state);
            segments.push(BarSegment {
                x,
                width,
                count,
                label,
                class,
                state,
            });
            x += width;
        }
        Self { total, segments }
    }
}

impl FilterView {
    pub fn assets(p: &AssetFilterParams) -> Self {
        let t = |v: &Option<String>| given(v).unwrap_or_default().to_string();
        Self {
            compliance: t(&p.compliance),
            os: t(&p.os),
            stale_days: t(&p.stale_days),
            sources: t(&p.sources),
            filtered: !p.is_empty(),
            ..Self::default()
        }
    }

    pub fn contacts(p: &ContactFilterParams, groups: Vec<(u64, String)>) -> Self {
        let t = |v: &Option<String>| given(v).unwrap_or_default().to_string();
        Self {
            active: t(&p.active),
            guest: t(&p.guest),
            group: t(&p.group),
            filtered: !p.is_empty(),
            groups,
            ..Self::default()
        }
    }

    /// The compliance choices: (value, words).
    pub fn compliance_choices(&self) -> Vec<(&'static str, &'static str)> {
        COMPLIANCE_STATES
            .iter()
            .map(|s| (*s, crate::domain::portal::compliance_label(s).0))
            .collect()
    }

    pub fn compliance_is(&self, v: &str) -> bool {
        self.compliance == v
    }
    pub fn os_is(&self, v: &str) -> bool {
        self.os.eq_ignore_ascii_case(v)
    }
    pub fn stale_is(&self, v: &str) -> bool {
        self.stale_days == v
    }

    /// The Sources choices: (value, words). "No agent" and "Unmanaged" are the gap reports.
    pub fn sources_choices(&self) -> [(&'static str, &'static str); 5] {
        [
            (SourcesFilter::IntuneOnly.as_str(), "Only Intune"),
            (SourcesFilter::LevelOnly.as_str(), "Only Level"),
            (SourcesFilter::Merged.as_str(), "Intune + Level (merged)"),
            (SourcesFilter::NeedsReview.as_str(), "Needs review"),
            (
                SourcesFilter::NoAgent.as_str(),
                "Computers without a Level agent",
            ),
        ]
    }
    pub fn sources_is(&self, v: &str) -> bool {
        self.sources == v
    }

    /// Is `id` the chosen group?
    pub fn group_is(&self, id: &u64) -> bool {
        self.group == id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_and_kept_in_links() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(100);
        let p = AssetFilterParams {
            compliance: Some("noncompliant".into()),
            os: Some(" Windows ".into()),
            stale_days: Some("30".into()),
            sources: None,
        };
        let f = p.filter(now).expect("valid");
        assert_eq!(f.compliance.as_deref(), Some("noncompliant"));
        assert_eq!(f.os.as_deref(), Some("Windows"));
        assert_eq!(f.checked_in_before, Some(now - Duration::days(30)));
        assert_eq!(
            p.query_string(),
            "&compliance=noncompliant&os=Windows&stale_days=30"
        );
        for bad in [
            AssetFilterParams {
                compliance: Some("green".into()),
                ..Default::default()
            },
            AssetFilterParams {
                stale_days: Some("0".into()),
                ..Default::default()
            },
            AssetFilterParams {
                sources: Some("both".into()),
                ..Default::default()
            },
            // A sources list is not narrowed by compliance or OS: refused, not ignored.
            AssetFilterParams {
                sources: Some("merged".into()),
                os: Some("Windows".into()),
                ..Default::default()
            },
        ] {
            assert!(bad.filter(now).is_err());
        }
        let p = AssetFilterParams {
            sources: Some("no_agent".into()),
            stale_days: Some("30".into()),
            ..Default::default()
        };
        let f = p
            .filter(now)
            .expect("a sources list takes the check-in range");
        assert_eq!(f.sources, Some(SourcesFilter::NoAgent));
        assert_eq!(p.query_string(), "&stale_days=30&sources=no_agent");
        let c = ContactFilterParams {
            active: Some("no".into()),
            guest: Some("".into()),
            group: Some("7".into()),
        };
        let f = c.filter().expect("valid");
        assert_eq!((f.active, f.guest, f.group), (Some(false), None, Some(7)));
        assert!(
            ContactFilterParams {
                guest: Some("maybe".into()),
                ..Default::default()
            }
            .filter()
            .is_err()
        );
    }
}
