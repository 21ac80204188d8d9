//! Value encoding: JSON documents. Chosen over a binary format because records are small,
//! the schema evolves with optional fields, and a support engineer can read a dump.

use super::StoreError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub fn enc<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(v)?)
}

/// [`enc`] into `buf` (cleared first): a writer of many records reuses one buffer.
pub fn enc_into<T: Serialize>(buf: &mut Vec<u8>, v: &T) -> Result<(), StoreError> {
    buf.clear();
    Ok(serde_json::to_writer(buf, v)?)
}

pub fn dec<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(b)?)
}

/// Decode a view that borrows from the stored bytes (a few of a record's fields, its strings
/// copied only when escaped): see `index::fields`.
pub fn dec_view<'a, T: Deserialize<'a>>(b: &'a [u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(b)?)
}
