//! Level.io connection and group mapping, kept in the settings table (small, MSP-wide data:
//! no new table, no migration). The API key is sealed like the Graph secret.

use serde::{Serialize, de::DeserializeOwned};

use super::{ReadTables, StoreError, Txn, Writer};

/// The connection settings (the domain's `LevelConnection`).
pub const LEVEL_CONNECTION: &str = "level_connection";
/// The API key, sealed with the data key.
pub const LEVEL_API_KEY: &str = "level_api_key";
/// Level group id → company id (a group and its subtree belong to the company).
pub const LEVEL_GROUP_MAP: &str = "level_group_map";
/// The group tree as last read from Level, so the mapping page works while Level is down.
pub const LEVEL_GROUPS: &str = "level_groups";

impl<Tx: ReadTables> Txn<Tx> {
    pub fn level_setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.setting(key)
    }

    pub fn level_api_key(&self) -> Result<Option<String>, StoreError> {
        self.secret_setting(LEVEL_API_KEY)
    }
}

impl Writer {
    pub fn set_level_setting<T: Serialize>(&mut self, key: &str, v: &T) -> Result<(), StoreError> {
        self.set_setting(key, v)
    }

    /// Stores (sealed) or, with `None`, removes the API key.
    pub fn set_level_api_key(&mut self, key: Option<&str>) -> Result<(), StoreError> {
        self.set_secret_setting(LEVEL_API_KEY, key)
    }
}
