//! POSIX-sh words: quoting one for a wrapper, and reading a command line back.

use std::ffi::OsString;

/// `s` as one POSIX-sh word.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// argv for people: words quoted for sh where they need it.
pub(crate) fn display_argv(argv: &[OsString]) -> String {
    let plain = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./=:,@%+".contains(c))
    };
    argv.iter()
        .map(|w| {
            let w = w.to_string_lossy();
            if plain(&w) {
                w.into_owned()
            } else {
                sh_quote(&w)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of one shell command line: quotes and backslashes undone; stops at a comment or
/// a command separator.
pub(crate) fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            cur.extend(chars.next());
                        }
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '#' if !in_word => break,
            ';' | '&' | '|' => break,
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_spaces() {
        assert_eq!(
            sh_quote("/usr/local/sbin/iris-freeze"),
            "'/usr/local/sbin/iris-freeze'"
        );
        assert_eq!(sh_quote("/opt/it's here/x"), "'/opt/it'\\''s here/x'");
    }

    #[test]
    fn argv_is_shown_quoted_only_where_needed() {
        let argv: Vec<OsString> = ["sh", "-c", "exit 1", "", "it's"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(display_argv(&argv), r#"sh -c 'exit 1' '' 'it'\''s'"#);
    }

    #[test]
    fn words_undo_quotes() {
        assert_eq!(
            words("exec '/opt/it'\\''s/iris-freeze' azure-pre \"$@\" # c"),
            ["exec", "/opt/it's/iris-freeze", "azure-pre", "$@"]
        );
        assert_eq!(words("a\\ b \"c\\\"d\""), ["a b", "c\"d"]);
        assert_eq!(words("x; y"), ["x"]);
    }

    #[test]
    fn a_quoted_word_reads_back_as_itself() {
        for s in ["/opt/it's here/x", "plain", "", "a\"b$c"] {
            assert_eq!(words(&sh_quote(s)), [s]);
        }
    }
}
