//! Small pieces of Graph's wire format shared by several resources.

use serde::{Deserialize, Serialize};

/// Declare a string enum that tolerates values it does not know.
///
/// Graph adds enum members over time (`unknownFutureValue` is the documented sentinel, and
/// real responses already carry values newer than some published enums), so a closed serde
/// enum would fail a whole page on one new value. Unknown strings land in `Other` verbatim.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this build does not know, as Graph sent it.
            Other(String),
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $wire => Self::$variant, )*
                    _ => Self::Other(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(s) => s,
                }
            }
        }
    };
}
pub(crate) use open_enum;

open_enum! {
    /// Why a delta round reports an object (or a group member) as removed.
    ///
    /// For users and groups `changed` means soft-deleted (restorable) and `deleted` means gone
    /// for good; for `members@delta` entries the docs use `deleted` for "removed from the group"
    /// as well, so the reason says nothing there.
    RemovedReason {
        Changed => "changed",
        Deleted => "deleted",
    }
}

/// The `@removed` annotation of a delta item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Removed {
    #[serde(default)]
    pub reason: Option<RemovedReason>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_are_kept() {
        let r: Removed =
            serde_json::from_str(r#"{"reason":"purged"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.reason, Some(RemovedReason::Other("purged".into())));
        let r: Removed =
            serde_json::from_str(r#"{"reason":"changed"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.reason, Some(RemovedReason::Changed));
        assert_eq!(
            serde_json::to_string(&RemovedReason::Deleted).unwrap_or_default(),
            "\"deleted\""
        );
    }
}
