//! `docs/api.md` lists every route the source has, with the right admin mark: the reference
//! scripts are written against cannot fall behind the code unnoticed.

use super::roles::api_routes;

#[test]
fn every_route_is_documented_with_its_role() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md"),
    )
    .expect("docs/api.md");
    let routes = api_routes();
    assert!(routes.len() > 30, "found the routes: {routes:?}");
    let mut wrong = Vec::new();
    for (method, path, admin) in routes {
        let row = format!("| `{method} {path}` |");
        let Some(line) = doc.lines().find(|l| l.starts_with(&row)) else {
            wrong.push(format!("{method} {path}: no row in the endpoint tables"));
            continue;
        };
        let marked_admin = line[row.len()..].trim_start().starts_with("admin |");
        if marked_admin != admin {
            wrong.push(format!(
                "{method} {path}: the code says admin-only = {admin}, the docs say {marked_admin}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/api.md is out of date:\n{}",
        wrong.join("\n")
    );
}
