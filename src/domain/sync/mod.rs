//! Identity sync: Entra users → contacts, groups → contact groups, Intune devices → assets.

pub mod apply;
mod convert;
pub mod identity;

#[cfg(test)]
mod tests;
