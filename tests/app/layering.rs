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
    // metrics/ implements the Graph client's observer hook; graph/ never names metrics.
    (
        "crate::graph",
        &["graph/", "domain/", "config/", "metrics/"],
    ),
    ("crate::metrics", &["metrics/", "web/", "app.rs"]),
    ("crate::sd_notify", &["sd_notify.rs", "app.rs"]),
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

/// The module a file belongs to for the cycle check: the first two path segments under src
/// when the first is a folder (`web::handlers`, `domain::sso`, `store::audit`), else the file
/// (`app`, `clock`).
fn node_of(segments: &[String], src: &Path) -> String {
    match segments {
        [] => String::new(),
        [one] => one.clone(),
        [first, second, ..] => {
            if src.join(first).is_dir() {
                format!("{first}::{second}")
            } else {
                first.clone()
            }
        }
    }
}

/// Module paths a file's code names: `crate::a::b…`, `super::x…` and the items of
/// `crate::a::{b, c}` / `super::{x, y}` groups, resolved to absolute segment lists.
fn referenced_paths(text: &str, own: &[String]) -> Vec<Vec<String>> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", Vec::<String>::new()), ("super::", own.to_vec())] {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            // `foo_super::` or `xcrate::` are not paths.
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let mut path = base.clone();
            let mut tail = rest;
            if prefix == "super::" {
                path.pop();
                while let Some(t) = tail.strip_prefix("super::") {
                    path.pop();
                    tail = t;
                }
            }
            // Walk `a::b::c`, stopping at a group.
            loop {
                let seg = ident(tail);
                if seg.is_empty() {
                    break;
                }
                path.push(seg.clone());
                tail = &tail[seg.len()..];
                match tail.strip_prefix("::") {
                    Some(t) => tail = t,
                    None => break,
                }
            }
            if let Some(group) = tail.strip_prefix('{') {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                for item in inner.split(',') {
                    let seg = ident(item.trim());
                    if !seg.is_empty() {
                        let mut p = path.clone();
                        p.push(seg);
                        out.push(p);
                    }
                }
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Strongly connected components with more than one module (Tarjan's algorithm).
fn cycles(
    edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        index: std::collections::HashMap<&'a str, usize>,
        low: std::collections::HashMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: std::collections::HashSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        if let Some(ws) = t.edges.get(v) {
            for w in ws {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        edges,
        index: Default::default(),
        low: Default::default(),
        stack: Vec::new(),
        on: Default::default(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v.as_str());
        }
    }
    t.out
}

/// Arrows between modules go one way: an import cycle means two modules that can only be
/// understood, changed and tested together, which is how layers quietly dissolve.
#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    use std::collections::{BTreeMap, BTreeSet};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut why: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let mut own: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if own
            .last()
            .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
        {
            own.pop();
        }
        let from = node_of(&own, &src);
        let raw = std::fs::read_to_string(f).expect("read");
        let text: String = raw
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for path in referenced_paths(&text, &own) {
            let to = node_of(&path, &src);
            if to.is_empty() || to == from || from.is_empty() {
                continue;
            }
            edges.entry(from.clone()).or_default().insert(to.clone());
            why.entry((from.clone(), to))
                .or_insert_with(|| rel.display().to_string());
        }
    }
    let found = cycles(&edges);
    let mut explain = Vec::new();
    for scc in &found {
        explain.push(format!("{}:", scc.join(" <-> ")));
        for a in scc {
            for b in scc {
                if edges.get(a).is_some_and(|to| to.contains(b)) {
                    let file = why
                        .get(&(a.clone(), b.clone()))
                        .cloned()
                        .unwrap_or_default();
                    explain.push(format!("  {a} -> {b} ({file})"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "import cycles between modules:\n{}",
        explain.join("\n")
    );
}
