//! Compliance evidence as staff and scripts see it: the Compliance tab, snapshots, the
//! overview, the evidence pack exports (which must say what the page says) and the API, over
//! real collections from the simulator.

mod api;
mod demo;
mod exports;
mod guards;
mod pages;

pub use crate::helpers::{ADMIN_EMAIL, location};
pub use crate::sync_helpers::*;
pub use serde_json::Value;
pub use tenantry::model::{Actor, Job};

/// A connected, synced company with one evidence collection done.
pub struct Collected {
    pub env: SyncEnv,
    pub company: u64,
    pub tenant: String,
    pub job: Job,
}

/// Queue a collection for `company`, wait for it, and require it to succeed.
pub async fn collect(env: &SyncEnv, company: u64) -> Job {
    let job = crate::evidence::helpers::collect(env, company).await;
    assert_eq!(
        job.state,
        tenantry::model::JobState::Succeeded,
        "the collection succeeds: {:?}",
        job.error
    );
    job
}

/// Contoso-like tenant (P1 and Intune), connected, synced and collected once; signed in.
pub async fn collected() -> Collected {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 30, 12, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let job = collect(&env, company).await;
    env.app.login().await;
    Collected {
        env,
        company,
        tenant: t.id,
        job,
    }
}

/// GET an API path with an admin token; (status, JSON body).
pub async fn api_get(env: &SyncEnv, token: &str, path: &str) -> (u16, Value) {
    let r = env
        .app
        .client
        .get(env.app.at(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// RFC 4180 CSV into rows of cells (quoted cells, doubled quotes, CRLF line ends).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) if chars.peek() == Some(&'\n') => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// A page's text with the entities askama writes turned back into characters, so facts can
/// be looked for as the API sends them.
pub fn unescape(page: &str) -> String {
    page.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The part of the Compliance page about one control (its `<li>`).
pub fn control_section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"control-{id}\""))
        .unwrap_or_else(|| panic!("control {id} on the page"));
    let rest = &page[start..];
    let end = rest.find("<li class=\"control\"").filter(|e| *e > 0);
    let end = end.or_else(|| rest.find("</ol>")).unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_test_csv_reader_reads_quotes_and_line_ends() {
    assert_eq!(
        parse_csv("a,\"b,\"\"c\"\"\"\r\n,x\r\n"),
        vec![
            vec!["a".to_string(), "b,\"c\"".into()],
            vec!["".into(), "x".into()]
        ]
    );
}
