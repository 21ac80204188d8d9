//! The home dashboard at `/` (#13): problems first, then by name; each row's content; paged;
//! the company list keeps its own URL.

use crate::helpers::*;
use crate::sync_helpers::*;
use tenantry::model::{Actor, CompanyInput, JobState};

/// Row order on the page: the `data-company` ids in document order.
fn row_ids(html: &str) -> Vec<u64> {
    html.split("data-company=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn problems_come_first_then_names_with_counts_and_sparklines() {
    let env = sync_env().await;
    let ok = env.tenant("Alpha Fine", 6, 3, true);
    let bad = env.tenant("Zulu Broken", 4, 2, true);
    let (alpha, j1) = env.connect("Alpha Fine", &ok.id).await;
    let (zulu, j2) = env.connect("Zulu Broken", &bad.id).await;
    assert_eq!(
        (j1.state, j2.state),
        (JobState::Succeeded, JobState::Succeeded)
    );
    let beta = env.company("Beta Unconnected").await;
    env.ctl.revoke_consent(&bad.id, CLIENT_ID).expect("revoke");
    assert_eq!(env.sync(zulu).await.state, JobState::Failed);

    env.app.login().await;
    let r = env.app.get("/").await;
    assert_eq!(r.status(), 200, "/ is the dashboard, not a redirect");
    let html = r.text().await.expect("html");
    assert_eq!(
        row_ids(&html),
        vec![zulu, alpha, beta],
        "problems first, then by name"
    );
    assert!(html.contains("1 of 3 need attention"), "{html}");
    // Alpha's row: its counters and its sparkline.
    let alpha_row = html
        .split(&format!("data-company=\"{alpha}\""))
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .expect("alpha row")
        .to_string();
    let snap = env.snapshot(alpha).await;
    let contacts = snap.contacts.iter().filter(|c| c.active).count();
    assert!(
        alpha_row.contains(&format!(
            "<td class=\"num\" data-label=\"Contacts\">{contacts}</td>"
        )),
        "{alpha_row}"
    );
    assert!(alpha_row.contains(&format!(
        "<td class=\"num\" data-label=\"Assets\">{}</td>",
        snap.assets.len()
    )));
    assert!(alpha_row.contains("<svg class=\"spark\""), "{alpha_row}");
    assert!(alpha_row.contains("Succeeded"));
    // Zulu's row says why it is first, and counts its failure of the last 24 hours.
    let zulu_row = html
        .split(&format!("data-company=\"{zulu}\""))
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .expect("zulu row")
        .to_string();
    assert!(
        zulu_row.contains("Failed") && zulu_row.contains("outcome=failure"),
        "{zulu_row}"
    );
    // The company list keeps its own URL.
    assert!(
        env.app
            .get_text("/companies")
            .await
            .contains("Beta Unconnected")
    );
    env.stop().await;
}

#[tokio::test]
async fn the_dashboard_is_paged_and_needs_sign_in() {
    let app = spawn_app().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 303, "signed out: to the sign-in page");
    for i in 0..55 {
        app.services()
            .create_company(
                Actor::system(),
                CompanyInput::parse(&format!("Company {i:03}"), "", "").expect("input"),
            )
            .await
            .expect("company");
    }
    app.login().await;
    let first = app.get_text("/").await;
    assert_eq!(row_ids(&first).len(), 50);
    assert!(first.contains("Page 1 of 2") && first.contains("All 55 active companies fine"));
    let second = app.get_text("/?page=2").await;
    assert_eq!(row_ids(&second).len(), 5);
    assert!(second.contains("Company 054"));
}
