//! Control characters spelled out, one way everywhere: in the log (one event one line, its
//! fields one token each, the text restorable) and in what a person reads on a terminal, where
//! whatever IRIS printed or a file held must not set a title, clear the screen, move the cursor
//! or hide what a pasted line holds. Both cut a line that is longer than any of ours.

use std::borrow::Cow;

/// The longest line shown or logged. No line of ours comes near it; a value from outside (a
/// journal path, a qlist field, a file) may be megabytes, and is cut, saying so.
pub(crate) const LINE_MAX: usize = 8 * 1024;

/// `s` as it is when it fits in [`LINE_MAX`] bytes; else its start and how long it was, in
/// `LINE_MAX` bytes at most, so that cutting again changes nothing.
pub(crate) fn cut(s: &str) -> Cow<'_, str> {
    if s.len() <= LINE_MAX {
        return Cow::Borrowed(s);
    }
    let mut end = LINE_MAX - 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}... (cut: {} bytes in all)", &s[..end], s.len()))
}

/// Appends `s` with every control character spelled out, so the log stays text and one event
/// one line: `\n`, `\r`, `\t`, `\\` for a backslash (so the text can be restored exactly),
/// `\xHH` for other bytes below 0x20 and DEL, `\u{HHHH}` for the C1 controls.
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    // What needs nothing is copied a run at a time: IRIS's output is mostly plain text.
    while let Some((i, c)) = rest
        .char_indices()
        .find(|&(_, c)| c == '\\' || c.is_control())
    {
        out.push_str(&rest[..i]);
        push_char(out, c);
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
}

/// As [`push_escaped`], and a space or `=` as `\x20` / `\x3d`: a field value stays one token.
pub(crate) fn push_token(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            ' ' | '=' => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ => push_char(out, c),
        }
    }
}

/// Text for a terminal: its line breaks kept, every other control character spelled out as in
/// the log, each line [`cut`]. Backslashes stay as they are, so text already escaped comes out
/// unchanged.
pub(crate) fn terminal_text(s: &str) -> String {
    terminal(s, true)
}

/// One line for a terminal: as [`terminal_text`], a line break spelled out too, so a value
/// cannot start a line of its own (a forged history line, a command to paste).
pub(crate) fn terminal_line(s: &str) -> String {
    terminal(s, false)
}

fn terminal(s: &str, keep_newlines: bool) -> String {
    if keep_newlines {
        return s
            .split('\n')
            .map(|l| terminal(l, false))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !spell(&mut out, c) {
            out.push(c);
        }
    }
    cut(&out).into_owned()
}

fn push_char(out: &mut String, c: char) {
    if c == '\\' {
        out.push_str("\\\\");
    } else if !spell(out, c) {
        out.push(c);
    }
}

/// Appends the spelling of `c` when it is a control character (C0, DEL, C1); false otherwise.
fn spell(out: &mut String, c: char) -> bool {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_spells_out_every_control_character_and_nothing_else() {
        let mut out = String::new();
        push_escaped(&mut out, "a\0b\x01\x1f\x7f\u{85} é\\ = \t");
        assert_eq!(out, "a\\x00b\\x01\\x1f\\x7f\\u{0085} é\\\\ = \\t");
        assert!(out.bytes().all(|b| b >= 0x20 && b != 0x7f));
    }

    #[test]
    fn a_terminal_gets_the_same_spelling_and_lines_only_where_asked() {
        let hostile = "x\x1b]0;owned\x07\x1b[2J\x1b[8m\r\u{9b}31m\nnext \\ é";
        assert_eq!(
            terminal_text(hostile),
            "x\\x1b]0;owned\\x07\\x1b[2J\\x1b[8m\\r\\u{009b}31m\nnext \\ é"
        );
        let line = terminal_line(hostile);
        assert!(line.contains("\\u{009b}31m\\nnext"), "{line}");
        assert!(!line.chars().any(char::is_control), "{line}");
        // Escaping twice changes nothing: a report may hold values escaped already.
        assert_eq!(terminal_text(&line), line);
    }

    #[test]
    fn a_line_longer_than_any_of_ours_is_cut_and_says_so() {
        let long = format!("{}\n{}", "é".repeat(60_000), "short");
        let text = terminal_text(&long);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].len() <= LINE_MAX, "{}", lines[0].len());
        assert!(lines[0].ends_with("... (cut: 120000 bytes in all)"));
        assert_eq!(lines[1], "short");
        assert_eq!(terminal_text(&text), text);
        assert!(terminal_line(&long).len() <= LINE_MAX);
        assert!(matches!(cut("short"), Cow::Borrowed("short")));
    }
}
