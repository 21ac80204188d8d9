//! Small named values: schema version, session signing material, schedule bookkeeping,
//! and settings (secret fields sealed with the data key).

use super::codec::{dec, enc};
use super::keys::meta as keys;
use super::tables::{META, SETTINGS};
use super::{ReadTables, StoreError, Txn, Writer};
use redb::{ReadableTable, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(super) fn schema_version(txn: &WriteTransaction) -> Result<u32, StoreError> {
    let t = txn.open_table(META)?;
    let v = t
        .get(keys::SCHEMA_VERSION)?
        .map(|g| dec::<u32>(g.value()))
        .transpose()?;
    Ok(v.unwrap_or(0))
}

pub(super) fn set_schema_version(txn: &WriteTransaction, v: u32) -> Result<(), StoreError> {
    let mut t = txn.open_table(META)?;
    t.insert(keys::SCHEMA_VERSION, enc(&v)?.as_slice())?;
    Ok(())
}

impl<Tx: ReadTables> Txn<Tx> {
    pub fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let t = self.table(META)?;
        t.get(key)?.map(|g| dec(g.value())).transpose()
    }
    pub fn setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let t = self.table(SETTINGS)?;
        t.get(key)?.map(|g| dec(g.value())).transpose()
    }
    /// A secret setting, decrypted.
    pub fn secret_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let sealed: Option<String> = self.setting(key)?;
        Ok(sealed.map(|s| self.secrets.open(&s)).transpose()?)
    }
}

impl Writer {
    pub fn set_meta<T: Serialize>(&mut self, key: &str, v: &T) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(META)?;
        t.insert(key, enc(v)?.as_slice())?;
        Ok(())
    }
    pub fn delete_meta(&mut self, key: &str) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(META)?;
        t.remove(key)?;
        Ok(())
    }
    pub fn set_setting<T: Serialize>(&mut self, key: &str, v: &T) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(SETTINGS)?;
        t.insert(key, enc(v)?.as_slice())?;
        Ok(())
    }
    pub fn delete_setting(&mut self, key: &str) -> Result<(), StoreError> {
        self.txn.open_table(SETTINGS)?.remove(key)?;
        Ok(())
    }
    /// Store a secret setting sealed with the data key; None removes it.
    pub fn set_secret_setting(&mut self, key: &str, plain: Option<&str>) -> Result<(), StoreError> {
        match plain {
            Some(p) => {
                let sealed = self.secrets.seal(p);
                self.set_setting(key, &sealed)
            }
            None => {
                let mut t = self.txn.open_table(SETTINGS)?;
                t.remove(key)?;
                Ok(())
            }
        }
    }
}
