//! MFA-protected roles: a profile with `role_arn`, `source_profile` and `mfa_serial`.
//!
//! Docker runs the helper with no terminal, so nobody can type a code, and the Rust SDK
//! ignores `mfa_serial` anyway (its AssumeRole goes without one and is refused). So the
//! token path never prompts: it signs with an MFA *session*, the credentials an AssumeRole
//! with the code returned, until they expire, and fails at once without one, naming the
//! command that makes one (`ecr-login login`, [`crate::commands::login`]).
//!
//! A session is found in two places, both in the layout of the AWS CLI's assume-role cache
//! (botocore's `JSONFileCache`: the AssumeRole response, file named by [`MfaRole::cache_key`]):
//! our own, `<cache dir>/sessions/`, which `login` writes; and the AWS CLI's
//! `~/.aws/cli/cache/`, so whoever typed a code for `aws --profile P …` has working pulls
//! for that session's life too.

use aws_config::profile::Profile;
use aws_credential_types::Credentials;
use ecr_login_core::files;
use ecr_login_core::secret::Secret;
use sha1::{Digest, Sha1};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A session is used only while it has at least this long left: a token fetched with it
/// expires with it, and one about to expire is worth a new code, not a new token.
const MIN_LEFT_MS: i64 = 60_000;

/// The subdirectory of the cache directory our sessions live in.
pub(crate) const SESSIONS_DIR: &str = "sessions";

/// A profile whose role needs an MFA code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MfaRole {
    pub(crate) profile: String,
    pub(crate) role_arn: String,
    pub(crate) serial: String,
    pub(crate) source_profile: Option<String>,
    pub(crate) duration_seconds: Option<u32>,
    pub(crate) external_id: Option<String>,
    pub(crate) session_name: Option<String>,
    pub(crate) region: Option<String>,
}

impl MfaRole {
    /// The profile's MFA role, if it has `role_arn` and `mfa_serial`.
    pub(crate) fn of(name: &str, profile: &Profile) -> Option<MfaRole> {
        let get = |k: &str| {
            profile
                .get(k)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(MfaRole {
            profile: name.to_string(),
            role_arn: get("role_arn")?,
            serial: get("mfa_serial")?,
            source_profile: get("source_profile"),
            // botocore drops a value it cannot parse; so do we.
            duration_seconds: get("duration_seconds").and_then(|d| d.parse().ok()),
            external_id: get("external_id"),
            session_name: get("role_session_name"),
            region: get("region"),
        })
    }

    /// The AWS CLI's file name for this role's session: the SHA-1 hex of Python's
    /// `json.dumps(args, sort_keys=True)` over the AssumeRole arguments a profile sets
    /// (botocore's `BaseAssumeRoleCredentialFetcher._create_cache_key`). The code is not
    /// among them; a generated session name is left out.
    pub(crate) fn cache_key(&self) -> String {
        let mut args: Vec<(&str, String)> = vec![
            ("RoleArn", python_json_string(&self.role_arn)),
            ("SerialNumber", python_json_string(&self.serial)),
        ];
        if let Some(d) = self.duration_seconds {
            args.push(("DurationSeconds", d.to_string()));
        }
        if let Some(x) = &self.external_id {
            args.push(("ExternalId", python_json_string(x)));
        }
        if let Some(s) = &self.session_name {
            args.push(("RoleSessionName", python_json_string(s)));
        }
        args.sort_by(|a, b| a.0.cmp(b.0));
        let body: Vec<String> = args.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
        let text = format!("{{{}}}", body.join(", "));
        Sha1::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`: every non-ASCII
/// character as `\uXXXX`, surrogate pairs beyond the BMP).
fn python_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An MFA session: the role's credentials and where they were found.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) credentials: Credentials,
    pub(crate) expires_at_ms: i64,
    pub(crate) path: PathBuf,
    /// Found in the AWS CLI's cache rather than ours.
    pub(crate) from_cli: bool,
}

/// Our sessions directory in the cache directory `cache`.
pub(crate) fn sessions_dir(cache: &Path) -> PathBuf {
    cache.join(SESSIONS_DIR)
}

/// The AWS CLI's assume-role cache.
pub(crate) fn cli_cache_dir(home: &Path) -> PathBuf {
    home.join(".aws").join("cli").join("cache")
}

/// The freshest usable session for `role`: ours, else the AWS CLI's.
pub(crate) fn find(
    role: &MfaRole,
    ours: Option<&Path>,
    home: Option<&Path>,
    now: i64,
) -> Option<Session> {
    let name = format!("{}.json", role.cache_key());
    let candidates = [
        ours.map(|d| (sessions_dir(d).join(&name), false)),
        home.map(|h| (cli_cache_dir(h).join(&name), true)),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|(path, from_cli)| {
            let (credentials, expires_at_ms) = read(&path, from_cli)?;
            Some(Session {
                credentials,
                expires_at_ms,
                path,
                from_cli,
            })
        })
        .filter(|s| s.expires_at_ms - now >= MIN_LEFT_MS)
        .max_by_key(|s| s.expires_at_ms)
}

/// The most we read of a session file.
const MAX_SESSION_FILE: u64 = 256 * 1024;

/// Reads a session file. Ours must pass the cache directory's checks (regular, ours, one
/// link); the CLI's is the user's own file in their home.
fn read(path: &Path, from_cli: bool) -> Option<(Credentials, i64)> {
    let text = if from_cli {
        // Bounded and non-blocking: a FIFO in the AWS CLI's cache is no session, not a hang.
        files::read_limited(path, MAX_SESSION_FILE).ok()?
    } else {
        let mut text = Vec::new();
        let mut options = files::open_options(0o600);
        options.read(true);
        let file = files::open_vetted(&options, path).ok()?;
        file.take(MAX_SESSION_FILE).read_to_end(&mut text).ok()?;
        text
    };
    parse(&text)
}

/// The credentials of an AssumeRole response as botocore keeps it.
pub(crate) fn parse(text: &[u8]) -> Option<(Credentials, i64)> {
    let v: serde_json::Value = serde_json::from_slice(text).ok()?;
    let c = v.get("Credentials")?;
    let field = |k: &str| c.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty());
    let expires_at_ms = parse_expiration(field("Expiration")?)?;
    let expiry = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(expires_at_ms).ok()?);
    let credentials = Credentials::new(
        field("AccessKeyId")?,
        field("SecretAccessKey")?,
        Some(field("SessionToken")?.to_string()),
        Some(expiry),
        "ecr-login-mfa-session",
    );
    Some((credentials, expires_at_ms))
}

/// botocore writes `2099-01-01T00:00:00UTC` (`strftime('%Y-%m-%dT%H:%M:%S%Z')`); STS and
/// other tools write `…Z` or `…+00:00`, maybe with fractions. All mean UTC.
pub(crate) fn parse_expiration(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s
        .strip_suffix("UTC")
        .map(|rest| format!("{rest}Z"))
        .unwrap_or_else(|| s.to_string());
    let t = time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Keeps a session in our sessions directory, in the AWS CLI's layout, 0600.
pub(crate) fn save(
    cache: &Path,
    role: &MfaRole,
    access_key_id: &str,
    secret: &Secret,
    session_token: &Secret,
    expires_at_ms: i64,
    assumed_role_arn: Option<&str>,
) -> std::io::Result<PathBuf> {
    let dir = sessions_dir(cache);
    create_private_dir(&dir).map_err(|e| with_path("create", &dir, e))?;
    let expiration = ecr_login_core::clock::rfc3339(expires_at_ms);
    let body = serde_json::json!({
        "Credentials": {
            "AccessKeyId": access_key_id,
            "SecretAccessKey": secret.expose(),
            "SessionToken": session_token.expose(),
            "Expiration": expiration,
        },
        "AssumedRoleUser": { "Arn": assumed_role_arn.unwrap_or_default() },
    });
    let path = dir.join(format!("{}.json", role.cache_key()));
    let mut bytes = serde_json::to_vec(&body).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    files::write_atomic(&path, &bytes, 0o600).map_err(|e| with_path("write", &path, e))?;
    Ok(path)
}

/// `e`, its message prefixed with what failed on which path (the kind kept).
fn with_path(what: &str, path: &std::path::Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("cannot {what} {}: {e}", path.display()))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let meta = std::fs::symlink_metadata(dir)?;
    files::check_owned(dir, &meta, "sessions directory").map_err(std::io::Error::other)
}

#[cfg(windows)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(duration: Option<u32>) -> MfaRole {
        MfaRole {
            profile: "prod".into(),
            role_arn: "arn:aws:iam::123456789012:role/ecr-pull".into(),
            serial: "arn:aws:iam::111111111111:mfa/alice".into(),
            source_profile: Some("base".into()),
            duration_seconds: duration,
            external_id: None,
            session_name: None,
            region: None,
        }
    }

    /// The keys botocore 1.44.8 computed for these arguments (run by hand; the test that
    /// reads a file botocore itself wrote is in tests/it/field.rs).
    #[test]
    fn cache_keys_are_botocores() {
        assert_eq!(
            role(Some(3600)).cache_key(),
            "d3e0e69e7135fb76aa38fa849af50a55fc38d067"
        );
        assert_eq!(
            role(None).cache_key(),
            "f62125309a2c1226126be12d3ad71323f6c72204"
        );
        assert_eq!(
            python_json_string("a\"b\\c/é😀"),
            "\"a\\\"b\\\\c/\\u00e9\\ud83d\\ude00\""
        );
    }

    #[test]
    fn expirations_in_every_spelling() {
        let want = Some(4_070_908_800_000);
        for s in [
            "2099-01-01T00:00:00UTC",
            "2099-01-01T00:00:00Z",
            "2099-01-01T00:00:00+00:00",
            "2099-01-01T00:00:00.000Z",
        ] {
            assert_eq!(parse_expiration(s), want, "{s}");
        }
        assert_eq!(parse_expiration("tomorrow"), None);
    }

    #[test]
    fn sessions_are_found_ours_first_and_only_while_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&cache).unwrap();
        let r = role(None);
        let now = 1_000_000;
        assert!(find(&r, Some(&cache), Some(&home), now).is_none());
        // The CLI's, written as botocore writes it.
        let cli = cli_cache_dir(&home);
        std::fs::create_dir_all(&cli).unwrap();
        std::fs::write(
            cli.join(format!("{}.json", r.cache_key())),
            r#"{"Credentials": {"AccessKeyId": "ASIACLI", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00UTC", "AccountId": "123456789012"}}"#,
        )
        .unwrap();
        let s = find(&r, Some(&cache), Some(&home), now).unwrap();
        assert!(s.from_cli);
        assert_eq!(s.credentials.access_key_id(), "ASIACLI");
        // Ours, expiring sooner: the later one wins.
        let path = save(
            &cache,
            &r,
            "ASIAOURS",
            &Secret::new("s"),
            &Secret::new("t"),
            now + 3_600_000,
            None,
        )
        .unwrap();
        assert_eq!(
            ecr_login_core::files::mode(&std::fs::metadata(&path).unwrap()),
            0o600
        );
        assert!(find(&r, Some(&cache), Some(&home), now).unwrap().from_cli);
        std::fs::remove_dir_all(&cli).unwrap();
        let s = find(&r, Some(&cache), Some(&home), now).unwrap();
        assert_eq!(s.credentials.access_key_id(), "ASIAOURS");
        // Expired (or about to): not a session.
        assert!(find(&r, Some(&cache), Some(&home), now + 3_600_000 - 59_000).is_none());
    }
}
