//! The Level estate from the control side: what tests and the demo call. Generation lives here
//! (not in `simulator::levelio`) because it reads the Microsoft tenants to overlap their Intune
//! devices.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::SimControl;
use crate::simulator::faults::Fault;
use crate::simulator::levelio::{LevelClient, LevelHandle, LevelState};

impl SimControl {
    /// The Level estate (its own lock).
    pub fn level(&self) -> LevelHandle {
        self.shared.level.clone()
    }

    pub fn levelio_set_api_key(&self, key: &str) {
        self.level().set_api_key(key);
    }

    /// Regenerates the Level estate (keeps the API key): `per_client` devices per client. A
    /// client named like a simulated tenant mirrors most of that tenant's Windows and Mac
    /// Intune devices (docs/levelio.md#simulated-estate).
    pub fn levelio_generate(&self, clients: &[String], per_client: usize) {
        let (seed, anchor, specs) = {
            let st = self.shared.lock();
            let specs: Vec<LevelClient> = clients
                .iter()
                .map(|name| LevelClient {
                    name: name.clone(),
                    intune: st
                        .tenants
                        .values()
                        .find(|t| t.tg.name.eq_ignore_ascii_case(name) && t.intune)
                        .map(|t| t.tg.clone()),
                })
                .collect();
            (st.seed, st.anchor, specs)
        };
        let level = self.level();
        let mut lv = level.lock();
        let key = lv.api_key.clone();
        *lv = LevelState::generate(seed, &key, &specs, per_client, anchor);
    }

    pub fn levelio_add_device(&self, m: Map<String, Value>) -> Map<String, Value> {
        self.level().add_device(m)
    }

    pub fn levelio_update_device(&self, id: &str, m: Map<String, Value>) -> bool {
        self.level().update_device(id, m)
    }

    pub fn levelio_delete_device(&self, id: &str) -> bool {
        self.level().delete_device(id)
    }

    pub fn levelio_set_faults(&self, f: Vec<Fault>) {
        self.level().set_faults(f);
    }

    pub fn levelio_counts(&self) -> BTreeMap<String, u64> {
        self.level().counts()
    }

    pub fn levelio_summary(&self) -> Value {
        self.level().summary()
    }
}
