//! Text from a file, a variable or an argument, made safe to print for people. A value can
//! hold terminal escape sequences (`credsStore`, `NO_PROXY`, a registry argument): printed
//! raw, they set the window title, clear the screen over a `✗` line, or write the clipboard
//! of whoever runs the command or pastes its report (issue 27). `doctor`, `status` and
//! `configure` show every control character, and every bidirectional override, as an
//! escape (`\u{1b}`, `\n`) instead; `--json` output is escaped by serde already.

/// `text` on one line: every control character, newlines included, shown as an escape.
pub fn line(text: &str) -> String {
    escaped(text, false)
}

/// `text` with the same escapes, except the newlines that lay it out as lines.
pub fn lines(text: &str) -> String {
    escaped(text, true)
}

fn escaped(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hidden(c) && !(keep_newlines && c == '\n') {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters a terminal acts on instead of showing: C0 and C1 controls (ESC, BEL, CR,
/// CSI), and the bidirectional marks and overrides, which reorder what follows them.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_as_escapes() {
        for (text, one, kept) in [
            ("plain ✓ é", "plain ✓ é", "plain ✓ é"),
            (
                "desk\u{1b}]0;T\u{7}\u{1b}[2Jtop",
                r"desk\u{1b}]0;T\u{7}\u{1b}[2Jtop",
                r"desk\u{1b}]0;T\u{7}\u{1b}[2Jtop",
            ),
            ("a\nb\r\tc", r"a\nb\r\tc", "a\nb\\r\\tc"),
            (
                "\u{9b}31m \u{202e}x",
                r"\u{9b}31m \u{202e}x",
                r"\u{9b}31m \u{202e}x",
            ),
        ] {
            assert_eq!(line(text), one, "{text:?}");
            assert_eq!(lines(text), kept, "{text:?}");
        }
    }
}
