//! One tenant collection: lazily generated base objects plus an overlay of runtime changes.
//!
//! WHY an overlay with per-property versions: delta rounds must return only what changed since
//! the token's version (and, with `Prefer: return=minimal`, only the changed properties), while
//! the unchanged 99.9% of a large tenant stays un-materialised.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::generator::{self, TenantGen};

/// What kind of object a collection holds; decides the generator and id salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
    Device,
    Policy,
}

impl Kind {
    pub fn salt(self) -> u64 {
        match self {
            Kind::User => generator::SALT_USER,
            Kind::Group => generator::SALT_GROUP,
            Kind::Device => generator::SALT_DEVICE,
            Kind::Policy => generator::SALT_POLICY,
        }
    }
}

/// Membership overlay of one group (materialised on first change).
#[derive(Clone, Debug, Default)]
pub struct Members {
    /// member id -> `@odata.type`
    pub current: BTreeMap<String, String>,
    /// member id -> (version, added?, `@odata.type`)
    pub changes: BTreeMap<String, (u64, bool, String)>,
}

/// Overlay state of one object.
#[derive(Clone, Debug)]
pub struct Entry {
    pub base_index: Option<usize>,
    /// `None` = removed.
    pub current: Option<Map<String, Value>>,
    pub removed_reason: String,
    /// Last version at which anything about the object changed.
    pub version: u64,
    /// Version at which the object (re)appeared as a whole: created or restored.
    pub full_version: u64,
    pub prop_versions: BTreeMap<String, u64>,
    pub members: Option<Members>,
    /// The last full state before removal, so a soft-deleted user can be restored.
    pub tombstone: Option<Map<String, Value>>,
}

/// Overlay plus base description of one collection.
#[derive(Clone, Debug)]
pub struct Collection {
    pub kind: Kind,
    pub base_count: usize,
    pub overlay: BTreeMap<String, Entry>,
    /// Objects created at runtime, in creation order (seq -> id).
    pub added: BTreeMap<u64, String>,
    pub next_added: u64,
}

impl Collection {
    pub fn new(kind: Kind, base_count: usize) -> Self {
        Collection {
            kind,
            base_count,
            overlay: BTreeMap::new(),
            added: BTreeMap::new(),
            next_added: 0,
        }
    }

    /// Base object by index, fresh from the generator.
    pub fn base(&self, g: &TenantGen, i: usize) -> Map<String, Value> {
        match self.kind {
            Kind::User => generator::user(g, i),
            Kind::Group => generator::group(g, i),
            Kind::Device => generator::device(g, i),
            Kind::Policy => generator::policy(g, i),
        }
    }

    pub fn base_id(&self, g: &TenantGen, i: usize) -> String {
        generator::guid(g.seed, self.kind.salt(), i as u64)
    }

    /// End of the position space: base indices first, then runtime-created objects.
    pub fn end(&self) -> u64 {
        self.base_count as u64 + self.next_added
    }

    /// Current state of the object at position `p`, if it exists and is not removed.
    pub fn at(&self, g: &TenantGen, p: u64) -> Option<(String, Map<String, Value>)> {
        if p < self.base_count as u64 {
            let i = p as usize;
            let id = self.base_id(g, i);
            match self.overlay.get(&id) {
                Some(e) => e.current.clone().map(|m| (id, m)),
                None => Some((id.clone(), self.base(g, i))),
            }
        } else {
            let id = self.added.get(&(p - self.base_count as u64))?;
            let e = self.overlay.get(id)?;
            e.current.clone().map(|m| (id.clone(), m))
        }
    }

    /// Next position >= p that could hold an object (skips gaps in the added map).
    pub fn next_pos(&self, p: u64) -> Option<u64> {
        if p < self.base_count as u64 {
            return Some(p);
        }
        let seq = p - self.base_count as u64;
        self.added
            .range(seq..)
            .next()
            .map(|(s, _)| self.base_count as u64 + s)
    }

    /// Current state by id.
    pub fn get(&self, g: &TenantGen, id: &str) -> Option<Map<String, Value>> {
        if let Some(e) = self.overlay.get(id) {
            return e.current.clone();
        }
        let i = generator::index_of(g.seed, self.kind.salt(), id, self.base_count)?;
        Some(self.base(g, i))
    }

    /// Ensures an overlay entry exists for an existing object (base or added).
    fn entry(&mut self, g: &TenantGen, id: &str) -> Option<&mut Entry> {
        if !self.overlay.contains_key(id) {
            let i = generator::index_of(g.seed, self.kind.salt(), id, self.base_count)?;
            let base = self.base(g, i);
            self.overlay.insert(
                id.to_string(),
                Entry {
                    base_index: Some(i),
                    current: Some(base),
                    removed_reason: String::new(),
                    version: 0,
                    full_version: 0,
                    prop_versions: BTreeMap::new(),
                    members: None,
                    tombstone: None,
                },
            );
        }
        self.overlay.get_mut(id)
    }

    /// Adds a new object (its `id` must be set by the caller).
    pub fn create(&mut self, id: String, obj: Map<String, Value>, version: u64) {
        let seq = self.next_added;
        self.next_added += 1;
        self.added.insert(seq, id.clone());
        self.overlay.insert(
            id,
            Entry {
                base_index: None,
                current: Some(obj),
                removed_reason: String::new(),
                version,
                full_version: version,
                prop_versions: BTreeMap::new(),
                members: None,
                tombstone: None,
            },
        );
    }

    /// Applies property changes; returns false when the object doesn't exist (or is removed).
    pub fn update(
        &mut self,
        g: &TenantGen,
        id: &str,
        props: &Map<String, Value>,
        version: u64,
    ) -> bool {
        let Some(e) = self.entry(g, id) else {
            return false;
        };
        let Some(cur) = e.current.as_mut() else {
            return false;
        };
        for (k, v) in props {
            if k == "id" {
                continue;
            }
            if cur.get(k) != Some(v) {
                cur.insert(k.clone(), v.clone());
                e.prop_versions.insert(k.clone(), version);
                e.version = version;
            }
        }
        true
    }

    /// Removes an object; `reason` is Microsoft's `@removed.reason` (`changed` = soft delete).
    pub fn remove(&mut self, g: &TenantGen, id: &str, reason: &str, version: u64) -> bool {
        let Some(e) = self.entry(g, id) else {
            return false;
        };
        if e.current.is_none() && reason != "deleted" {
            return false;
        }
        if let Some(cur) = e.current.take() {
            e.tombstone = Some(cur);
        }
        if reason == "deleted" {
            e.tombstone = None;
        }
        e.removed_reason = reason.to_string();
        e.version = version;
        true
    }

    /// Restores a soft-deleted object.
    pub fn restore(&mut self, id: &str, version: u64) -> bool {
        let Some(e) = self.overlay.get_mut(id) else {
            return false;
        };
        if e.current.is_some() || e.tombstone.is_none() {
            return false;
        }
        e.current = e.tombstone.take();
        e.version = version;
        e.full_version = version;
        true
    }

    /// Current direct members of a group, from the overlay or the generator.
    pub fn members(&self, g: &TenantGen, id: &str) -> Vec<(String, String)> {
        if let Some(m) = self.overlay.get(id).and_then(|e| e.members.as_ref()) {
            return m
                .current
                .iter()
                .map(|(i, t)| (t.clone(), i.clone()))
                .collect();
        }
        match generator::index_of(g.seed, self.kind.salt(), id, self.base_count) {
            Some(j) if self.kind == Kind::Group => generator::group_members(g, j),
            _ => Vec::new(),
        }
    }

    /// Adds (`add = true`) or removes a member; returns false if the group doesn't exist or
    /// nothing changed.
    pub fn set_member(
        &mut self,
        g: &TenantGen,
        gid: &str,
        mid: &str,
        odata_type: &str,
        add: bool,
        version: u64,
    ) -> bool {
        let base = self.members(g, gid);
        let Some(e) = self.entry(g, gid) else {
            return false;
        };
        if e.current.is_none() {
            return false;
        }
        let m = e.members.get_or_insert_with(|| Members {
            current: base.into_iter().map(|(t, i)| (i, t)).collect(),
            changes: BTreeMap::new(),
        });
        let changed = if add {
            m.current
                .insert(mid.to_string(), odata_type.to_string())
                .is_none()
        } else {
            m.current.remove(mid).is_some()
        };
        if changed {
            m.changes
                .insert(mid.to_string(), (version, add, odata_type.to_string()));
            e.version = version;
        }
        changed
    }
}
