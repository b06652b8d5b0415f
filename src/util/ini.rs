//! Reading one value from an INI file, as the platforms' agents (Python's configparser, VMware
//! Tools' GLib key files) read theirs.

/// The `[section]` `key` of an INI file (`key = value` or `key: value`; `#` and `;` comments;
/// keys case-insensitive as Python's configparser has them). The last occurrence wins.
pub(crate) fn ini_value(text: &str, section: &str, key: &str, section_ci: bool) -> Option<String> {
    let mut inside = false;
    let mut found = None;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let name = name.trim();
            inside = if section_ci {
                name.eq_ignore_ascii_case(section)
            } else {
                name == section
            };
            continue;
        }
        // An indented line continues the previous value.
        if !inside || line.starts_with([' ', '\t']) {
            continue;
        }
        let Some(i) = t.find(['=', ':']) else {
            continue;
        };
        if t[..i].trim().eq_ignore_ascii_case(key) {
            found = Some(t[i + 1..].trim().to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_value_in_its_section_wins() {
        let text = "[a]\nk = 1\n[b]\nk = 2\n[a]\nK: 3\n";
        assert_eq!(ini_value(text, "a", "k", false).as_deref(), Some("3"));
        assert_eq!(ini_value(text, "b", "k", false).as_deref(), Some("2"));
        assert_eq!(ini_value(text, "c", "k", false), None);
    }

    #[test]
    fn section_case_comments_and_continuations() {
        let text = "[Snapshots]\n# enabled = false\n; enabled = no\nenabled = true\n  x = 1\n";
        assert_eq!(
            ini_value(text, "snapshots", "enabled", true).as_deref(),
            Some("true")
        );
        assert_eq!(ini_value(text, "snapshots", "enabled", false), None);
        assert_eq!(ini_value(text, "Snapshots", "x", true), None);
        assert_eq!(
            ini_value("[s]\nk =\n", "s", "k", false).as_deref(),
            Some("")
        );
    }
}
