//! Text that may carry a secret, made safe to show: user information in URLs
//! (`https://user:password@host`, a proxy or an endpoint override), and the values serde
//! repeats in its errors (`invalid type: string "hunter2"`). Every message that echoes
//! input goes through here.

/// `text` with the user information of every URL in it replaced by `<redacted>`, and a
/// bare `name:password@host` (no scheme) treated the same.
pub fn userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        out.push_str(&redact_word(word));
    }
    out
}

fn redact_word(word: &str) -> String {
    let start = word.find("://").map_or(0, |i| i + 3);
    let rest = &word[start..];
    let end = rest.find(['/', '?', '#', '"', '\'']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &word[..start], &rest[at..]),
        None => word.to_string(),
    }
}

/// A serde error's message without the values it quotes (field names, in backticks, stay).
pub fn serde_message(e: &impl std::fmt::Display) -> String {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_string = false;
                    out.push_str("…\"");
                }
                _ => escaped = false,
            }
        } else {
            out.push(c);
            if c == '"' {
                in_string = true;
            }
        }
    }
    if in_string {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_never_shows() {
        for (text, want) in [
            (
                "unsupported URL scheme in \"ftp://alice:hunter2@host/x\"",
                "unsupported URL scheme in \"ftp://<redacted>@host/x\"",
            ),
            (
                "endpoint:https://u:p@vpce.example:8443",
                "endpoint:https://<redacted>@vpce.example:8443",
            ),
            (
                "proxy alice:pw@proxy:3128 said no",
                "proxy <redacted>@proxy:3128 said no",
            ),
            ("https://host/path@x", "https://host/path@x"),
            ("no secret here", "no secret here"),
        ] {
            assert_eq!(userinfo(text), want, "{text}");
        }
    }

    #[test]
    fn serde_errors_keep_their_shape_not_their_values() {
        let e = serde_json::from_str::<std::collections::BTreeMap<String, u32>>(
            r#"{"a":"hunter2 \" still secret"}"#,
        )
        .unwrap_err();
        let shown = serde_message(&e);
        assert!(
            !shown.contains("hunter2") && !shown.contains("still"),
            "{shown}"
        );
        assert!(
            shown.contains("invalid type") && shown.contains("line 1"),
            "{shown}"
        );
    }
}
