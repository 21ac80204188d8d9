//! How two records' serial numbers and hostnames are compared (rules 1 and 3).

/// Placeholder serials firmware and imaging tools leave behind, normalised. They identify no
/// machine, so a record carrying one has no serial for matching.
const JUNK: [&str; 16] = [
    "TOBEFILLEDBYOEM",
    "DEFAULTSTRING",
    "SYSTEMSERIALNUMBER",
    "SYSTEMPRODUCTNAME",
    "NOTSPECIFIED",
    "NOTAPPLICABLE",
    "NONE",
    "NA",
    "UNKNOWN",
    "INVALID",
    "0123456789",
    "123456789",
    "CHASSISSERIALNUMBER",
    "0",
    "",
    "-",
];

/// Trim, upper-case, drop separators and non-printables: ` ab12-cd34 ` and `AB12CD34` are the
/// same serial. Separators are anything that is not a letter or a digit.
pub fn normalise_serial(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The serial to match on, or `None` for junk: empty, a placeholder, or one character repeated
/// (`000000`, `......`, which normalises to empty).
pub fn serial_key(raw: &str) -> Option<String> {
    let n = normalise_serial(raw);
    if JUNK.contains(&n.as_str()) {
        return None;
    }
    let mut chars = n.chars();
    let first = chars.next()?;
    if chars.all(|c| c == first) {
        return None;
    }
    Some(n)
}

/// Longest NetBIOS computer name: Windows truncates longer hostnames to it, so an agent may
/// report the truncated name while Intune has the full one.
const NETBIOS_LEN: usize = 15;

/// Hostname to match on: case-insensitive, DNS suffix stripped, cut to the NetBIOS length so
/// a truncated name equals its full form. `None` when empty.
pub fn hostname_key(raw: &str) -> Option<String> {
    let short = raw.trim().split('.').next().unwrap_or_default().trim();
    if short.is_empty() {
        return None;
    }
    Some(short.to_lowercase().chars().take(NETBIOS_LEN).collect())
}

/// Platform family, so `Windows` (Intune) and `Windows` (Level), `macOS` and `Mac` compare.
pub fn platform_family(raw: &str) -> &'static str {
    let l = raw.trim().to_ascii_lowercase();
    if l.starts_with("windows") {
        "windows"
    } else if l.starts_with("mac") || l == "osx" {
        "mac"
    } else if l == "ios" || l == "ipados" {
        "ios"
    } else if l.starts_with("android") {
        "android"
    } else if l.contains("linux") || l.contains("ubuntu") {
        "linux"
    } else if l.is_empty() {
        ""
    } else {
        "other"
    }
}
