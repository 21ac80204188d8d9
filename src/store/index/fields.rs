//! The fields of a contact or an asset that its index entries are computed from (`entries.rs`),
//! borrowed from the record, or read straight from its stored JSON by a build.
//!
//! WHY (#11): a first sync's list build (`bulk.rs`) and a re-index (`build.rs`) decode every
//! stored record to compute its entries. Decoded into the full model, each record allocated
//! every string it holds (an asset's sources carry Intune's and Level's details as JSON
//! values: dozens of strings and maps) to read a handful of fields. Decoded into these views,
//! the strings the entries need are borrowed from the stored bytes (copied only when the JSON
//! escapes a character) and every other field is skipped.
//!
//! One set of entry functions takes these views, and the model's records are turned into a
//! view by borrowing, so a record's entries cannot differ with how it was read. The index
//! check (`build.rs`) decodes the full model, so it also checks that a view reads the same
//! fields as the model does.

use crate::model::{Asset, Contact, MergeState, SourceKind};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::borrow::Cow;

/// A contact's fields that its entries use (see [`crate::model::Contact`]).
#[derive(Debug, Deserialize)]
pub(crate) struct ContactFields<'a> {
    pub id: u64,
    pub company_id: u64,
    #[serde(borrow)]
    pub display_name: Cow<'a, str>,
    #[serde(borrow)]
    pub email: Cow<'a, str>,
    #[serde(borrow)]
    pub department: Cow<'a, str>,
    #[serde(borrow)]
    pub job_title: Cow<'a, str>,
    #[serde(borrow)]
    pub upn: Cow<'a, str>,
    pub active: bool,
    pub is_guest: bool,
    /// Read as the contact record reads it (`model::utc_text`: the stored form by hand).
    #[serde(deserialize_with = "crate::model::utc_text::deserialize")]
    pub updated_at: DateTime<Utc>,
}

impl<'a> ContactFields<'a> {
    pub(crate) fn of(c: &'a Contact) -> Self {
        Self {
            id: c.id,
            company_id: c.company_id,
            display_name: Cow::Borrowed(&c.display_name),
            email: Cow::Borrowed(&c.email),
            department: Cow::Borrowed(&c.department),
            job_title: Cow::Borrowed(&c.job_title),
            upn: Cow::Borrowed(&c.upn),
            active: c.active,
            is_guest: c.is_guest,
            updated_at: c.updated_at,
        }
    }
}

/// An asset's fields that its entries use (see [`crate::model::Asset`]).
#[derive(Debug, Deserialize)]
pub(crate) struct AssetFields<'a> {
    pub id: u64,
    pub company_id: u64,
    #[serde(borrow)]
    pub hostname: Cow<'a, str>,
    #[serde(borrow)]
    pub os: Cow<'a, str>,
    #[serde(borrow)]
    pub serial_number: Cow<'a, str>,
    #[serde(borrow)]
    pub compliance_state: Cow<'a, str>,
    pub last_check_in: Option<DateTime<Utc>>,
    pub primary_user_contact_id: Option<u64>,
    pub active: bool,
    /// Which sources hold a record (their details are skipped).
    #[serde(rename = "sources", deserialize_with = "held_sources")]
    pub held: HeldSources,
    /// Default for rows written before schema v16, as the model's.
    #[serde(default)]
    pub merge: MergeFields,
}

/// Which of the sources an asset's Sources lists tell apart hold a record of it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct HeldSources {
    pub intune: bool,
    pub level: bool,
}

impl HeldSources {
    fn of<'s>(sources: impl IntoIterator<Item = &'s str>) -> Self {
        let mut held = Self::default();
        for s in sources {
            held.intune |= s == SourceKind::Intune.as_str();
            held.level |= s == SourceKind::Level.as_str();
        }
        held
    }
}

/// One stored source's name (`AssetSource::source`).
#[derive(Deserialize)]
struct SourceName<'a> {
    #[serde(borrow)]
    source: Cow<'a, str>,
}

fn held_sources<'de, D: serde::Deserializer<'de>>(d: D) -> Result<HeldSources, D::Error> {
    let names: Vec<SourceName<'de>> = Vec::deserialize(d)?;
    Ok(HeldSources::of(names.iter().map(|n| n.source.as_ref())))
}

/// An asset's merge state (`AssetMerge::state`, whose fields all default).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MergeFields {
    pub state: MergeState,
}

impl<'a> AssetFields<'a> {
    pub(crate) fn of(a: &'a Asset) -> Self {
        Self {
            id: a.id,
            company_id: a.company_id,
            hostname: Cow::Borrowed(&a.hostname),
            os: Cow::Borrowed(&a.os),
            serial_number: Cow::Borrowed(&a.serial_number),
            compliance_state: Cow::Borrowed(&a.compliance_state),
            last_check_in: a.last_check_in,
            primary_user_contact_id: a.primary_user_contact_id,
            active: a.active,
            held: HeldSources::of(a.sources.iter().map(|s| s.source.as_str())),
            merge: MergeFields {
                state: a.merge.state,
            },
        }
    }
}
