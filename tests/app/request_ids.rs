//! Every answer carries a request id; an internal error shows it on the page and in the JSON
//! body, and the log line that explains the error carries the same id.

use crate::helpers::*;
use crate::support::captured_log;
use serde_json::{Value, json};

fn request_id(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_internal_error_shows_a_request_id_that_is_in_the_log_line() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let r = app
        .client
        .put(app.at("/api/v1/settings/entra"))
        .bearer_auth(&token)
        .json(&json!({
            "client_id": "6f1c2a4e-0b7d-4c1e-9a53-2f0e8d3b7c11",
            "client_secret": "a-client-secret-value",
        }))
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), 200, "secret stored (sealed)");
    let ok = app.get("/login").await;
    let first = request_id(&ok);
    assert_eq!(first.len(), 12, "every answer has an id: {first:?}");

    // The appliance comes back with another secret key file: the stored secret no longer
    // opens, which is an internal error (the operator's to fix, not the user's).
    let dir_key = app.dir.path().join("secret.key");
    let app = {
        let mut app = app;
        app.stop().await;
        std::fs::write(&dir_key, "11".repeat(32)).expect("replace key");
        app.restart(Default::default()).await
    };
    let r = app
        .client
        .get(app.at("/api/v1/settings/entra"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 500);
    let id = request_id(&r);
    let body: Value = r.json().await.expect("JSON error");
    assert_eq!(body["request_id"], id.as_str(), "{body}");
    assert_ne!(id, first, "ids are per request");

    app.login().await;
    let r = app.get("/settings/integrations/entra").await;
    assert_eq!(r.status(), 500);
    let page_id = request_id(&r);
    let page = r.text().await.expect("page");
    assert!(
        page.contains(&format!("<code>{page_id}</code>")),
        "the page quotes the id: {page}"
    );
    let log = eventually("the error is logged", || async {
        let log = captured_log();
        (log.contains(&id) && log.contains(&page_id)).then_some(log)
    })
    .await;
    let line = log
        .lines()
        .find(|l| l.contains(&page_id) && l.contains("ERROR"))
        .unwrap_or_default();
    assert!(
        line.contains("could not be decrypted"),
        "the log line with the id says what went wrong: {line}"
    );
}
