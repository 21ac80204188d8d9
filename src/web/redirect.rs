//! Where we may send a browser: one check for every `next` parameter and every `Location`
//! header we build from one.
//!
//! Browsers are lenient with `Location`: they drop TAB/CR/LF anywhere (`/\t/evil.example`
//! becomes `//evil.example`), treat `\` like `/` (`/\evil.example`), and read `//host` as
//! another site. So instead of refusing known-bad shapes, a target must be a plain path on
//! this site: one leading `/` not followed by `/`, and nothing but visible ASCII without
//! backslashes after it. The value is checked as the form or query extractor decoded it
//! (decoded exactly once) and the header is built from the checked value, so it can no longer
//! fail to be a valid header value either.

/// The page a sign-in lands on when `next` is absent or refused.
pub const DEFAULT_PAGE: &str = "/companies";

/// Longer than any path of ours; refusing more keeps headers and logs small.
const MAX_LEN: usize = 2048;

/// A path on this site that is safe to put in a `Location` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    /// `raw` if it is a plain local path, else `None`.
    pub fn parse(raw: &str) -> Option<LocalPath> {
        let b = raw.as_bytes();
        let ok = b.len() <= MAX_LEN
            && b.first() == Some(&b'/')
            && b.get(1) != Some(&b'/')
            && b.iter().all(|c| c.is_ascii_graphic() && *c != b'\\');
        ok.then(|| LocalPath(raw.to_string()))
    }

    /// `raw` if it is a plain local path; the default page otherwise (also when empty).
    pub fn or_default(raw: &str) -> LocalPath {
        Self::parse(raw).unwrap_or_else(|| LocalPath(DEFAULT_PAGE.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::{DEFAULT_PAGE, LocalPath};

    /// The values as a form or query extractor hands them over (already decoded once).
    #[test]
    fn only_plain_local_paths_pass() {
        let refused = [
            "//x",
            "/\\x",
            "/\t/x",
            "/\n/x",
            "/\r/x",
            "/\u{1}x",
            "/\u{b}x",
            "\\\\x",
            "https://x",
            "javascript:x",
            " /x",
            "/x ",
            "/ x",
            "///x",
            "/caf\u{e9}",
            "",
            "x",
            "/\u{7f}",
        ];
        for raw in refused {
            assert_eq!(LocalPath::parse(raw), None, "{raw:?} must be refused");
            assert_eq!(LocalPath::or_default(raw).as_str(), DEFAULT_PAGE);
        }
        for raw in [
            "/x",
            "/",
            "/companies/3?tab=assets&q=a%20b",
            "/%2F/x",
            "/portal/contoso",
        ] {
            assert_eq!(
                LocalPath::parse(raw).map(LocalPath::into_string).as_deref(),
                Some(raw)
            );
        }
        assert_eq!(LocalPath::parse(&format!("/{}", "a".repeat(3000))), None);
    }

    #[test]
    fn every_accepted_path_is_a_valid_header_value() {
        for raw in ["/x", "/a?b=c&d=%22e%22", "/~!$&'()*+,;=:@"] {
            let p = LocalPath::parse(raw).expect("accepted");
            assert!(actix_web::http::header::HeaderValue::from_str(p.as_str()).is_ok());
        }
    }
}
