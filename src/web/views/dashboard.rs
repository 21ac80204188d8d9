//! The home dashboard at `/` (#13): one row per active company, problems first, with a small
//! SVG sparkline of its contact and device counts over the last 30 days.

use super::Chrome;
use crate::domain::dashboard::{Dashboard, DashboardRow, HISTORY_DAYS, Severity};
use crate::model::DailyCount;
use askama::Template;
use askama_web::WebTemplate;

/// Sparkline size in CSS pixels (the SVG scales with its viewBox).
const W: f64 = 120.0;
const H: f64 = 28.0;

/// A row as the page shows it.
pub struct Row {
    pub r: DashboardRow,
    pub problem: bool,
    pub age: String,
    /// `points` of the two polylines (empty when there is no history).
    pub contacts_line: String,
    pub devices_line: String,
    /// The sparkline's text alternative.
    pub trend_words: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub rows: Vec<Row>,
    pub total: usize,
    pub problems: usize,
    pub page: usize,
    pub pages: usize,
    pub appliance: Vec<String>,
}

/// Polyline points for `values` on the 30-day axis ending `today`, scaled to `max`.
fn line(
    history: &[DailyCount],
    today: i64,
    max: u64,
    value: impl Fn(&DailyCount) -> u64,
) -> String {
    let first = today - (HISTORY_DAYS - 1);
    let span = (HISTORY_DAYS - 1) as f64;
    let max = max.max(1) as f64;
    history
        .iter()
        .map(|d| {
            let x = (d.day - first) as f64 / span * W;
            let y = H - 2.0 - (value(d) as f64 / max) * (H - 4.0);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "3 h ago", "2 d ago".
pub fn age(d: chrono::Duration) -> String {
    let m = d.num_minutes();
    if m < 1 {
        "just now".into()
    } else if m < 60 {
        format!("{m} min ago")
    } else if m < 48 * 60 {
        format!("{} h ago", m / 60)
    } else {
        format!("{} d ago", m / (24 * 60))
    }
}

impl DashboardPage {
    pub fn new(chrome: Chrome, d: Dashboard, now: chrono::DateTime<chrono::Utc>) -> Self {
        let today = crate::domain::alerts::day_of(now);
        let rows = d
            .rows
            .into_iter()
            .map(|r| {
                let max = r
                    .history
                    .iter()
                    .map(|h| h.contacts.max(h.devices))
                    .max()
                    .unwrap_or(0);
                // A single point draws nothing: repeat it so a new company shows a flat line.
                let mut hist = r.history.clone();
                if hist.len() == 1 {
                    let mut first = hist[0];
                    first.day = today - (HISTORY_DAYS - 1);
                    hist.insert(0, first);
                }
                let trend_words = match (r.history.first(), r.history.last()) {
                    (Some(a), Some(b)) => format!(
                        "Over {} day(s): contacts {} → {}, devices {} → {}",
                        b.day - a.day + 1,
                        a.contacts,
                        b.contacts,
                        a.devices,
                        b.devices
                    ),
                    _ => "No sync history yet".into(),
                };
                Row {
                    problem: r.severity != Severity::Fine,
                    age: r.last_sync_at.map(|t| age(now - t)).unwrap_or_default(),
                    contacts_line: line(&hist, today, max, |h| h.contacts),
                    devices_line: line(&hist, today, max, |h| h.devices),
                    trend_words,
                    r,
                }
            })
            .collect();
        let pages = d.total.div_ceil(d.per_page).max(1);
        Self {
            chrome,
            rows,
            total: d.total,
            problems: d.problems,
            page: d.page,
            pages,
            appliance: d
                .appliance_incidents
                .into_iter()
                .map(|i| i.summary)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_spans_the_box() {
        let h = [
            DailyCount {
                day: 71,
                contacts: 0,
                devices: 0,
            },
            DailyCount {
                day: 100,
                contacts: 10,
                devices: 5,
            },
        ];
        assert_eq!(line(&h, 100, 10, |d| d.contacts), "0.0,26.0 120.0,2.0");
        assert_eq!(line(&h, 100, 10, |d| d.devices), "0.0,26.0 120.0,14.0");
    }
}
