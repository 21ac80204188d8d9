//! A small `$filter` for plain lists: `prop eq literal` clauses joined by `and`, over top-level
//! properties, with literals `true`, `false`, `null` and `'text'` (`''` escapes a quote).
//!
//! WHY honour a subset and refuse the rest: evidence logic filters the CA list and the
//! registration report (`isAdmin eq true`), and a simulator that silently ignored a filter
//! would let a client believe it got a filtered answer. Anything outside the subset is a 400,
//! so a client relying on more fails in tests instead of in a real tenant.

use serde_json::{Map, Value};

use super::errors::GraphError;

/// One `prop eq value` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub prop: String,
    pub value: Value,
}

fn invalid(raw: &str) -> GraphError {
    GraphError::bad_request(&format!(
        "Invalid filter clause: the simulator supports only 'property eq literal' clauses joined by 'and' on top-level properties, got '{raw}'."
    ))
}

/// Splits on ` and ` outside quotes.
fn split_and(raw: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if !quoted && rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(" and ") {
            out.push(String::new());
            rest = &rest[5..];
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Parses `raw` against the endpoint's known properties.
pub fn parse(raw: &str, allowed: &[&str]) -> Result<Vec<Clause>, GraphError> {
    let mut out = Vec::new();
    for part in split_and(raw) {
        let part = part.trim();
        let mut it = part.splitn(3, ' ');
        let (Some(prop), Some(op), Some(lit)) = (it.next(), it.next(), it.next()) else {
            return Err(invalid(raw));
        };
        if !op.eq_ignore_ascii_case("eq") || !allowed.contains(&prop) {
            return Err(invalid(raw));
        }
        let lit = lit.trim();
        let value = match lit {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => match lit.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
                Some(s) if !s.replace("''", "").contains('\'') => {
                    Value::String(s.replace("''", "'"))
                }
                _ => return Err(invalid(raw)),
            },
        };
        out.push(Clause {
            prop: prop.to_string(),
            value,
        });
    }
    Ok(out)
}

/// Whether `obj` satisfies every clause (strings compare case-insensitively, as Graph does).
pub fn matches(obj: &Map<String, Value>, clauses: &[Clause]) -> bool {
    clauses.iter().all(|c| {
        let v = obj.get(&c.prop).unwrap_or(&Value::Null);
        match (v, &c.value) {
            (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn and_clauses_with_quoted_and_are_parsed_and_unknown_shapes_refused() {
        let c = parse(
            "isAdmin eq true and userPrincipalName eq 'a and b''s'",
            &["isAdmin", "userPrincipalName"],
        )
        .unwrap_or_default();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].value, json!("a and b's"));
        assert!(parse("isAdmin ne true", &["isAdmin"]).is_err());
        assert!(
            parse(
                "methodsRegistered/any(m:m eq 'fido2')",
                &["methodsRegistered"]
            )
            .is_err()
        );
        assert!(parse("other eq 1", &["isAdmin"]).is_err());
    }
}
