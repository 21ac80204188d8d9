//! Views of the audit pages.
