//! The README's Compliance step against `tenantry demo`: Contoso Dental's Compliance tab with
//! its controls and history chart, the evidence pack downloads (fetched by the signed-in
//! browser, parsed, and matched with each other), the MSP-wide overview grid; and every
//! Compliance page fits a 390 px phone and a 1366 px laptop without scrolling sideways.

use super::walkthrough::{demo, fits, shot, sign_in, text_once};
use super::{browser, browser_available, click};
use fantoccini::{Client, Locator};

/// RFC 4180 CSV into rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (ch, _) => cell.push(ch),
        }
    }
    rows
}

/// Fetch `path` as the signed-in browser does: (status, Content-Disposition, body).
async fn fetch(c: &Client, path: &str) -> (u64, String, String) {
    let v = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], {credentials: 'same-origin'})
               .then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition') || '', t])))
               .catch(e => done([0, '', String(e)]));",
            vec![serde_json::Value::from(path)],
        )
        .await
        .expect("fetch");
    (
        v[0].as_u64().unwrap_or(0),
        v[1].as_str().unwrap_or_default().to_string(),
        v[2].as_str().unwrap_or_default().to_string(),
    )
}

/// Every Compliance page fits both widths; back to laptop width after.
async fn fits_both(c: &Client, what: &str) {
    fits(c, 390, what).await;
    shot(c, &format!("phone {what}")).await;
    fits(c, 1366, what).await;
}

#[tokio::test]
async fn the_compliance_tab_chart_overview_and_exports_work_in_a_browser() {
    if !browser_available() {
        return;
    }
    let demo = demo().await;
    let (_driver, c) = browser().await;
    c.set_window_size(1366, 900).await.expect("resize");
    sign_in(&c, &demo).await;
    click(&c, Locator::XPath("//summary[normalize-space()='PSA']")).await;
    click(&c, Locator::LinkText("Companies")).await;
    click(&c, Locator::LinkText("Contoso Dental")).await;
    click(&c, Locator::Css("nav.tabs a[href$='/compliance']")).await;
    // Controls with their statuses in words, and the history chart drawn as SVG.
    let text = text_once(&c, Locator::Css("svg.history-chart")).await;
    assert!(text.contains("Evidence collected"), "{text}");
    let controls = c
        .find_all(Locator::Css("li.control"))
        .await
        .expect("controls");
    assert!(
        controls.len() >= 10,
        "every control listed: {}",
        controls.len()
    );
    let lines = c
        .find_all(Locator::Css("svg.history-chart polyline"))
        .await
        .expect("lines");
    assert!(!lines.is_empty(), "two collections draw lines");
    let drift = c
        .find_all(Locator::Css("svg.history-chart g.drift"))
        .await
        .expect("drift");
    assert!(!drift.is_empty(), "the demo's policy change is marked");
    shot(&c, "compliance-tab").await;
    c.execute(
        "document.getElementById('history').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    shot(&c, "compliance-chart").await;
    fits_both(&c, "the Compliance tab").await;
    let tab = c.current_url().await.expect("url").path().to_string();

    // The evidence pack: CSV and JSON download with file names, parse, and agree.
    let (status, disposition, csv) =
        fetch(&c, &format!("{tab}/export?format=csv&framework=soc2")).await;
    assert_eq!(status, 200);
    assert!(
        disposition.starts_with("attachment; filename=\"contoso-dental-soc2-evidence-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let rows = parse_csv(&csv);
    assert_eq!(rows[0][4], "control_id");
    let (status, disposition, json) =
        fetch(&c, &format!("{tab}/export?format=json&framework=soc2")).await;
    assert_eq!(status, 200);
    assert!(disposition.ends_with(".json\""), "{disposition}");
    let pack: serde_json::Value = serde_json::from_str(&json).expect("the JSON pack parses");
    let json_ids: Vec<&str> = pack["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    let mut csv_ids: Vec<&str> = Vec::new();
    for r in &rows[1..] {
        if csv_ids.last() != Some(&r[4].as_str()) {
            csv_ids.push(&r[4]);
        }
    }
    assert_eq!(
        csv_ids, json_ids,
        "the CSV and the JSON list the same controls"
    );
    // The printable report.
    click(&c, Locator::LinkText("Evidence report (print / PDF)")).await;
    let report = text_once(&c, Locator::Css("body.report")).await;
    assert!(
        report.contains("Compliance evidence: Contoso Dental"),
        "{report}"
    );
    assert!(report.contains("Payload hashes"));
    fits_both(&c, "the evidence report").await;
    // It prints (the browser's "Save as PDF"): a PDF with pages, the top bar left out.
    let pdf = c
        .print(
            fantoccini::wd::PrintConfigurationBuilder::default()
                .build()
                .expect("print settings"),
        )
        .await
        .expect("print to PDF");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    if let Ok(dir) = std::env::var("TENANTRY_SCREENSHOT_DIR") {
        let _ = std::fs::write(std::path::Path::new(&dir).join("evidence-report.pdf"), &pdf);
    }
    c.back().await.expect("back");

    // The snapshots and one snapshot.
    click(&c, Locator::LinkText("All snapshots")).await;
    text_once(&c, Locator::Css("table")).await;
    fits_both(&c, "the snapshots list").await;
    click(&c, Locator::Css("td.nowrap a")).await;
    let snap = text_once(&c, Locator::Css("table.payloads")).await;
    assert!(snap.contains("Evidence snapshot #"), "{snap}");
    fits_both(&c, "a snapshot").await;

    // The confirmation before collecting.
    c.goto(&format!("{}{tab}", demo.info.url))
        .await
        .expect("goto");
    click(&c, Locator::LinkText("Collect evidence now")).await;
    text_once(&c, Locator::Css("[data-confirm-page]")).await;
    fits_both(&c, "the collect confirmation").await;

    // The MSP-wide overview, from the top bar.
    click(&c, Locator::Css("header.top a[href='/compliance']")).await;
    let grid = text_once(&c, Locator::Css("table.grid")).await;
    assert!(
        grid.contains("Contoso Dental") && grid.contains("Fabrikam Bakery"),
        "{grid}"
    );
    assert!(
        grid.contains("Pass") || grid.contains("Fail"),
        "statuses in words"
    );
    shot(&c, "compliance-overview").await;
    fits_both(&c, "the overview").await;
    click(&c, Locator::LinkText("by name")).await;
    text_once(&c, Locator::Css("table.grid")).await;

    // Fabrikam Bakery: protected by security defaults, Intune controls not licensed.
    click(&c, Locator::LinkText("Fabrikam Bakery")).await;
    let fabrikam = text_once(&c, Locator::Css("ol.controls")).await;
    assert!(fabrikam.contains("Not licensed"), "{fabrikam}");
    assert!(
        fabrikam.contains("Pass"),
        "MFA passes through security defaults"
    );
    let defaults = c
        .find(Locator::XPath(
            "//dt[.='Security defaults']/following-sibling::dd[1]",
        ))
        .await
        .expect("security defaults line")
        .text()
        .await
        .expect("text");
    assert_eq!(defaults, "On");
    fits_both(&c, "Fabrikam Bakery's Compliance tab").await;
    demo.stop().await;
}
