//! The evidence pack: the printable report, JSON and CSV say what the Compliance page says
//! (same controls, statuses and facts), under file names an auditor can file.

use super::*;

fn disposition(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn csv_and_json_packs_match_the_page_control_by_control() {
    let c = collected().await;
    let (env, company) = (&c.env, c.company);
    let base = format!("/companies/{company}/compliance");
    let page = unescape(&env.app.get_text(&format!("{base}?framework=soc2")).await);

    let r = env
        .app
        .get(&format!("{base}/export?format=json&framework=soc2"))
        .await;
    assert_eq!(r.status(), 200);
    let d = disposition(&r);
    assert!(
        d.starts_with("attachment; filename=\"contoso-dental-soc2-evidence-")
            && d.ends_with(".json\""),
        "{d}"
    );
    let pack: Value = r.json().await.expect("json pack");
    assert_eq!(pack["company"]["name"], "Contoso Dental");
    assert_eq!(pack["framework"], "soc2");

    let r = env
        .app
        .get(&format!("{base}/export?format=csv&framework=soc2"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let d = disposition(&r);
    assert!(
        d.starts_with("attachment; filename=\"contoso-dental-soc2-evidence-")
            && d.ends_with(".csv\""),
        "{d}"
    );
    let rows = parse_csv(&r.text().await.expect("csv"));
    let header = &rows[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (cid, cstatus, clabel, cfact) = (
        col("control_id"),
        col("status"),
        col("fact_label"),
        col("fact"),
    );

    // The same controls, in the same order, with the same statuses, in all three.
    let controls = pack["controls"].as_array().expect("controls");
    let mut csv_controls: Vec<(String, String)> = Vec::new();
    for row in &rows[1..] {
        let key = (row[cid].clone(), row[cstatus].clone());
        if csv_controls.last() != Some(&key) {
            csv_controls.push(key);
        }
    }
    let json_controls: Vec<(String, String)> = controls
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(csv_controls, json_controls);
    let mut on_page: Vec<&str> = Vec::new();
    for (id, _) in &json_controls {
        assert!(
            page.contains(&format!("id=\"control-{id}\"")),
            "{id} on the page"
        );
        on_page.push(id);
    }
    assert_eq!(
        page.matches("<li class=\"control\"").count(),
        json_controls.len(),
        "the page shows no control the packs leave out"
    );
    // Every fact of the JSON is a CSV row of its control and a line in its section of the page.
    for ctl in controls {
        let id = ctl["id"].as_str().unwrap_or_default();
        let section = control_section(&page, id);
        let status_label = ctl["status_label"].as_str().unwrap_or_default();
        assert!(section.contains(&format!(">{status_label}</span>")));
        for f in ctl["facts"].as_array().expect("facts") {
            let label = f["label"].as_str().unwrap_or_default();
            for item in f["items"].as_array().expect("items") {
                let text = item["text"].as_str().unwrap_or_default();
                assert!(
                    rows.iter()
                        .any(|r| r[cid] == id && r[clabel] == label && r[cfact] == text),
                    "{id}: {label}: {text} in the CSV"
                );
                assert!(section.contains(text), "{id}: {text} on the page");
            }
        }
    }
    // And every CSV fact is on the page, under its control.
    for row in &rows[1..] {
        if !row[cfact].is_empty() {
            let section = control_section(&page, &row[cid]);
            assert!(
                section.contains(&row[clabel]),
                "{}: {}",
                row[cid],
                row[clabel]
            );
            assert!(
                section.contains(&row[cfact]),
                "{}: {}",
                row[cid],
                row[cfact]
            );
        }
    }
    c.env.stop().await;
}

#[tokio::test]
async fn the_printable_report_has_controls_dates_and_hashes_and_the_api_serves_the_same_pack() {
    let c = collected().await;
    let (env, company) = (&c.env, c.company);
    let r = env
        .app
        .get(&format!(
            "/companies/{company}/compliance/export?format=html&framework=iso27001"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert!(disposition(&r).starts_with("inline; filename=\"contoso-dental-iso27001-evidence-"));
    let report = unescape(&r.text().await.expect("report"));
    let a = env
        .services()
        .compliance(company, Some("iso27001"))
        .await
        .expect("assessment")
        .expect("collected");
    for ctl in &a.controls {
        assert!(report.contains(&ctl.title));
        assert!(report.contains(&ctl.summary));
    }
    assert!(report.contains(&a.collected_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()));
    for p in &a.payloads {
        assert!(report.contains(&p.sha256), "hash of {}", p.source);
    }
    assert!(report.contains("ISO/IEC 27001"), "the framework named");
    assert!(
        !report.contains("<header class=\"top\""),
        "no navigation in print"
    );
    let css = env.app.get_text("/static/app.css").await;
    assert!(css.contains("@media print"), "a print stylesheet");

    // The API's pack is the page's pack.
    let token = env.app.admin_token().await;
    let r = env
        .app
        .client
        .get(env.app.at(&format!(
            "/api/v1/companies/{company}/compliance/export?format=csv&framework=iso27001"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200);
    let api_csv = r.text().await.expect("csv");
    let page_csv = env
        .app
        .get_text(&format!(
            "/companies/{company}/compliance/export?format=csv&framework=iso27001"
        ))
        .await;
    assert_eq!(api_csv, page_csv);
    c.env.stop().await;
}
