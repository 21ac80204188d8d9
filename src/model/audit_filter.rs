//! The audit log's filter as people and scripts send it (all text; empty means "any"), and the
//! one parser both the Audit page and `GET /api/v1/audit` use, so they accept the same values
//! and refuse the rest with the same reasons.

use super::{AuditFilter, Outcome, ValidationError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

/// The filter fields as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditFilterInput {
    /// Company id.
    pub company: Option<String>,
    /// An event kind or a dotted prefix (`company` matches `company.archive`).
    pub kind: Option<String>,
    /// `success`, `failure`, or `any`.
    pub outcome: Option<String>,
    /// Dates (`YYYY-MM-DD`, UTC; `to` includes that whole day) or times (RFC 3339, or
    /// `YYYY-MM-DDTHH:MM[:SS]` in UTC as a `datetime-local` input sends it).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Exact times from the page's time inputs; they win over `from`/`to`.
    pub from_at: Option<String>,
    pub to_at: Option<String>,
}

/// A value, with an empty one (as HTML forms send) counting as absent.
pub fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_time(
    field: &'static str,
    v: Option<&str>,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    let Some(s) = v else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Some(t.and_utc()));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end_of_day { d.succ_opt() } else { Some(d) })
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            ValidationError::new(
                field,
                format!(
                    "{s:?} is not a date or time: use a date like 2026-01-31, or a time like \
                     2026-01-31T08:00 (UTC) or 2026-01-31T08:00:00Z"
                ),
            )
        })
}

impl AuditFilter {
    /// Parse the filter as sent; each refusal names its field.
    pub fn parse(q: &AuditFilterInput) -> Result<AuditFilter, ValidationError> {
        let company_id = present(&q.company)
            .map(|s| {
                crate::model::parse_id(s).ok_or_else(|| {
                    ValidationError::new("company", format!("{s:?} is not a company id"))
                })
            })
            .transpose()?;
        let kind = match present(&q.kind) {
            None => None,
            Some(k) => {
                let ok = k.len() <= 100
                    && !k.starts_with('.')
                    && !k.ends_with('.')
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                if !ok {
                    return Err(ValidationError::new(
                        "kind",
                        format!(
                            "{k:?} is not an event kind or prefix, like company or staff.sign_in"
                        ),
                    ));
                }
                Some(k.to_string())
            }
        };
        let outcome = match present(&q.outcome) {
            None | Some("any") => None,
            Some("success") => Some(Outcome::Success),
            Some("failure") => Some(Outcome::Failure),
            Some("warning") => Some(Outcome::Warning),
            Some(other) => {
                return Err(ValidationError::new(
                    "outcome",
                    format!("{other:?} is not one of any, success, warning, failure"),
                ));
            }
        };
        let from = match present(&q.from_at) {
            Some(s) => parse_time("from_at", Some(s), false)?,
            None => parse_time("from", present(&q.from), false)?,
        };
        let to = match present(&q.to_at) {
            Some(s) => parse_time("to_at", Some(s), false)?,
            None => parse_time("to", present(&q.to), true)?,
        };
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(ValidationError::new(
                "from",
                format!(
                    "the time range is empty: from ({}) must be before to ({})",
                    f.format("%Y-%m-%d %H:%M UTC"),
                    t.format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        Ok(AuditFilter {
            company_id,
            kind,
            outcome,
            from,
            to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> AuditFilterInput {
        let mut q = AuditFilterInput::default();
        for (k, v) in pairs {
            let v = Some(v.to_string());
            match *k {
                "company" => q.company = v,
                "kind" => q.kind = v,
                "outcome" => q.outcome = v,
                "from" => q.from = v,
                "to" => q.to = v,
                "from_at" => q.from_at = v,
                "to_at" => q.to_at = v,
                other => panic!("{other}"),
            }
        }
        q
    }

    #[test]
    fn filters_parse_dates_times_and_prefixes() {
        let f = AuditFilter::parse(&input(&[
            ("company", "7"),
            ("kind", "company"),
            ("outcome", "failure"),
            ("from", "2026-01-30"),
            ("to", "2026-01-31"),
        ]))
        .expect("parses");
        assert_eq!(f.company_id, Some(7));
        assert_eq!(f.outcome, Some(Outcome::Failure));
        assert_eq!(
            f.to.map(|t| t.to_rfc3339()),
            Some("2026-02-01T00:00:00+00:00".into()),
            "a date in `to` includes that whole day"
        );
        let f =
            AuditFilter::parse(&input(&[("to", "2026-01-31T10:00:00+02:00")])).expect("rfc3339");
        assert_eq!(
            f.to.map(|t| t.to_rfc3339()),
            Some("2026-01-31T08:00:00+00:00".into())
        );
        let f = AuditFilter::parse(&input(&[("outcome", "any"), ("kind", "")])).expect("any");
        assert_eq!((f.outcome, f.kind), (None, None));
    }

    #[test]
    fn exact_times_win_over_dates() {
        let f = AuditFilter::parse(&input(&[
            ("from", "2026-01-30"),
            ("from_at", "2026-01-30T08:30"),
        ]))
        .expect("parses");
        assert_eq!(
            f.from.map(|t| t.to_rfc3339()),
            Some("2026-01-30T08:30:00+00:00".into())
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_field() {
        for (k, v) in [
            ("from", "yesterday-ish"),
            ("to", "2026-13-01"),
            ("company", "acme"),
            ("company", "+7"),
            ("outcome", "meh"),
            ("kind", "a b"),
        ] {
            let e = AuditFilter::parse(&input(&[(k, v)])).expect_err(k);
            assert_eq!(e.field, k, "{e}");
        }
        let e = AuditFilter::parse(&input(&[("from", "2026-02-01"), ("to", "2026-01-01")]))
            .expect_err("empty range");
        assert!(e.reason.contains("must be before"), "{e}");
    }
}
