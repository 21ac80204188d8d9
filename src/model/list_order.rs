//! The orders list pages and API endpoints offer, by column name, and the word search they
//! share. Plain data: the store keeps one sorted index per order (`store/index/`), so a column
//! offered here must have an index there.

/// Contacts: `name` (default), `email`, `department`, `job_title`, `status`, `updated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactSort {
    Name,
    Email,
    Department,
    JobTitle,
    Status,
    Updated,
}

impl ContactSort {
    pub const ALL: [ContactSort; 6] = [
        ContactSort::Name,
        ContactSort::Email,
        ContactSort::Department,
        ContactSort::JobTitle,
        ContactSort::Status,
        ContactSort::Updated,
    ];
    /// The column a request names; an unknown name sorts by the default one.
    pub fn parse(s: &str) -> Self {
        match s {
            "email" => Self::Email,
            "department" => Self::Department,
            "job_title" => Self::JobTitle,
            "status" => Self::Status,
            "updated" => Self::Updated,
            _ => Self::Name,
        }
    }
}

/// Assets: `hostname` (default), `os`, `serial`, `compliance`, `last_check_in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetSort {
    Hostname,
    Os,
    Serial,
    Compliance,
    LastCheckIn,
}

impl AssetSort {
    pub const ALL: [AssetSort; 5] = [
        AssetSort::Hostname,
        AssetSort::Os,
        AssetSort::Serial,
        AssetSort::Compliance,
        AssetSort::LastCheckIn,
    ];
    pub fn parse(s: &str) -> Self {
        match s {
            "os" => Self::Os,
            "serial" => Self::Serial,
            "compliance" => Self::Compliance,
            "last_check_in" => Self::LastCheckIn,
            _ => Self::Hostname,
        }
    }
}

/// Contact groups: `name` (default), `members`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupSort {
    Name,
    Members,
}

impl GroupSort {
    pub const ALL: [GroupSort; 2] = [GroupSort::Name, GroupSort::Members];
    pub fn parse(s: &str) -> Self {
        match s {
            "members" => Self::Members,
            _ => Self::Name,
        }
    }
}

/// Companies: `name` (default), `domain`, `created`, `updated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompanySort {
    Name,
    Domain,
    Created,
    Updated,
}

impl CompanySort {
    pub const ALL: [CompanySort; 4] = [
        CompanySort::Name,
        CompanySort::Domain,
        CompanySort::Created,
        CompanySort::Updated,
    ];
    pub fn parse(s: &str) -> Self {
        match s {
            "domain" => Self::Domain,
            "created" => Self::Created,
            "updated" => Self::Updated,
            _ => Self::Name,
        }
    }
}

/// Support requests: `subject`, `status`, `contact`, `created`, `updated`; without a column,
/// newest activity first (`updated`, descending, whatever the direction says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestSort {
    Subject,
    Status,
    Contact,
    Created,
    Updated,
}

impl RequestSort {
    pub const ALL: [RequestSort; 5] = [
        RequestSort::Subject,
        RequestSort::Status,
        RequestSort::Contact,
        RequestSort::Created,
        RequestSort::Updated,
    ];
    /// The column, or None for the default order (newest activity first).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "subject" => Some(Self::Subject),
            "status" => Some(Self::Status),
            "contact" => Some(Self::Contact),
            "created" => Some(Self::Created),
            "updated" => Some(Self::Updated),
            _ => None,
        }
    }
}

/// The words of a text as search sees them: lower case, split at anything that is not a letter
/// or digit (`ada.lovelace@contoso.com` → `ada`, `lovelace`, `contoso`, `com`).
pub fn search_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A search as typed, in words. A record matches when every word of the search starts one of
/// the record's words (`ada love` finds Ada Lovelace, `lovelace@con` finds her e-mail).
/// A search with no letters or digits matches nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub words: Vec<String>,
}

impl SearchQuery {
    pub fn parse(q: &str) -> Self {
        let mut words: Vec<String> = search_words(q).collect();
        words.sort();
        words.dedup();
        Self { words }
    }

    /// The word to look up first: the longest, which usually matches fewest records.
    pub fn driver(&self) -> Option<&str> {
        self.words
            .iter()
            .max_by_key(|w| w.chars().count())
            .map(String::as_str)
    }

    /// Does a record whose searchable texts are `fields` match?
    pub fn matches<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> bool {
        if self.words.is_empty() {
            return false;
        }
        let record: Vec<String> = fields.into_iter().flat_map(search_words).collect();
        self.words
            .iter()
            .all(|q| record.iter().any(|w| w.starts_with(q.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_prefixes_of_record_words() {
        let q = SearchQuery::parse("Ada LOVE");
        assert!(q.matches(["Ada Lovelace", "ada@contoso.com"]));
        assert!(!q.matches(["Adam Smith"]));
        assert!(SearchQuery::parse("lovelace@con").matches(["ada.lovelace@contoso.com"]));
        assert!(SearchQuery::parse("zoë").matches(["Zoë Ångström"]));
        assert!(SearchQuery::parse("ång").matches(["Zoë Ångström"]));
        assert!(
            !SearchQuery::parse("...").matches(["..."]),
            "no words, no match"
        );
        assert_eq!(SearchQuery::parse("b abc a").driver(), Some("abc"));
    }
}

/// Filters of an asset list. Each is served by an index (`store/index/entries.rs`): compliance
/// and OS by their own lists, `checked_in_before` as a range of the check-in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetFilter {
    /// An Intune compliance state as stored (`compliant`, `noncompliant`, ...).
    pub compliance: Option<String>,
    /// An OS name (`Windows`, `iOS`...), compared without case.
    pub os: Option<String>,
    /// Stale devices: last check-in before this time, or never.
    pub checked_in_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Sources (only Intune, only Level, merged, needs review, no agent): a list of its own;
    /// when set, compliance and OS are ignored (see `Txn::asset_page_filtered`).
    pub sources: Option<super::SourcesFilter>,
}

impl AssetFilter {
    pub fn is_empty(&self) -> bool {
        self.compliance.is_none()
            && self.os.is_none()
            && self.checked_in_before.is_none()
            && self.sources.is_none()
    }
}

/// Filters of a contact list: active or not, guest or member, member of a contact group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFilter {
    pub active: Option<bool>,
    pub guest: Option<bool>,
    /// A contact group's id (of the listed company).
    pub group: Option<u64>,
}

impl ContactFilter {
    pub fn is_empty(&self) -> bool {
        self.active.is_none() && self.guest.is_none() && self.group.is_none()
    }
}
