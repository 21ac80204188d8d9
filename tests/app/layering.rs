//! The dependency rules of `src/lib.rs`, checked by scanning the source: layering that is
//! only written down erodes, layering that fails the build does not.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// (identifier, folders or files under src/ allowed to name it)
const RULES: &[(&str, &[&str])] = &[
    ("redb::", &["store/"]),
    ("askama", &["web/"]),
    ("actix_web", &["web/", "simulator/"]),
    // telemetry only quiets its log target.
    (
        "reqwest",
        &[
            "graph/",
            "levelio/",
            "oidc/",
            "http_client.rs",
            "simulator/",
            "telemetry.rs",
        ],
    ),
    ("openidconnect", &["oidc/", "simulator/"]),
    ("crate::store", &["store/", "domain/", "app.rs", "demo.rs"]),
    (
        "crate::domain",
        &["domain/", "web/", "jobs/", "app.rs", "demo.rs"],
    ),
    // The Graph client is the domain's tool; web never calls Microsoft itself. config checks
    // a certificate file pair at start with the same parser.
    ("crate::graph", &["graph/", "domain/", "config/"]),
    ("crate::oidc", &["oidc/", "domain/"]),
    (
        "crate::http_client",
        &["http_client.rs", "oidc/", "domain/"],
    ),
    // The escape hatch for tests and tools; pages and the API ask use-cases instead.
    ("store_handle", &["domain/", "app.rs", "demo.rs"]),
    (
        "crate::crypto",
        &[
            "crypto.rs",
            "store/",
            "domain/",
            "web/",
            "app.rs",
            "demo.rs",
        ],
    ),
    ("crate::web", &["web/", "app.rs"]),
    ("crate::app", &["demo.rs"]),
    ("crate::jobs", &["jobs/", "app.rs"]),
];

#[test]
fn modules_only_name_what_their_layer_may_use() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found the sources");
    let mut violations = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let raw = std::fs::read_to_string(f).expect("read");
        // Comments may talk about other layers; code may not name them.
        let text: String = raw
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for (ident, allowed) in RULES {
            if text.contains(ident) && !allowed.iter().any(|a| rel.starts_with(a)) {
                violations.push(format!(
                    "{rel} names `{ident}` (allowed only in {allowed:?})"
                ));
            }
        }
        // model is plain data; the simulator meets the product only on the wire.
        for (folder, own) in [
            ("model/", "crate::model"),
            ("simulator/", "crate::simulator"),
        ] {
            if rel.starts_with(folder) {
                for line in text
                    .lines()
                    .filter(|l| l.contains("crate::") && !l.contains(own))
                {
                    violations.push(format!("{rel} reaches outside its module: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}
