//! Issue 18, through the real binaries: what real AWS users have on a corporate laptop and
//! with today's AWS CLI. `aws login` profiles with the SDK's own cache file; private CAs
//! in front of the fake ECR; CONNECT proxies with and without Basic auth; MFA roles with a
//! fake STS that checks the code.

use crate::support::harness::*;

/// The `aws login` profile and its cache file, as the AWS CLI writes them
/// (`~/.aws/login/cache/<sha256 of the login_session ARN>.json`, the fields aws-config's
/// `login/cache.rs` parses). Returns the cache file.
fn write_login_profile(s: &Sandbox, access_key: &str) -> std::path::PathBuf {
    let aws = s.home().join(".aws");
    std::fs::create_dir_all(aws.join("login/cache")).unwrap();
    std::fs::write(
        aws.join("config"),
        "[profile console]\nlogin_session = arn:aws:iam::123456789012:user/alice\nregion = us-east-1\n",
    )
    .unwrap();
    let file = aws.join("login/cache").join(format!(
        "{}.json",
        sha256_hex("arn:aws:iam::123456789012:user/alice")
    ));
    std::fs::write(
        &file,
        format!(
            r#"{{
  "accessToken": {{
    "accessKeyId": "{access_key}",
    "secretAccessKey": "login-secret-LOGINSECRET",
    "sessionToken": "login-session-token-LOGINSESSION",
    "accountId": "123456789012",
    "expiresAt": "2199-12-25T21:30:00Z"
  }},
  "tokenType": "aws_sigv4",
  "refreshToken": "login-refresh-token-REFRESHSECRET",
  "clientId": "arn:aws:signin:::devtools/same-device",
  "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nnot-parsed-unless-refreshing\n-----END EC PRIVATE KEY-----\n"
}}
"#
        ),
    )
    .unwrap();
    file
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `aws login`: the SDK's login provider signs with the cached session (no prompt, no
/// refresh), the entry is a hit afterwards, and after `aws logout` (the file is gone) the
/// cached token is no longer served: `get` says to run `aws login`.
#[test]
fn aws_login_profiles_work_until_logout() {
    let mut s = Sandbox::new();
    s.without_credentials().set("AWS_PROFILE", "console");
    let cache_file = write_login_profile(&s, "ASIALOGINKEYLOGINKEY");
    let out = s.get(REGISTRY);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.token_signers(), ["ASIALOGINKEYLOGINKEY"]);
    assert!(s.get(REGISTRY).status.success());
    assert_eq!(s.fake.token_calls(), 1, "the second get hits");
    let status = s.run(&["status"], b"");
    assert!(
        stdout(&status).contains("console login"),
        "{}",
        stdout(&status)
    );
    // aws logout removes the cache file.
    std::fs::remove_file(&cache_file).unwrap();
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(line.contains("run: aws login --profile console"), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");
    assert_eq!(s.fake.token_calls(), 1, "no call without credentials");
    for o in [&out, &status] {
        for secret in ["LOGINSECRET", "LOGINSESSION", "REFRESHSECRET"] {
            assert_no_secret(o, secret);
        }
    }
}
