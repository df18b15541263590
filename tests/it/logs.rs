//! Issue 13: no level of logging prints a token, a secret key, a session token or a
//! service-account JWT; and the default stderr is our own line only.

use crate::support::daemon::Daemon;
use crate::support::fake_ecr;
use crate::support::harness::*;
use std::time::Duration;

/// Every secret the fake hands out or the sandbox holds, in every form it travels in.
fn secrets(password: &str) -> Vec<String> {
    let mut s = vec![
        password.to_string(),
        fake_ecr::encode_base64(format!("AWS:{password}").as_bytes()),
        SECRET_KEY.to_string(),
        "fake/secret/".to_string(),
        "FwoGZXIvYXdzEFAKE".to_string(),
    ];
    // The password's JSON payload, base64 inside base64: its first bytes too.
    s.push(password[..password.len().min(24)].to_string());
    s
}

fn assert_clean(what: &str, stderr_text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !stderr_text.contains(secret.as_str()),
            "{what}: {secret:?} on stderr at trace:\n{stderr_text}"
        );
    }
}

fn service_account_token() -> String {
    let claims = fake_ecr::encode_base64(
        br#"{"sub":"system:serviceaccount:apps:puller","kubernetes.io":{"serviceaccount":{"uid":"u1"}}}"#,
    )
    .replace('+', "-")
    .replace('/', "_")
    .replace('=', "");
    format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2lnbmF0dXJlLW9mLXRoZS1qd3Q")
}

#[test]
fn trace_logs_hold_no_secret() {
    let mut s = Sandbox::new();
    s.set("ECR_LOGIN_LOG", "trace");
    let password = fake_ecr::default_password(1_900_000_000);
    s.fake.set_password(&password);
    let mut secrets = secrets(&password);

    // A miss signed with environment keys.
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert!(
        !stderr(&out).is_empty(),
        "trace logged nothing: the test would prove nothing"
    );
    assert_clean("get", &stderr(&out), &secrets);

    // A miss through an assumed role (STS session credentials in the response).
    s.write_aws_profiles(&[("base", "AKIABASEBASEBASEBAS1")]);
    s.write_config(&format!(
        "[registries.\"{REGISTRY}\"]\nprofile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\n"
    ));
    secrets.push("secret-of-AKIABASEBASEBASEBAS1".into());
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert!(s.fake.sts_calls() >= 1);
    assert_clean("get with a role", &stderr(&out), &secrets);

    // A kubelet request with a service account token.
    let jwt = service_account_token();
    secrets.push(jwt.clone());
    secrets.push(jwt.split('.').nth(1).unwrap().to_string());
    let request = serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{REGISTRY}/app:1"),
        "serviceAccountToken": jwt,
        "serviceAccountAnnotations": {"eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/puller"},
    });
    let out = s.run(&["kubelet"], request.to_string().as_bytes());
    assert_ok(&out);
    assert_clean("kubelet", &stderr(&out), &secrets);

    // A daemon renewal.
    s.write_config(&keep_warm(&[REGISTRY]));
    std::fs::remove_dir_all(s.cache_dir()).unwrap();
    let calls = s.fake.token_calls();
    let daemon = Daemon::start(&s);
    s.fake
        .wait_for_token_calls(calls + 1, Duration::from_secs(20));
    let (_, log) = daemon.stop();
    assert!(s.fake.token_calls() > calls, "the daemon did not renew");
    assert_clean("daemon", &log, &secrets);
}

/// Without credentials, stderr holds exactly our one line: no SDK warning above it.
#[test]
fn the_default_stderr_is_our_one_line() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(line.contains("no AWS credentials"), "{line}");
    assert_eq!(
        stderr(&out),
        format!("docker-credential-ecr-login: {line}"),
        "stderr is not exactly our line"
    );
}
