//! Deterministic sample data, generated lazily from `(seed, kind, index)`.
//!
//! WHY lazy: a 100,000-user tenant must be servable page by page in bounded memory, so no
//! object is ever materialised for the whole tenant. Every base object is a pure function of
//! the tenant's generator parameters and its index; runtime changes live in the overlay
//! (`collection.rs`). Ids embed the index (XOR-masked in the last GUID group) so that an id can
//! be mapped back to its base index without a lookup table.

mod devices;
mod evidence;
mod people;
mod policies;

pub use devices::{compliance_policies, device};
pub use evidence::{
    GLOBAL_ADMIN, INTUNE_PLAN, Licences, P1_PLAN, P2_PLAN, authentication_methods_policy, is_admin,
    role_assignment_id, role_assignments, subscribed_skus, user_methods,
};
pub use people::{fold, group, group_members, registration, user};
pub use policies::{policy, policy_count};

use chrono::{DateTime, Utc};

/// SplitMix64 finaliser: a cheap, well-distributed, version-stable mixer (unlike `rand`, whose
/// streams may change between releases and would silently change every generated tenant).
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of (seed, salt, index).
pub fn h(seed: u64, salt: u64, i: u64) -> u64 {
    mix(seed ^ mix(salt ^ mix(i)))
}

/// FNV-1a, used to turn names into salts.
pub fn str_hash(s: &str) -> u64 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x100_0000_01b3);
    }
    x
}

const MASK48: u64 = 0xFFFF_FFFF_FFFF;
const MASK24: u64 = 0xFF_FFFF;

/// A keyed 4-round Feistel permutation of 48-bit values: scrambles the index into the last GUID
/// group (so ids look random) while staying exactly invertible.
fn permute(seed: u64, salt: u64, v: u64, forward: bool) -> u64 {
    let f = |round: u64, x: u64| h(seed ^ salt.rotate_left(17), round, x) & MASK24;
    let (mut l, mut r) = ((v >> 24) & MASK24, v & MASK24);
    if forward {
        for round in 0..4 {
            (l, r) = (r, l ^ f(round, r));
        }
    } else {
        for round in (0..4).rev() {
            (l, r) = (r ^ f(round, l), l);
        }
    }
    (l << 24) | r
}

/// A GUID-shaped id whose last group is a keyed permutation of the index, so [`index_of`] can
/// invert it without a lookup table.
pub fn guid(seed: u64, salt: u64, i: u64) -> String {
    let a = h(seed, salt, i);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + ((a >> 60) & 3),
        (a >> 40) & 0xfff,
        permute(seed, salt, i & MASK48, true)
    )
}

/// Inverse of [`guid`]: the base index an id was generated from, if any.
pub fn index_of(seed: u64, salt: u64, id: &str, count: usize) -> Option<usize> {
    let last = id.get(24..36)?;
    let v = u64::from_str_radix(last, 16).ok()?;
    let i = permute(seed, salt, v & MASK48, false);
    let idx = usize::try_from(i).ok()?;
    (idx < count && guid(seed, salt, i) == id).then_some(idx)
}

/// Kind salts: distinct id spaces per object kind.
pub const SALT_USER: u64 = 1;
pub const SALT_GROUP: u64 = 2;
pub const SALT_DEVICE: u64 = 3;
pub const SALT_POLICY: u64 = 4;
pub const SALT_COMPLIANCE: u64 = 5;
pub const SALT_TENANT: u64 = 6;
pub const SALT_MISC: u64 = 7;

/// Everything needed to regenerate a tenant's base objects.
#[derive(Clone, Debug)]
pub struct TenantGen {
    pub seed: u64,
    pub tenant_id: String,
    pub name: String,
    pub domain: String,
    pub initial_domain: String,
    pub users: usize,
    pub groups: usize,
    pub devices: usize,
    pub policies: usize,
    /// Entra ID P2 at creation: decides whether the sample CA policies include a risk-based one
    /// (only P2 tenants can create those; a later licence change leaves existing policies be).
    pub p2: bool,
    /// Fixed reference time so regenerated objects are identical across calls.
    pub anchor: DateTime<Utc>,
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn pick<'a>(list: &'a [&'a str], x: u64) -> &'a str {
    // list lengths are tiny constants; the modulo result always fits usize.
    list[(x % list.len() as u64) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(seed: u64) -> TenantGen {
        TenantGen {
            seed,
            tenant_id: "t".into(),
            name: "Contoso".into(),
            domain: "contoso.example".into(),
            initial_domain: "contoso.onmicrosoft.com".into(),
            users: 50,
            groups: 5,
            devices: 20,
            policies: 8,
            p2: false,
            anchor: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn deterministic_from_the_seed() {
        assert_eq!(user(&tg(1), 17), user(&tg(1), 17));
        assert_eq!(device(&tg(1), 3), device(&tg(1), 3));
        assert_ne!(user(&tg(1), 17).get("id"), user(&tg(2), 17).get("id"));
        assert_eq!(
            user(&tg(1), 0).get("userPrincipalName"),
            Some(&serde_json::json!("admin@contoso.example"))
        );
    }

    #[test]
    fn generated_ids_invert_to_their_index() {
        for i in [0u64, 1, 99, 99_999] {
            let id = guid(42, SALT_USER, i);
            assert_eq!(index_of(42, SALT_USER, &id, 100_000), Some(i as usize));
        }
        assert_eq!(index_of(42, SALT_GROUP, &guid(42, SALT_USER, 3), 100), None);
    }
}
