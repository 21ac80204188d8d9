//! The API answers only with its own types (`src/web/api/types/`), never with model or domain
//! types: those are the stored schema, and serializing them would let a storage change
//! silently change the public JSON. Checked by scanning the handler files, like the layering
//! test; the exact JSON of each type is pinned by the unit tests in `types/`.

use std::collections::BTreeSet;
use std::path::Path;

/// Names of the structs and enums declared in `src/web/api/types/`.
fn api_type_names(types_dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(types_dir).expect("types dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        for line in text.lines() {
            let line = line.trim_start();
            for kw in ["pub struct ", "pub enum "] {
                if let Some(rest) = line.strip_prefix(kw) {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names.insert(name);
                }
            }
        }
    }
    names
}

/// Type names a file imports from the model or the domain (`use crate::model::{A, B};`):
/// an API type may share a model type's name, so a name alone does not say which one it is.
fn foreign_imports(src: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in src.match_indices("use crate::") {
        let stmt = &src[i..src[i..].find(';').map_or(src.len(), |e| i + e)];
        if stmt.starts_with("use crate::model") || stmt.starts_with("use crate::domain") {
            out.extend(
                stmt.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
                    .map(str::to_string),
            );
        }
    }
    out
}

/// The type names inside `Json<…>` (answers and bodies), and the type a `.json(…)` answer
/// starts with (`.json(Company::from(c))`, `.json(QueuedJob { … })`). A path through the
/// model or the domain (`Json<crate::model::Job>`) comes out as that path.
fn json_types(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in src.match_indices("Json<") {
        let mut depth = 0;
        let mut args = String::new();
        for c in src[i + "Json".len()..].chars() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            args.push(c);
            if depth == 0 {
                break;
            }
        }
        if args.contains("model::") || args.contains("domain::") {
            out.push(args);
            continue;
        }
        out.extend(
            args.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
                .map(str::to_string),
        );
    }
    for (i, _) in src.match_indices(".json(") {
        let name: String = src[i + ".json(".len()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        out.push(name);
    }
    out
}

#[test]
fn handlers_answer_only_with_api_types() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/api");
    let mut known = api_type_names(&api.join("types"));
    assert!(
        known.contains("Company") && known.contains("Job"),
        "{known:?}"
    );
    // The envelopes in api/mod.rs: a page of API types, and the error body.
    known.insert("ApiPage".into());
    let mut handlers = 0;
    let mut strays = Vec::new();
    for entry in std::fs::read_dir(&api).expect("api dir") {
        let path = entry.expect("entry").path();
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        if !file.ends_with(".rs") || file == "mod.rs" {
            continue;
        }
        handlers += 1;
        let src = std::fs::read_to_string(&path).expect("source");
        let foreign = foreign_imports(&src);
        for t in json_types(&src) {
            if !known.contains(&t) || foreign.contains(&t) {
                strays.push(format!("{file}: {t}"));
            }
        }
    }
    assert!(handlers >= 8, "found the handler files");
    // The scan itself finds what it must.
    let model_answer = "use crate::model::{Job, Trigger};\n\
        async fn get(j: Job) -> ApiResult<web::Json<Job>> { Ok(web::Json(j)) }\n\
        async fn all(p: P) -> web::Json<ApiPage<crate::domain::X>> { web::Json(p) }";
    let found = json_types(model_answer);
    let foreign = foreign_imports(model_answer);
    assert!(
        found.iter().any(|t| foreign.contains(t)),
        "{found:?} {foreign:?}"
    );
    assert!(found.iter().any(|t| t.contains("domain::")), "{found:?}");
    assert!(
        strays.is_empty(),
        "handlers serialize types that are not in src/web/api/types/ (add an API type with a \
         From conversion instead): {strays:?}"
    );
}
