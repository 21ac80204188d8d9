//! Assets from more than one source: the merge rules that make one asset per physical machine
//! (docs/levelio.md#merge-rules). Pure functions; the Level sync calls them with a company's
//! records and writes the outcome.

pub mod decide;
pub mod identity;
pub mod merge;
pub mod outcome;
mod provenance;
pub mod stored;
pub mod views;

pub use merge::{MergeInput, merge};

#[cfg(test)]
mod merge_tests;
