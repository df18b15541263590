//! AWS CLI assume-role cache entries written by botocore itself (`botocore_cache.py`), so a
//! test can check the helper reads the very files `aws` leaves in `~/.aws/cli/cache` after
//! an MFA prompt. Needs `python3` with botocore; `tests/run-all.sh` installs it, and the
//! tests that use this are `#[ignore]`d otherwise.

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The script, in the source tree.
pub const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/support/botocore_cache.py"
);

/// One session the AWS CLI got by assuming `role_arn` with the MFA device `serial` (`""`: a
/// profile without `mfa_serial`) and the profile's `duration_seconds`.
pub struct CliSession<'a> {
    pub role_arn: &'a str,
    pub serial: &'a str,
    pub key_id: &'a str,
    pub secret: &'a str,
    pub token: &'a str,
    pub duration_seconds: Option<u32>,
}

impl CliSession<'_> {
    /// Writes `<dir>/<key>.json` as the AWS CLI does, for credentials that expire
    /// `expires_in` from now. Returns the key; `None` if python3 or botocore is missing.
    /// Panics if the script fails otherwise.
    pub fn write(&self, dir: &Path, expires_in: Duration) -> Option<String> {
        self.write_expiring_at(dir, OffsetDateTime::now_utc() + expires_in)
    }

    /// [`CliSession::write`] with an absolute expiration, which may be in the past.
    pub fn write_expiring_at(&self, dir: &Path, expiration: OffsetDateTime) -> Option<String> {
        write(dir, self, expiration)
    }
}

fn write(dir: &Path, session: &CliSession, expiration: OffsetDateTime) -> Option<String> {
    let CliSession {
        role_arn,
        serial,
        key_id,
        secret,
        token,
        duration_seconds,
    } = *session;
    let expiration = expiration
        .replace_nanosecond(0)
        .expect("whole seconds")
        .format(&Rfc3339)
        .expect("a year between 0 and 9999");
    let mut cmd = Command::new("python3");
    cmd.arg(SCRIPT)
        .arg(dir)
        .args([role_arn, serial, key_id, secret, token, &expiration]);
    if let Some(d) = duration_seconds {
        cmd.arg(d.to_string());
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("run {SCRIPT}: {e}"),
    };
    if out.status.code() == Some(3) {
        return None;
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{SCRIPT} failed: {stderr}");
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        key.len() == 40 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "{SCRIPT} printed {key:?}"
    );
    Some(key)
}
