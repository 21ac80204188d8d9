//! Numeric ids in URL paths, accepted in one spelling only.
//!
//! `u64::from_str` also takes `+1` and `01`, so `/api/v1/tokens/+1` used to act on token 1.
//! One resource should have one URL (logs, audit entries and caches compare paths as
//! strings), so a path id must be canonical decimal: `0`, or digits without a leading zero.

use serde::{Deserialize, Deserializer, de};

/// A path id in canonical decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(u64);

impl Id {
    pub fn get(self) -> u64 {
        self.0
    }

    pub fn parse(s: &str) -> Option<Id> {
        crate::model::parse_id(s).map(Id)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Id::parse(&s).ok_or_else(|| {
            de::Error::custom(format!("{s:?} is not an id (digits only, no leading zero)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Id;

    #[test]
    fn only_canonical_decimal_ids_are_accepted() {
        for ok in ["0", "1", "42", "18446744073709551615"] {
            assert_eq!(Id::parse(ok).map(Id::get), ok.parse().ok(), "{ok}");
        }
        for bad in [
            "",
            "+1",
            "-1",
            "01",
            "00",
            " 1",
            "1 ",
            "1e3",
            "0x1",
            "١",
            "18446744073709551616",
        ] {
            assert_eq!(Id::parse(bad), None, "{bad:?}");
        }
    }
}
