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

/// Writes `<dir>/<key>.json` as the AWS CLI does after assuming `role_arn` with the MFA
/// device `serial` (`""`: a profile without `mfa_serial`) and the profile's
/// `duration_seconds`, for credentials that expire `expires_in` from now. Returns the key;
/// `None` if python3 or botocore is missing. Panics if the script fails otherwise.
#[allow(clippy::too_many_arguments)]
pub fn write_cli_cache(
    dir: &Path,
    role_arn: &str,
    serial: &str,
    key_id: &str,
    secret: &str,
    token: &str,
    expires_in: Duration,
    duration_seconds: Option<u32>,
) -> Option<String> {
    let expiration = OffsetDateTime::now_utc() + expires_in;
    write_cli_cache_expiring_at(
        dir,
        role_arn,
        serial,
        key_id,
        secret,
        token,
        expiration,
        duration_seconds,
    )
}

/// [`write_cli_cache`] with an absolute expiration, which may be in the past.
#[allow(clippy::too_many_arguments)]
pub fn write_cli_cache_expiring_at(
    dir: &Path,
    role_arn: &str,
    serial: &str,
    key_id: &str,
    secret: &str,
    token: &str,
    expiration: OffsetDateTime,
    duration_seconds: Option<u32>,
) -> Option<String> {
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
