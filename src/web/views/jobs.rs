//! Views of the jobs pages.
