//! Identity sync: Entra users → contacts, groups → contact groups, Intune devices → assets.

pub mod apply;
pub mod batch;
mod convert;
mod devices;
pub mod identity;

#[cfg(test)]
mod tests;
