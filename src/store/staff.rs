//! Staff accounts, sessions and API tokens.

use super::codec::{dec, enc};
use super::tables::{
    API_TOKENS, API_TOKENS_BY_HASH, SESSIONS, STAFF, STAFF_BY_EMAIL, STAFF_BY_OID,
};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{ApiToken, Session, StaffUser};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, ReadableTableMetadata};

impl<Tx: ReadTables> Txn<Tx> {
    pub fn staff_count(&self) -> Result<u64, StoreError> {
        Ok(self.table(STAFF)?.len()?)
    }
    pub fn staff(&self, id: u64) -> Result<Option<StaffUser>, StoreError> {
        let t = self.table(STAFF)?;
        t.get(id)?.map(|g| dec(g.value())).transpose()
    }
    pub fn staff_by_email(&self, email: &str) -> Result<Option<StaffUser>, StoreError> {
        let id = self.table(STAFF_BY_EMAIL)?.get(email)?.map(|g| g.value());
        match id {
            Some(id) => self.staff(id),
            None => Ok(None),
        }
    }
    pub fn all_staff(&self) -> Result<Vec<StaffUser>, StoreError> {
        let t = self.table(STAFF)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }
    pub fn session(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        let t = self.table(SESSIONS)?;
        t.get(digest)?.map(|g| dec(g.value())).transpose()
    }
    pub fn api_token(&self, id: u64) -> Result<Option<ApiToken>, StoreError> {
        let t = self.table(API_TOKENS)?;
        t.get(id)?.map(|g| dec(g.value())).transpose()
    }
    pub fn api_token_by_hash(&self, digest: &str) -> Result<Option<ApiToken>, StoreError> {
        let id = self
            .table(API_TOKENS_BY_HASH)?
            .get(digest)?
            .map(|g| g.value());
        match id {
            Some(id) => self.api_token(id),
            None => Ok(None),
        }
    }
    pub fn all_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let t = self.table(API_TOKENS)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }
}

impl Writer {
    /// Insert or update a staff user, keeping the e-mail and Entra object-id indexes.
    pub fn put_staff(&mut self, user: &StaffUser) -> Result<(), StoreError> {
        let old = self.staff(user.id)?;
        let mut by_email = self.txn.open_table(STAFF_BY_EMAIL)?;
        if let Some(old) = old.as_ref().filter(|o| o.email != user.email) {
            by_email.remove(old.email.as_str())?;
        }
        by_email.insert(user.email.as_str(), user.id)?;
        let mut by_oid = self.txn.open_table(STAFF_BY_OID)?;
        if let Some(old_oid) = old.as_ref().and_then(|o| o.entra_object_id.as_deref())
            && user.entra_object_id.as_deref() != Some(old_oid)
        {
            by_oid.remove(old_oid.to_ascii_lowercase().as_str())?;
        }
        if let Some(oid) = &user.entra_object_id {
            by_oid.insert(oid.to_ascii_lowercase().as_str(), user.id)?;
        }
        drop(by_oid);
        self.txn
            .open_table(STAFF)?
            .insert(user.id, enc(user)?.as_slice())?;
        Ok(())
    }

    pub fn put_session(&mut self, digest: &str, s: &Session) -> Result<(), StoreError> {
        self.txn
            .open_table(SESSIONS)?
            .insert(digest, enc(s)?.as_slice())?;
        Ok(())
    }

    pub fn delete_session(&mut self, digest: &str) -> Result<(), StoreError> {
        self.txn.open_table(SESSIONS)?.remove(digest)?;
        Ok(())
    }

    /// End every session of one user (password reset, account disabled).
    pub fn delete_sessions_of(&mut self, user_id: u64) -> Result<usize, StoreError> {
        let mut t = self.txn.open_table(SESSIONS)?;
        let mut doomed = Vec::new();
        for r in t.iter()? {
            let (k, v) = r?;
            let s: Session = dec(v.value())?;
            if s.user_id == user_id {
                doomed.push(k.value().to_string());
            }
        }
        for k in &doomed {
            t.remove(k.as_str())?;
        }
        Ok(doomed.len())
    }

    /// Drop sessions that expired before `now`.
    pub fn purge_sessions(&mut self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut t = self.txn.open_table(SESSIONS)?;
        let n = t
            .extract_if(|_, v| {
                serde_json::from_slice::<Session>(v)
                    .map(|s| s.expires_at <= now)
                    .unwrap_or(true)
            })?
            .count();
        Ok(n)
    }

    pub fn put_api_token(
        &mut self,
        token: &ApiToken,
        digest: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(d) = digest {
            self.txn
                .open_table(API_TOKENS_BY_HASH)?
                .insert(d, token.id)?;
        }
        self.txn
            .open_table(API_TOKENS)?
            .insert(token.id, enc(token)?.as_slice())?;
        Ok(())
    }
}
