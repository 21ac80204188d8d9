//! Identity sync: Entra users → contacts, groups → contact groups, Intune devices → assets.

pub mod apply;

#[cfg(test)]
mod tests;
