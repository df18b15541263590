//! Issue 12: a cache hit must never hand one AWS identity's token to another. Each test
//! runs the real binaries against the fake endpoint, which records the access key that
//! signed every request, and counts the requests: a hit makes none.

use crate::support::daemon::Daemon;
use crate::support::harness::*;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

fn write(s: &Sandbox, name: &str, text: &str) -> String {
    let path = s.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn keys_file(s: &Sandbox, name: &str, profile: &str, key: &str) -> String {
    write(
        s,
        name,
        &format!(
            "[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = secret-of-{key}\n"
        ),
    )
}

/// `status --json`'s entries, as (registry, signer).
fn status_signers(s: &Sandbox) -> Vec<(String, String)> {
    let out = s.run(&["status", "--json"], b"");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["registry"].as_str().unwrap().to_string(),
                e["signer"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ok_reply(s: &Sandbox) -> String {
    let out = s.get(REGISTRY);
    assert_ok(&out);
    stdout(&out)
}

/// Two jobs on one Unix account, each with its own credentials file and the same profile
/// name: each gets a token signed by its own key, and a repeat is a hit.
#[test]
fn the_same_profile_in_two_credentials_files() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let job_a = keys_file(&s, "job-a", "default", "AKIAJOBAJOBAJOBAJOBA");
    let job_b = keys_file(&s, "job-b", "default", "AKIAJOBBJOBBJOBBJOBB");
    s.fake.set_password("pw-a");
    s.set("AWS_SHARED_CREDENTIALS_FILE", &job_a);
    let a = ok_reply(&s);
    s.fake.set_password("pw-b");
    s.set("AWS_SHARED_CREDENTIALS_FILE", &job_b);
    let b = ok_reply(&s);
    assert_eq!(a, reply(REGISTRY, "pw-a"));
    assert_eq!(b, reply(REGISTRY, "pw-b"));
    assert_eq!(
        s.token_signers(),
        ["AKIAJOBAJOBAJOBAJOBA", "AKIAJOBBJOBBJOBBJOBB"]
    );
    for (file, want) in [(&job_a, &a), (&job_b, &b)] {
        s.set("AWS_SHARED_CREDENTIALS_FILE", file);
        assert_eq!(&ok_reply(&s), want);
    }
    assert_eq!(s.fake.token_calls(), 2, "repeats are hits");
}

#[test]
fn two_config_files_with_different_credential_processes() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let mut configs = Vec::new();
    for (name, key) in [("a", "AKIAPROCESSAPROCESSA"), ("b", "AKIAPROCESSBPROCESSB")] {
        let script = write(
            &s,
            &format!("creds-{name}.sh"),
            &format!(
                "#!/bin/sh\necho '{{\"Version\":1,\"AccessKeyId\":\"{key}\",\"SecretAccessKey\":\"s-{name}\"}}'\n"
            ),
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        configs.push(write(
            &s,
            &format!("config-{name}"),
            &format!("[profile ci]\ncredential_process = {script}\n"),
        ));
    }
    s.set("AWS_PROFILE", "ci");
    for config in &configs {
        s.set("AWS_CONFIG_FILE", config);
        ok_reply(&s);
        ok_reply(&s);
    }
    assert_eq!(
        s.token_signers(),
        ["AKIAPROCESSAPROCESSA", "AKIAPROCESSBPROCESSB"]
    );
}

/// With web identity variables set, a profile with keys still signs (the SDK tries the
/// profile first): the entry's signer says so, for each of two profiles.
#[test]
fn web_identity_variables_and_a_profile_with_keys() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let creds = write(
        &s,
        "credentials",
        "[one]\naws_access_key_id = AKIAPROFILEONEONEONE\naws_secret_access_key = x\n\n[two]\naws_access_key_id = AKIAPROFILETWOTWOTWO\naws_secret_access_key = y\n",
    );
    let token = write(&s, "web-token", "eyJ.not-used.sig");
    s.set("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web")
        .set("AWS_WEB_IDENTITY_TOKEN_FILE", &token);
    for profile in ["one", "two"] {
        s.set("AWS_PROFILE", profile);
        ok_reply(&s);
    }
    assert_eq!(
        s.token_signers(),
        ["AKIAPROFILEONEONEONE", "AKIAPROFILETWOTWOTWO"]
    );
    assert_eq!(s.fake.sts_calls(), 0, "web identity never signed");
    let mut signers: Vec<String> = status_signers(&s).into_iter().map(|(_, s)| s).collect();
    signers.sort();
    assert_eq!(
        signers
            .iter()
            .map(|l| l.split(" endpoint:").next().unwrap())
            .collect::<Vec<_>>(),
        ["profile:one (static keys)", "profile:two (static keys)"]
    );
}

/// ECS tasks and EKS Pod Identity: the credentials URI and its token name the identity.
#[test]
fn container_credentials_at_two_endpoints() {
    let mut s = Sandbox::new();
    s.without_credentials();
    s.fake
        .add_container_credentials("/task-a", "ASIATASKATASKATASKA", Some("token-a"));
    s.fake
        .add_container_credentials("/task-b", "ASIATASKBTASKBTASKB", Some("token-b"));
    let url = s.fake.url();
    for task in ["a", "b"] {
        s.set(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            &format!("{url}/task-{task}"),
        )
        .set(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            &format!("token-{task}"),
        );
        ok_reply(&s);
        ok_reply(&s);
    }
    assert_eq!(
        s.token_signers(),
        ["ASIATASKATASKATASKA", "ASIATASKBTASKBTASKB"]
    );
    // Same URI, another task's token: another identity, and the endpoint refuses it.
    s.set(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        &format!("{url}/task-a"),
    )
    .set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "token-b");
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(s.fake.token_calls(), 2);
}

/// An SSO profile hits the cache while its session lasts; after `aws sso logout` (which
/// deletes the SSO token cache file) the cached ECR token is no longer served.
#[test]
fn sso_logout_stops_the_cached_token() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let token_file = s.write_sso_profile(
        r#"{"accessToken":"sso-bearer","expiresAt":"2099-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}"#,
    );
    s.fake
        .set_sso_role_key("123456789012", "Dev", "ASIASSODEVSSODEVSSO1");
    let url = s.fake.url();
    s.set("AWS_PROFILE", "dev")
        .set("AWS_ENDPOINT_URL_SSO", &url);
    s.fake.set_password("pw-sso");
    assert_eq!(ok_reply(&s), reply(REGISTRY, "pw-sso"));
    assert_eq!(ok_reply(&s), reply(REGISTRY, "pw-sso"));
    assert_eq!(
        s.token_signers(),
        ["ASIASSODEVSSODEVSSO1"],
        "the second get is a hit"
    );
    assert!(status_signers(&s)[0].1.starts_with("profile:dev (sso)"));

    std::fs::remove_file(&token_file).unwrap();
    let out = s.get(REGISTRY);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let line = stdout(&out);
    assert!(
        !line.contains("pw-sso"),
        "served the token after logout: {line}"
    );
    // The command last, before the not-found text docker-py reads (issue 28).
    assert!(
        line.trim_end().ends_with(
            "run: aws sso login --profile dev (credentials not found in native keychain)"
        ),
        "{line}"
    );
    assert_eq!(s.fake.token_calls(), 1);
}

#[test]
fn a_rotated_key_is_a_new_identity() {
    let mut s = Sandbox::new();
    s.without_credentials();
    s.write_aws_profiles(&[("default", "AKIAOLDKEYOLDKEYOLD1")]);
    ok_reply(&s);
    ok_reply(&s);
    s.write_aws_profiles(&[("default", "AKIANEWKEYNEWKEYNEW1")]);
    ok_reply(&s);
    ok_reply(&s);
    assert_eq!(
        s.token_signers(),
        ["AKIAOLDKEYOLDKEYOLD1", "AKIANEWKEYNEWKEYNEW1"]
    );
}

/// No regression: the same environment twice is one fetch and one hit.
#[test]
fn the_same_environment_twice_is_a_hit() {
    for profiles in [false, true] {
        let mut s = Sandbox::new();
        if profiles {
            s.without_credentials();
            s.write_aws_profiles(&[("default", "AKIADEFAULTDEFAULTD1")]);
        }
        ok_reply(&s);
        let before = s.fake.requests().len();
        ok_reply(&s);
        assert_eq!(
            s.fake.requests().len(),
            before,
            "the second get made a request"
        );
    }
}

fn service_account_token(uid: &str) -> String {
    use base64::Engine;
    let claims = serde_json::json!({
        "sub": "system:serviceaccount:apps:puller",
        "kubernetes.io": {"namespace": "apps", "serviceaccount": {"name": "puller", "uid": uid}},
    });
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln")
}

fn kubelet_request(token: &str) -> String {
    serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{REGISTRY}/app:1"),
        "serviceAccountToken": token,
        "serviceAccountAnnotations": {"eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/puller"},
    })
    .to_string()
}

/// A re-created service account (same name, new UID) never inherits the old one's token,
/// and a `docker login` kept on the node is never handed to a pod.
#[test]
fn service_accounts_are_told_apart_by_uid_and_never_get_logins() {
    let s = Sandbox::new();
    let login =
        format!("{{\"ServerURL\":\"{REGISTRY}\",\"Username\":\"AWS\",\"Secret\":\"pw-login\"}}");
    assert_ok(&s.run(&["store"], login.as_bytes()));
    s.fake.set_password("pw-pod");
    let password = |uid: &str| {
        let out = s.run(
            &["kubelet"],
            kubelet_request(&service_account_token(uid)).as_bytes(),
        );
        assert_ok(&out);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["auth"][REGISTRY]["password"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(password("uid-1"), "pw-pod", "not the node's docker login");
    assert_eq!(password("uid-1"), "pw-pod");
    assert_eq!(s.fake.token_calls(), 1, "the same account hits");
    assert_eq!(password("uid-2"), "pw-pod");
    assert_eq!(
        s.fake.token_calls(),
        2,
        "a re-created account fetches its own"
    );
    assert_eq!(s.fake.sts_calls(), 2);
    // The node's own `get` still gets the login.
    assert_eq!(stdout(&s.get(REGISTRY)), reply(REGISTRY, "pw-login"));
}

/// The daemon renews an entry made under a job's credentials file as that file's
/// identity, never as its own default identity.
#[test]
fn the_daemon_renews_as_the_identity_that_fetched() {
    let mut s = Sandbox::new();
    s.without_credentials();
    s.write_aws_profiles(&[("default", "AKIADAEMONDEFAULTKEY")]);
    let job = keys_file(&s, "job", "default", "AKIAJOBKEYJOBKEYJOBK");
    s.set("AWS_SHARED_CREDENTIALS_FILE", &job);
    ok_reply(&s);
    s.unset("AWS_SHARED_CREDENTIALS_FILE");
    // Fetched long ago and expired: due at the daemon's first scan.
    s.expire_entries();
    let daemon = Daemon::start(&s);
    s.fake.wait_for_token_calls(2, Duration::from_secs(20));
    daemon.stop();
    let signers = s.token_signers();
    assert_eq!(
        signers.len(),
        2,
        "the daemon did not renew once: {signers:?}"
    );
    assert!(
        signers.iter().all(|k| k == "AKIAJOBKEYJOBKEYJOBK"),
        "renewed as another identity: {signers:?}"
    );
}

/// Issue 22: `status --json` and entry files showed unsalted SHA-256 prefixes of secret
/// variables (`AWS_SECRET_ACCESS_KEY=#2d711642…` is `sha256("x")`): low-entropy secrets
/// could be guessed back. They are keyed now (HMAC under a 0600 key beside the cache), so
/// another cache directory fingerprints the same secret differently.
#[test]
fn fingerprints_of_secrets_are_keyed() {
    let fingerprint_of = |s: &Sandbox| {
        let status = s.run(&["status", "--json"], b"");
        let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        let identity = v["entries"][0]["identity"].as_str().unwrap().to_string();
        let entry = std::fs::read_to_string(&s.entries()[0]).unwrap();
        for text in [&identity, &entry, &stdout(&status)] {
            assert!(
                !text.contains("2d711642"),
                "an unkeyed sha256 prefix: {text}"
            );
        }
        let at = identity
            .find("AWS_SECRET_ACCESS_KEY=#")
            .expect("fingerprinted")
            + 23;
        identity[at..at + 16].to_string()
    };
    let mut one = Sandbox::new();
    one.set("AWS_SECRET_ACCESS_KEY", "x");
    assert_ok(&one.get(REGISTRY));
    let key_file = one.cache_dir().join(".fingerprint-key");
    assert_eq!(mode_of(&key_file) & 0o777, 0o600);
    let first = fingerprint_of(&one);
    // Stable within a cache: the next get hits.
    assert_ok(&one.get(REGISTRY));
    assert_eq!(one.fake.token_calls(), 1);
    let mut two = Sandbox::new();
    two.set("AWS_SECRET_ACCESS_KEY", "x");
    assert_ok(&two.get(REGISTRY));
    assert_ne!(
        fingerprint_of(&two),
        first,
        "the same fingerprint under another key"
    );
}

/// Issue 27 (L7): `~/.aws/credentials` holds secret keys, and its content was fingerprinted
/// with a bare SHA-256 prefix, shown in `status --json`: a templated or low-entropy file
/// could be confirmed offline. Profile files are fingerprinted under the cache's key too.
#[test]
fn profile_files_are_fingerprinted_under_the_key() {
    use sha2::{Digest, Sha256};
    let mut s = Sandbox::new();
    s.without_credentials();
    s.write_aws_profiles(&[("default", "AKIAFILEKEYFILEKEY00")]);
    s.write_aws_config("[default]\nregion = us-east-1\n");
    assert_ok(&s.get(REGISTRY));
    let status = s.run(&["status", "--json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let identity = v["entries"][0]["identity"].as_str().unwrap().to_string();
    let entry = std::fs::read_to_string(&s.entries()[0]).unwrap();
    for file in ["credentials", "config"] {
        let content = std::fs::read(s.home().join(".aws").join(file)).unwrap();
        let bare: String = Sha256::digest(&content)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let shown = format!("{}@", s.home().join(".aws").join(file).display());
        assert_contains(&identity, &shown);
        for text in [&identity, &entry, &stdout(&status)] {
            assert!(
                !text.contains(&bare),
                "{file}: a bare sha256 prefix: {text}"
            );
        }
    }
    // Still a hit: the fingerprint is stable under the cache's key.
    assert_ok(&s.get(REGISTRY));
    assert_eq!(s.fake.token_calls(), 1);
}

/// Issue 27 (L7): without `/dev/urandom` (a chroot, a sandbox with `/dev/null` in its
/// place) the fingerprint key silently became the constant `0x5a…`, and every secret's
/// fingerprint an HMAC under a public key. The key comes from `getrandom(2)` now.
#[test]
#[ignore = "needs root for a mount namespace: tests/run-all.sh runs it"]
fn no_dev_urandom_still_gives_a_random_key() {
    // python3 -c 'import hmac,hashlib;print(hmac.new(b"\x5a"*32,b"x",hashlib.sha256).hexdigest()[:16])'
    const UNDER_THE_CONSTANT: &str = "4b585de8791589cf";
    let mut s = Sandbox::new();
    s.set("AWS_SECRET_ACCESS_KEY", "x");
    s.fake.set_password("pw");
    let without_urandom = |args: &[&str]| {
        let script = r#"mount --bind /dev/null /dev/urandom && [ "$(head -c 8 /dev/urandom | wc -c)" = 0 ] && exec "$@""#;
        let front = front();
        let mut argv = vec!["-m", "sh", "-c", script, "sh", front.to_str().unwrap()];
        argv.extend_from_slice(args);
        let cmd = s.command_of(std::path::Path::new("unshare"), &argv);
        spawn_with_input(cmd, REGISTRY.as_bytes())
            .wait_with_output()
            .unwrap()
    };
    let out = without_urandom(&["get"]);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw"), "{}", stderr(&out));
    let key = std::fs::read(s.cache_dir().join(".fingerprint-key")).unwrap();
    assert_eq!(key.len(), 32);
    assert_ne!(key, [0x5a; 32]);
    let status = without_urandom(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let identity = v["entries"][0]["identity"].as_str().unwrap();
    assert_contains(identity, "AWS_SECRET_ACCESS_KEY=#");
    assert!(!identity.contains(UNDER_THE_CONSTANT), "{identity}");
    assert_ok(&without_urandom(&["get"]));
    assert_eq!(s.fake.token_calls(), 1);
}
