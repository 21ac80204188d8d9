use super::*;

/// The `.rs` files under `dir`, in subfolders too (`types/` holds the JSON types).
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("api dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `/api/v1` route in the source: (method, path, whether its handler takes an
/// `AdminCaller` or `AdminJson`). Read from `src/web/api/**/*.rs`, so a new route is walked
/// without anyone remembering to list it here.
pub(super) fn api_routes() -> Vec<(Method, String, bool)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/api");
    let route = ".route(";
    let mut out = Vec::new();
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    for path in files {
        let src = std::fs::read_to_string(&path).expect("source");
        let flat: String = src.split_whitespace().collect::<Vec<_>>().join(" ");
        for piece in flat.split(route).skip(1) {
            // piece: `"/users/{id}", web::patch().to(update_user))…`
            let Some((path, rest)) = piece
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split_once('"'))
            else {
                continue;
            };
            let Some(rest) = rest.trim_start_matches([',', ' ']).strip_prefix("web::") else {
                continue;
            };
            let Some((method, rest)) = rest.split_once("()") else {
                continue;
            };
            let Some(handler) = rest.strip_prefix(".to(").and_then(|r| r.split(')').next()) else {
                continue;
            };
            let sig_start = flat
                .find(&format!("async fn {handler}("))
                .unwrap_or_else(|| panic!("handler {handler} in {}", path));
            let sig = &flat[sig_start..];
            let sig = &sig[..sig.find('{').unwrap_or(sig.len())];
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let admin = sig.contains("AdminCaller") || sig.contains("AdminJson");
            out.push((method, path.to_string(), admin));
        }
    }
    out
}

#[tokio::test]
async fn a_technician_token_gets_403_on_every_admin_route_and_on_no_other() {
    let app = spawn_app().await;
    let tech = technician_token(&app).await;
    let routes = api_routes();
    let admin: Vec<_> = routes.iter().filter(|r| r.2).collect();
    for must in ["/users", "/tokens", "/settings/entra", "/settings/sso"] {
        assert!(
            admin.iter().any(|(_, p, _)| p == must),
            "{must} is admin-only: {admin:?}"
        );
    }
    for (method, path, admin_only) in &routes {
        let path = format!("/api/v1{}", path.replace("{id}", "1").replace("{rid}", "1"));
        let body = (*method != Method::GET && *method != Method::DELETE).then(|| json!({}));
        let r = call(&app, &tech, method.clone(), &path, body).await;
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let refused_as_technician = status == 403 && text.contains("admin API token");
        assert_eq!(
            refused_as_technician, *admin_only,
            "{method} {path} answered {status} {text}"
        );
    }
    // Nothing the technician sent changed anything an admin owns.
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 100)
        .await
        .expect("audit");
    let by_technician: Vec<_> = audit
        .items
        .iter()
        .filter(|e| e.actor == "api:tech")
        .map(|e| e.kind.as_str())
        .collect();
    assert!(
        !by_technician.iter().any(|k| k.starts_with("settings.")
            || k.starts_with("staff.")
            || k.starts_with("api_token.")),
        "{by_technician:?}"
    );
}
