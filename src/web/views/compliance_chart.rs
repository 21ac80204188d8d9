//! The Compliance tab's history chart: MFA registration %, device compliance % and each
//! framework's score over time, drawn as inline SVG on the server (no script, no external
//! resource: the CSP allows neither). Pure: points in, markup and a table out, so it is tested
//! here without a browser.
//!
//! The SVG scales to its container (a `viewBox`, no fixed width), so it fits a phone. It is an
//! image with a title and a description for screen readers, and the same numbers come as a
//! table (`rows`) for anyone who cannot see the lines. Series differ by colour *and* dash
//! pattern, so they can be told apart without colour.

use crate::model::{FrameworkInfo, HistoryPoint};
use chrono::{DateTime, Utc};
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 250.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

/// (colour, stroke-dasharray) per series, in order; colours are the stylesheet's strong tones.
const STYLES: &[(&str, &str)] = &[
    ("#1f5fbf", ""),
    ("#17663a", "7 4"),
    ("#b3261e", "2 3"),
    ("#8a5a00", "9 3 2 3"),
    ("#6b3fa0", "4 4"),
    ("#0f7c86", "12 4"),
    ("#c2185b", "1 4"),
    ("#3b4656", "6 2 1 2"),
];

/// One line of the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendItem {
    pub name: String,
    pub colour: &'static str,
    pub dash: &'static str,
}

/// One row of the text table under the chart (one per snapshot).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRow {
    pub snapshot_id: u64,
    pub date: String,
    /// Formatted cells, one per series, in legend order ("92 %", "—").
    pub cells: Vec<String>,
    pub drift: bool,
}

/// The chart as the template shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The `<svg>` element, every text in it escaped. Empty when there is no point.
    pub svg: String,
    pub legend: Vec<LegendItem>,
    pub rows: Vec<ChartRow>,
}

struct Series {
    name: String,
    values: Vec<Option<f64>>,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{} %", fmt_num(v)),
        None => "—".into(),
    }
}

/// 92.5 → "92.5", 92.0 → "92"; rounded down as the pages word percentages.
fn fmt_num(v: f64) -> String {
    super::compliance::tenths(v)
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Build the chart for `points` (oldest first), with one score line per framework in
/// `frameworks` (the company's chosen ones, in display order).
pub fn history_chart(points: &[HistoryPoint], frameworks: &[FrameworkInfo]) -> Chart {
    let mut series = vec![
        Series {
            name: "MFA registration".into(),
            values: points.iter().map(|p| p.mfa_registration_pct).collect(),
        },
        Series {
            name: "Device compliance".into(),
            values: points.iter().map(|p| p.device_compliance_pct).collect(),
        },
    ];
    for f in frameworks {
        series.push(Series {
            name: format!("{} score", f.name),
            values: points
                .iter()
                .map(|p| p.scores.get(&f.id).copied().flatten().map(f64::from))
                .collect(),
        });
    }
    let legend: Vec<LegendItem> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (colour, dash) = STYLES[i % STYLES.len()];
            LegendItem {
                name: s.name.clone(),
                colour,
                dash,
            }
        })
        .collect();
    let rows = points
        .iter()
        .enumerate()
        .map(|(i, p)| ChartRow {
            snapshot_id: p.snapshot_id,
            date: p.collected_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            cells: series.iter().map(|s| pct(s.values[i])).collect(),
            drift: p.drift,
        })
        .collect();
    let svg = if points.is_empty() {
        String::new()
    } else {
        draw(points, &series, &legend)
    };
    Chart { svg, legend, rows }
}

/// The x of each point: proportional to time between the first and the last collection
/// (one point sits in the middle).
fn xs(points: &[HistoryPoint]) -> Vec<f64> {
    let plot = W - LEFT - RIGHT;
    let (first, last) = (
        points[0].collected_at,
        points[points.len() - 1].collected_at,
    );
    let span = (last - first).num_seconds() as f64;
    points
        .iter()
        .map(|p| {
            if span <= 0.0 {
                LEFT + plot / 2.0
            } else {
                LEFT + plot * ((p.collected_at - first).num_seconds() as f64 / span)
            }
        })
        .collect()
}

fn y(v: f64) -> f64 {
    let plot = H - TOP - BOTTOM;
    TOP + plot * (1.0 - v.clamp(0.0, 100.0) / 100.0)
}

fn describe(points: &[HistoryPoint], series: &[Series]) -> String {
    let n = points.len();
    let first = day(points[0].collected_at);
    let last = day(points[n - 1].collected_at);
    let latest: Vec<String> = series
        .iter()
        .filter_map(|s| s.values[n - 1].map(|v| format!("{} {} %", s.name, fmt_num(v))))
        .collect();
    let drift = points.iter().filter(|p| p.drift).count();
    let mut d = if n == 1 {
        format!("One evidence collection, on {first}.")
    } else {
        format!("{n} evidence collections from {first} to {last}.")
    };
    if !latest.is_empty() {
        let _ = write!(d, " Latest: {}.", latest.join(", "));
    }
    let _ = match drift {
        0 => write!(d, " No policy drift."),
        1 => write!(d, " Policies changed in 1 collection (marked)."),
        k => write!(d, " Policies changed in {k} collections (marked)."),
    };
    d
}

fn draw(points: &[HistoryPoint], series: &[Series], legend: &[LegendItem]) -> String {
    let xs = xs(points);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="history-chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(
        s,
        r#"<title id="chart-title">Compliance history</title><desc id="chart-desc">{}</desc>"#,
        esc(&describe(points, series))
    );
    // Grid and y labels every 25 %.
    for v in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#dde2e9"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#5d6878">{v:.0}%</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    // Drift: a dashed vertical line and a marker at the top, per snapshot that drifted.
    for (i, p) in points.iter().enumerate().filter(|(_, p)| p.drift) {
        let x = xs[i];
        let _ = write!(
            s,
            r##"<g class="drift"><title>{}</title><line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#8a5a00" stroke-dasharray="3 3"/><path d="M{:.1} {:.1} l5 -8 h-10 z" fill="#8a5a00"/></g>"##,
            esc(&format!(
                "Policy drift: Conditional Access or compliance policies changed ({})",
                day(p.collected_at)
            )),
            H - BOTTOM,
            x,
            TOP + 8.0,
        );
    }
    // Lines (broken where a value is missing) and a dot with its value per point.
    for (si, ser) in series.iter().enumerate() {
        let st = &legend[si];
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in ser.values.iter().enumerate() {
            match v {
                Some(v) => {
                    if let Some(run) = runs.last_mut() {
                        run.push((xs[i], y(*v)));
                    }
                }
                None => runs.push(Vec::new()),
            }
        }
        let dash = if st.dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{}""#, st.dash)
        };
        for run in runs.iter().filter(|r| r.len() > 1) {
            let pts: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
                st.colour,
                pts.join(" ")
            );
        }
        for (i, v) in ser.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{}</title></circle>"#,
                    xs[i],
                    y(*v),
                    st.colour,
                    esc(&format!(
                        "{}: {} % on {}",
                        ser.name,
                        fmt_num(*v),
                        day(points[i].collected_at)
                    ))
                );
            }
        }
    }
    // Dates under the axis: first and last (and the one in between when there are three+).
    let n = points.len();
    // Within two days the dates alone would repeat; the times tell the points apart.
    let short = (points[n - 1].collected_at - points[0].collected_at) < chrono::Duration::days(2);
    let label = |t: DateTime<Utc>| {
        if short && n > 1 {
            t.format("%m-%d %H:%M").to_string()
        } else {
            day(t)
        }
    };
    let mut labelled = vec![0];
    if n > 2 {
        labelled.push(n / 2);
    }
    if n > 1 {
        labelled.push(n - 1);
    }
    for i in labelled {
        let anchor = if n == 1 || (i != 0 && i != n - 1) {
            "middle"
        } else if i == 0 {
            "start"
        } else {
            "end"
        };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11" fill="#5d6878">{}</text>"##,
            xs[i],
            H - BOTTOM + 18.0,
            esc(&label(points[i].collected_at))
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 6, 15, 0).unwrap()
    }

    fn point(id: u64, day: u32, mfa: Option<f64>, soc2: Option<u8>, drift: bool) -> HistoryPoint {
        HistoryPoint {
            snapshot_id: id,
            collected_at: at(day),
            mfa_registration_pct: mfa,
            device_compliance_pct: Some(80.0),
            scores: BTreeMap::from([("soc2".to_string(), soc2)]),
            drift,
        }
    }

    fn soc2() -> Vec<FrameworkInfo> {
        vec![FrameworkInfo {
            id: "soc2".into(),
            name: "SOC 2".into(),
        }]
    }

    #[test]
    fn no_points_no_svg_but_a_legend() {
        let c = history_chart(&[], &soc2());
        assert!(c.svg.is_empty());
        assert!(c.rows.is_empty());
        let names: Vec<&str> = c.legend.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["MFA registration", "Device compliance", "SOC 2 score"]
        );
    }

    #[test]
    fn lines_span_the_plot_in_time_and_value() {
        let pts = [
            point(1, 1, Some(50.0), Some(40), false),
            point(2, 3, Some(100.0), Some(80), true),
        ];
        let c = history_chart(&pts, &soc2());
        // MFA: 50 % at the left edge, 100 % at the right edge, top of the plot.
        let mid = y(50.0);
        assert!(
            c.svg.contains(&format!(
                r#"points="{LEFT:.1},{mid:.1} {:.1},{TOP:.1}""#,
                W - RIGHT
            )),
            "{}",
            c.svg
        );
        assert_eq!(c.svg.matches("<polyline").count(), 3, "one line per series");
        assert_eq!(c.svg.matches(r#"<g class="drift">"#).count(), 1);
        assert!(c.svg.contains("Policy drift"));
        assert!(c.svg.starts_with("<svg") && c.svg.ends_with("</svg>"));
        assert!(c.svg.contains(r#"role="img""#) && c.svg.contains("<desc id=\"chart-desc\">"));
        assert!(!c.svg.contains(" width=\""), "scales with its container");
        assert!(
            c.svg
                .contains("2 evidence collections from 2026-03-01 to 2026-03-03.")
                && c.svg.contains(
                    "Latest: MFA registration 100 %, Device compliance 80 %, SOC 2 score 80 %."
                )
                && c.svg.contains("Policies changed in 1 collection (marked)."),
            "{}",
            c.svg
        );
        assert_eq!(c.rows.len(), 2);
        assert!(c.svg.contains(">2026-03-01</text>") && c.svg.contains(">2026-03-03</text>"));
        assert_eq!(c.rows[0].cells, ["50 %", "80 %", "40 %"]);
        assert!(c.rows[1].drift && !c.rows[0].drift);
    }

    #[test]
    fn a_missing_value_breaks_the_line_and_reads_as_a_dash() {
        let pts = [
            point(1, 1, Some(50.0), None, false),
            point(2, 2, None, None, false),
            point(3, 3, Some(70.0), None, false),
        ];
        let c = history_chart(&pts, &soc2());
        // MFA has no two neighbours: dots only; device compliance is one line; no SOC 2 score.
        assert_eq!(c.svg.matches("<polyline").count(), 1);
        assert_eq!(c.svg.matches("MFA registration: ").count(), 2);
        assert_eq!(c.rows[1].cells[0], "—");
        assert_eq!(c.rows[0].cells[2], "—");
        // Two days apart: dates on the axis, not times.
        assert!(c.svg.contains(">2026-03-02</text>"));
    }

    #[test]
    fn collections_on_the_same_day_are_told_apart_by_their_times() {
        let mut late = point(2, 1, Some(60.0), None, false);
        late.collected_at += chrono::Duration::hours(6);
        let c = history_chart(&[point(1, 1, Some(50.0), None, false), late], &soc2());
        assert!(c.svg.contains(">03-01 06:15</text>") && c.svg.contains(">03-01 12:15</text>"));
    }

    #[test]
    fn one_point_sits_in_the_middle_and_text_is_escaped() {
        let fw = vec![FrameworkInfo {
            id: "soc2".into(),
            name: "<b>&".into(),
        }];
        let c = history_chart(&[point(1, 1, Some(92.25), Some(100), false)], &fw);
        let mid = LEFT + (W - LEFT - RIGHT) / 2.0;
        assert!(c.svg.contains(&format!(r#"cx="{mid:.1}""#)));
        assert!(c.svg.contains("&lt;b&gt;&amp; score: 100 %"));
        assert!(!c.svg.contains("<b>"));
        assert!(c.svg.contains("One evidence collection, on 2026-03-01."));
        assert_eq!(
            c.rows[0].cells[0], "92.2 %",
            "rounded down like the controls"
        );
    }
}
