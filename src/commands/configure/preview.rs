//! What `configure --dry-run` shows: the lines that would change, never the whole file,
//! and never a secret. Docker's config holds logins inline (`auths.*.auth` is base64 of
//! `user:password`, `identitytoken`, `registrytoken`), and dry runs are what people paste
//! into tickets and CI logs.

/// Keys whose string values are secrets wherever they appear, in any letter case.
const SECRET_KEYS: [&str; 5] = [
    "auth",
    "identitytoken",
    "registrytoken",
    "password",
    "secret",
];

/// The changed region of `after` against `before`: the old lines as `- `, the new as `+ `,
/// the common lines around them left out, secret values redacted.
pub fn changed_lines(before: Option<&str>, after: &str) -> String {
    let old: Vec<&str> = before.unwrap_or_default().lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = String::new();
    for line in &old[prefix..old.len() - suffix] {
        out.push_str(&format!("  - {}\n", redact(line)));
    }
    for line in &new[prefix..new.len() - suffix] {
        out.push_str(&format!("  + {}\n", redact(line)));
    }
    out
}

/// `line` with the string value of every secret key replaced by `<redacted>`.
pub fn redact(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('"') {
        let (before, from_quote) = rest.split_at(start);
        out.push_str(before);
        let Some((key, after_key)) = string_at(from_quote) else {
            out.push_str(from_quote);
            return out;
        };
        out.push_str(key);
        rest = after_key;
        let is_secret = SECRET_KEYS
            .iter()
            .any(|k| key.len() == k.len() + 2 && key[1..key.len() - 1].eq_ignore_ascii_case(k));
        let trimmed = rest.trim_start();
        if let (true, Some(colon)) = (is_secret, trimmed.strip_prefix(':')) {
            let value_at = colon.trim_start();
            if let Some((_, after_value)) = string_at(value_at) {
                out.push_str(&rest[..rest.len() - value_at.len()]);
                out.push_str("\"<redacted>\"");
                rest = after_value;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The JSON string that `text` starts with (quotes included) and what follows it.
fn string_at(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some((&text[..=i], &text[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22: a dry run printed inline `auths` and identity tokens.
    #[test]
    fn secrets_are_redacted_wherever_they_appear() {
        for (line, want) in [
            (
                r#"{"auths":{"ghcr.io":{"auth":"YWxpY2U6cHc="}},"credHelpers":{}}"#,
                r#"{"auths":{"ghcr.io":{"auth":"<redacted>"}},"credHelpers":{}}"#,
            ),
            (
                r#"    "IdentityToken" : "eyJ\"x", "email": "a@b""#,
                r#"    "IdentityToken" : "<redacted>", "email": "a@b""#,
            ),
            (
                r#""registrytoken":"t","password":"p""#,
                r#""registrytoken":"<redacted>","password":"<redacted>""#,
            ),
            (r#""auth": {"nested": 1}"#, r#""auth": {"nested": 1}"#),
            (
                r#""credsStore": "ecr-login","#,
                r#""credsStore": "ecr-login","#,
            ),
            (r#""unterminated"#, r#""unterminated"#),
        ] {
            assert_eq!(redact(line), want, "{line}");
        }
    }

    #[test]
    fn only_the_changed_region_is_shown() {
        let before =
            "{\n  \"auths\": {\"x\": {\"auth\": \"c2VjcmV0\"}},\n  \"credHelpers\": {}\n}\n";
        let after = "{\n  \"auths\": {\"x\": {\"auth\": \"c2VjcmV0\"}},\n  \"credHelpers\": {\"h\": \"ecr-login\"}\n}\n";
        assert_eq!(
            changed_lines(Some(before), after),
            "  -   \"credHelpers\": {}\n  +   \"credHelpers\": {\"h\": \"ecr-login\"}\n"
        );
        assert_eq!(
            changed_lines(None, "{\"auth\": \"x\"}\n"),
            "  + {\"auth\": \"<redacted>\"}\n"
        );
    }
}
