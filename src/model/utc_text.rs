//! Timestamps in chrono's own serde form for `DateTime<Utc>` (`2026-12-05T03:19:00.123456789Z`,
//! what the store and the API write), read and written without chrono's general machinery.
//!
//! Why: a list page decodes 50 stored contacts, each with two timestamps, and chrono's relaxed
//! parser (any offset, spaces, lower case) was a fifth of a contact's decode; the API writes
//! them back through `Display` one character at a time into serde_json's escaper. The exact
//! form is read and written by hand; anything else (other offsets on input, years past 9999 or
//! leap seconds) goes to chrono, so what is accepted, what it means and what is written are
//! unchanged (the tests compare with chrono).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono::{Datelike, Timelike};
use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

/// `#[serde(deserialize_with = "…")]` for a `DateTime<Utc>`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(UtcVisitor)
}

struct UtcVisitor;

impl Visitor<'_> for UtcVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: Error>(self, s: &str) -> Result<DateTime<Utc>, E> {
        parse(s).map_err(E::custom)
    }
}

/// `#[serde(serialize_with = "…")]` for a `DateTime<Utc>`: the text chrono's `Serialize`
/// writes (`SecondsFormat::AutoSi`, `Z`).
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write(t, &mut buf) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
    }
}

/// [`serialize`] for an `Option<DateTime<Utc>>`: `null` for None, as serde writes it.
// A reference to an Option is what serde's `serialize_with` hands over.
#[allow(clippy::ref_option)]
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

/// `t` as `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z` in `buf`, or None for what chrono
/// writes otherwise (years outside 0–9999, a leap second).
fn write<'a>(t: &DateTime<Utc>, buf: &'a mut [u8; 30]) -> Option<&'a str> {
    let nanos = t.nanosecond();
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    let end = if nanos == 0 {
        19
    } else if nanos.is_multiple_of(1_000_000) {
        put(20, nanos / 1_000_000, 3);
        23
    } else if nanos.is_multiple_of(1_000) {
        put(20, nanos / 1_000, 6);
        26
    } else {
        put(20, nanos, 9);
        29
    };
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        buf[i] = c;
    }
    buf[end] = b'Z';
    std::str::from_utf8(&buf[..=end]).ok()
}

/// `s` as a UTC instant: the store's form by hand, anything else as chrono reads it.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match exact(s.as_bytes()) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, else None.
fn exact(b: &[u8]) -> Option<DateTime<Utc>> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    if b.last() != Some(&b'Z') {
        return None;
    }
    let nanos = match b.len() {
        20 => 0,
        // A dot and 1–9 digits, scaled to nanoseconds.
        n if (22..=30).contains(&n) && sep(19, b'.') => {
            let digits = n - 21;
            num(20..20 + digits)? * 10u32.pow(9 - digits as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = date.and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SubsecRound, TimeZone};

    #[test]
    fn what_chrono_writes_reads_back_the_same() {
        let base = Utc.with_ymd_and_hms(2026, 12, 5, 3, 19, 7).unwrap();
        for nanos in [0, 100_000_000, 120_000_000, 123_456_000, 123_456_789, 1] {
            let t = base + chrono::Duration::nanoseconds(nanos);
            let text = serde_json::to_string(&t).unwrap();
            let text = text.trim_matches('"');
            assert!(
                exact(text.as_bytes()).is_some(),
                "{text} takes the fast path"
            );
            assert_eq!(parse(text).unwrap(), t, "{text}");
        }
        assert_eq!(
            parse("2026-12-05T03:19:07Z").unwrap(),
            base.trunc_subsecs(0)
        );
    }

    #[test]
    fn other_forms_read_as_chrono_reads_them() {
        for text in [
            "2026-12-05T04:19:07+01:00",
            "2026-12-05 03:19:07Z",
            "2026-12-05t03:19:07.5z",
            "2026-12-05T03:19:07.1234567891Z",
        ] {
            let chrono = text
                .parse::<DateTime<FixedOffset>>()
                .map(|t| t.with_timezone(&Utc));
            assert_eq!(parse(text).ok(), chrono.ok(), "{text}");
        }
        for bad in [
            "2026-13-05T03:19:07Z",
            "2026-02-30T03:19:07Z",
            "2026-12-05T24:19:07Z",
            "2026-12-05T03:19:07.Z",
            "2026-12-05T03:19:07",
            "2026-1a-05T03:19:07Z",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn it_writes_what_chrono_writes() {
        #[derive(serde::Serialize)]
        struct T {
            #[serde(serialize_with = "serialize")]
            at: DateTime<Utc>,
        }
        let base = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let mut times = vec![
            base,
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-5, 1, 1, 0, 0, 0).unwrap(),
        ];
        for nanos in [
            1,
            10,
            1_000,
            120_000,
            1_000_000,
            100_000_000,
            123_456_789,
            999_999_999,
        ] {
            times.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // A leap second (nanoseconds past 1e9): chrono's own text.
        times.push(
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        );
        for t in times {
            let ours = serde_json::to_string(&T { at: t }).unwrap();
            let chrono = format!(r#"{{"at":{}}}"#, serde_json::to_string(&t).unwrap());
            assert_eq!(ours, chrono, "{t:?}");
        }
    }

    #[test]
    fn an_optional_time_writes_what_serde_writes() {
        #[derive(serde::Serialize)]
        struct Ours {
            #[serde(serialize_with = "serialize_opt")]
            at: Option<DateTime<Utc>>,
        }
        #[derive(serde::Serialize)]
        struct Theirs {
            at: Option<DateTime<Utc>>,
        }
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        for at in [
            None,
            Some(t),
            Some(t + chrono::Duration::nanoseconds(120_000)),
        ] {
            assert_eq!(
                serde_json::to_string(&Ours { at }).unwrap(),
                serde_json::to_string(&Theirs { at }).unwrap()
            );
        }
    }

    #[test]
    fn a_contact_decodes_through_it() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(deserialize_with = "deserialize")]
            at: DateTime<Utc>,
        }
        let t: T = serde_json::from_str(r#"{"at":"2026-12-05T03:19:07.25Z"}"#).unwrap();
        assert_eq!(
            t.at,
            Utc.with_ymd_and_hms(2026, 12, 5, 3, 19, 7).unwrap()
                + chrono::Duration::milliseconds(250)
        );
    }
}
