//! Escaping for the log: whatever IRIS prints or the state file names, the log stays text and one
//! event stays one line, its fields one token each.

/// Appends `s` with every control character spelled out, so the log stays text and one event
/// one line: `\n`, `\r`, `\t`, `\\` for a backslash (so the text can be restored exactly),
/// `\xHH` for other bytes below 0x20 and DEL, `\u{HHHH}` for the C1 controls.
pub(super) fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        push_char(out, c);
    }
}

/// As [`push_escaped`], and a space or `=` as `\x20` / `\x3d`: a field value stays one token.
pub(super) fn push_token(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            ' ' | '=' => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ => push_char(out, c),
        }
    }
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
        c => out.push(c),
    }
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
}
