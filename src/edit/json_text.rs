//! Editing one top-level member of a JSON object in place, every other byte untouched.
//!
//! Docker's `config.json` is shared by every tool; a parse-and-reprint round trip rewrites
//! what we never meant to touch (`1.10` becomes `1.1`, a large integer a float, an
//! indentation another). So we validate the whole text with serde_json, locate the spans
//! of the top-level members with a small scanner, and splice.

use std::ops::Range;

/// Why a text is not one JSON object. Each prints its cause's words, so none returns it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonError {
    #[error("is not valid JSON ({0})")]
    Invalid(serde_json::Error),
    #[error("is not a JSON object")]
    NotAnObject,
}

impl From<serde_json::Error> for JsonError {
    fn from(e: serde_json::Error) -> JsonError {
        JsonError::Invalid(e)
    }
}

/// A JSON object's text and the spans of its top-level members.
#[derive(Debug)]
pub(crate) struct ObjectText {
    text: String,
    /// Index of the closing `}`.
    close: usize,
    members: Vec<Member>,
}

#[derive(Debug, Clone)]
struct Member {
    key: String,
    /// From the key's opening quote to the end of the value.
    whole: Range<usize>,
    value: Range<usize>,
}

impl ObjectText {
    /// Parses `text`, which must be one JSON object (surrounding white space allowed).
    pub(crate) fn parse(text: &str) -> Result<ObjectText, JsonError> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        if !value.is_object() {
            return Err(JsonError::NotAnObject);
        }
        let b = text.as_bytes();
        let mut i = skip_ws(b, 0);
        debug_assert_eq!(b[i], b'{');
        i += 1;
        let mut members = Vec::new();
        loop {
            i = skip_ws(b, i);
            if b[i] == b'}' {
                return Ok(ObjectText {
                    text: text.to_string(),
                    close: i,
                    members,
                });
            }
            if b[i] == b',' {
                i = skip_ws(b, i + 1);
            }
            let key_start = i;
            let key_end = skip_string(b, i);
            let key: String = serde_json::from_str(&text[key_start..key_end])?;
            i = skip_ws(b, key_end);
            i = skip_ws(b, i + 1); // the colon
            let value_start = i;
            let value_end = skip_value(b, i);
            members.push(Member {
                key,
                whole: key_start..value_end,
                value: value_start..value_end,
            });
            i = value_end;
        }
    }

    /// The raw text of a member's value.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.member(key).map(|m| &self.text[m.value.clone()])
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    fn member(&self, key: &str) -> Option<&Member> {
        self.members.iter().rev().find(|m| m.key == key)
    }

    /// The file's line end: `\r\n` if it has one (a file from Windows), else `\n`. What we
    /// insert uses it, so an edit never leaves mixed line ends (issue 27).
    fn newline(&self) -> &'static str {
        if self.text.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// The white space before the first member (`\n\t` in Docker's files), for new ones.
    fn indent(&self) -> String {
        match self.members.first() {
            Some(m) => {
                let before = &self.text[..m.whole.start];
                let ws_start = before.trim_end().len();
                before[ws_start..].to_string()
            }
            None => format!("{}\t", self.newline()),
        }
    }

    /// Sets `key` to the raw JSON `value` (replacing it where it is, else appending it).
    /// `value` may span lines (`\n`); they end as the file's lines do, indented like the
    /// member.
    pub(crate) fn set(&self, key: &str, value: &str) -> Result<ObjectText, JsonError> {
        let indent = self.indent();
        let newline = self.newline();
        let line_indent = indent.trim_start_matches(['\r', '\n']);
        let nested = value.replace('\n', &format!("{newline}{line_indent}"));
        let text = match self.member(key) {
            Some(m) => format!(
                "{}{nested}{}",
                &self.text[..m.value.start],
                &self.text[m.value.end..]
            ),
            None => {
                let name = serde_json::to_string(key)?;
                match self.members.last() {
                    Some(last) => format!(
                        "{},{indent}{name}: {nested}{}",
                        &self.text[..last.whole.end],
                        &self.text[last.whole.end..]
                    ),
                    None => format!(
                        "{}{indent}{name}: {nested}{newline}{}",
                        self.text[..self.close].trim_end(),
                        &self.text[self.close..]
                    ),
                }
            }
        };
        ObjectText::parse(&text)
    }

    /// Removes `key` and the comma that separated it.
    pub(crate) fn remove(&self, key: &str) -> Result<ObjectText, JsonError> {
        let Some(index) = self.members.iter().rposition(|m| m.key == key) else {
            return ObjectText::parse(&self.text);
        };
        let m = &self.members[index];
        let range = if index > 0 {
            // From the end of the previous member: its comma and our white space go.
            self.members[index - 1].whole.end..m.whole.end
        } else if let Some(next) = self.members.get(1) {
            m.whole.start..next.whole.start
        } else {
            // The only member: back to `{}` with the file's own closing white space.
            let open = self.text[..m.whole.start].trim_end().len();
            open..self.close
        };
        let text = format!("{}{}", &self.text[..range.start], &self.text[range.end..]);
        ObjectText::parse(&text)
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index after the string starting at `i` (its opening quote).
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The index after the value starting at `i` (already validated JSON).
fn skip_value(b: &[u8], mut i: usize) -> usize {
    match b[i] {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            i
        }
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']') && !b[i].is_ascii_whitespace()
            {
                i += 1;
            }
            i
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: &str = "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\"auth\": \"eA==\"}\n\t},\n\t\"version\": 1.10,\n\t\"big\": 123456789012345678901234567890,\n\t\"s\": \"a,}\\\"b\"\n}\n";

    #[test]
    fn setting_one_member_keeps_every_other_byte() {
        let doc = ObjectText::parse(DOCKER).unwrap();
        assert_eq!(doc.get("version"), Some("1.10"));
        assert_eq!(doc.get("s"), Some("\"a,}\\\"b\""));
        let added = doc.set("credsStore", "\"ecr-login\"").unwrap();
        assert_eq!(
            added.text(),
            DOCKER.replace(
                "\"a,}\\\"b\"\n}",
                "\"a,}\\\"b\",\n\t\"credsStore\": \"ecr-login\"\n}"
            )
        );
        let replaced = added.set("version", "2").unwrap();
        assert!(replaced.text().contains("\"version\": 2,"));
        let removed = replaced
            .remove("credsStore")
            .unwrap()
            .set("version", "1.10")
            .unwrap();
        assert_eq!(removed.text(), DOCKER);
    }

    #[test]
    fn nested_values_are_indented_like_the_member() {
        let doc = ObjectText::parse("{\n\t\"a\": 1\n}\n").unwrap();
        let out = doc
            .set("credHelpers", "{\n\t\"h\": \"ecr-login\"\n}")
            .unwrap();
        assert_eq!(
            out.text(),
            "{\n\t\"a\": 1,\n\t\"credHelpers\": {\n\t\t\"h\": \"ecr-login\"\n\t}\n}\n"
        );
        let empty = ObjectText::parse("{}").unwrap().set("k", "true").unwrap();
        assert_eq!(empty.text(), "{\n\t\"k\": true\n}");
        let only = ObjectText::parse("{\n  \"k\": true\n}\n")
            .unwrap()
            .remove("k")
            .unwrap();
        assert_eq!(only.text(), "{}\n");
        let first = ObjectText::parse("{\"a\": 1, \"b\": 2}")
            .unwrap()
            .remove("a")
            .unwrap();
        assert_eq!(first.text(), "{\"b\": 2}");
    }

    #[test]
    fn refuses_what_is_not_one_object() {
        for bad in ["[1]", "{oops", "", "1"] {
            assert!(ObjectText::parse(bad).is_err(), "{bad}");
        }
    }
}
