//! Value encoding: JSON documents. Chosen over a binary format because records are small,
//! the schema evolves with optional fields, and a support engineer can read a dump.

use super::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn enc<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(v)?)
}

pub fn dec<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(b)?)
}
