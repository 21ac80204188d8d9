//! Identity sync: Entra users → contacts, groups → contact groups, Intune devices → assets.

pub mod apply;
pub mod batch;
mod convert;
mod devices;
mod groups;
pub mod identity;
mod level;
mod staged;
mod users;

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod device_tests;
#[cfg(test)]
mod level_merge_tests;
#[cfg(test)]
mod tests;
