//! Issue 18, through the real binaries: what real AWS users have on a corporate laptop and
//! with today's AWS CLI. `aws login` profiles with the SDK's own cache file; private CAs
//! in front of the fake ECR; CONNECT proxies with and without Basic auth; MFA roles with a
//! fake STS that checks the code.

use crate::support::harness::*;

/// The `aws login` profile and its cache file, as the AWS CLI writes them
/// (`~/.aws/login/cache/<sha256 of the login_session ARN>.json`, the fields aws-config's
/// `login/cache.rs` parses). Returns the cache file.
fn write_login_profile(s: &Sandbox, access_key: &str) -> std::path::PathBuf {
    s.write_aws_config(LOGIN_PROFILE);
    let aws = s.home().join(".aws");
    std::fs::create_dir_all(aws.join("login/cache")).unwrap();
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
    assert_ok(&out);
    assert_eq!(s.token_signers(), ["ASIALOGINKEYLOGINKEY"]);
    assert_ok(&s.get(REGISTRY));
    assert_eq!(s.fake.token_calls(), 1, "the second get hits");
    let status = s.run(&["status"], b"");
    assert_contains(&stdout(&status), "console login");
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

use crate::support::proxy::{ConnectProxy, ProxyOptions};
use crate::support::pty::{self, PtyStdio};
use crate::support::tls_front::{Ca, LOCAL_NAMES, TlsFront};
use std::time::Duration;

/// The fake ECR behind TLS with a certificate from a private CA made for this test.
fn private_ca_front(s: &Sandbox, hosts: &[&str]) -> (Ca, TlsFront, std::path::PathBuf) {
    let ca = Ca::new("Corp Inspection CA");
    let (cert, key) = ca.server_cert(hosts);
    let front = TlsFront::start(s.fake.port(), &cert, &key);
    let bundle = s.dir.path().join("corp-ca.pem");
    // A bundle holds many certificates: another CA first, ours second.
    let other = Ca::new("Another Root");
    std::fs::write(&bundle, format!("{}{}", other.pem(), ca.pem())).unwrap();
    (ca, front, bundle)
}

/// `AWS_CA_BUNDLE` alone makes the private CA trusted, as the AWS CLI does; the system
/// roots (here: `SSL_CERT_FILE`) keep working beside it.
#[test]
fn aws_ca_bundle_trusts_a_private_ca() {
    let mut s = Sandbox::new();
    let (ca, front, bundle) = private_ca_front(&s, LOCAL_NAMES);
    s.set("AWS_ENDPOINT_URL_ECR", &front.url());
    s.set("AWS_CA_BUNDLE", bundle.to_str().unwrap());
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_eq!(front.completed_handshakes(), 1);
    // SSL_CERT_FILE alone still works (the SDK's platform roots read it).
    s.unset("AWS_CA_BUNDLE");
    s.expire_entries();
    let roots = s.dir.path().join("roots.pem");
    ca.write_pem(&roots);
    s.set("SSL_CERT_FILE", roots.to_str().unwrap());
    let out = s.get(REGISTRY);
    assert_ok(&out);
}

/// `ca_bundle` in the profile in effect, alone, does the same.
#[test]
fn a_profiles_ca_bundle_trusts_a_private_ca() {
    let mut s = Sandbox::new();
    let (_ca, front, bundle) = private_ca_front(&s, LOCAL_NAMES);
    s.write_aws_config(&format!(
        "[profile corp]\nregion = us-east-1\nca_bundle = {}\n",
        bundle.display()
    ));
    s.set("AWS_PROFILE", "corp");
    s.set("AWS_ENDPOINT_URL_ECR", &front.url());
    let out = s.get(REGISTRY);
    assert_ok(&out);
}

/// An untrusted, expired or misnamed certificate: one handshake, not four, and one line
/// that names the host, the reason, and AWS_CA_BUNDLE.
#[test]
fn an_untrusted_certificate_fails_at_once_saying_what_to_do() {
    let ca = Ca::new("Inspection CA");
    let cases = [
        (
            ca.server_cert(LOCAL_NAMES),
            true,
            "signed by an unknown authority",
        ),
        (ca.expired_server_cert(LOCAL_NAMES), false, "has expired"),
        (ca.wrong_name_cert(), false, "for another host name"),
    ];
    for ((cert, key), untrusted, reason) in cases {
        let mut s = Sandbox::new();
        let front = TlsFront::start(s.fake.port(), &cert, &key);
        s.set("AWS_ENDPOINT_URL_ECR", &front.url());
        if !untrusted {
            let bundle = s.dir.path().join("ca.pem");
            ca.write_pem(&bundle);
            s.set("AWS_CA_BUNDLE", bundle.to_str().unwrap());
        }
        let out = s.get(REGISTRY);
        assert_eq!(out.status.code(), Some(1));
        let line = stdout(&out);
        assert_eq!(line.lines().count(), 1, "{line}");
        for needle in [
            &format!("TLS to localhost:{} failed", front.port()),
            reason,
            "set AWS_CA_BUNDLE to your organisation's CA bundle",
        ] {
            assert!(line.contains(needle), "{reason}: {line}");
        }
        assert_eq!(front.handshakes(), 1, "{reason}: retried");
        assert_eq!(s.fake.token_calls(), 0);
    }
}

/// A bundle that cannot be used is its own line, naming the file and where it came from;
/// nothing falls back silently to the system roots.
#[test]
fn a_bad_bundle_gets_its_own_line() {
    let mut s = Sandbox::new();
    let junk = s.dir.path().join("junk.pem");
    std::fs::write(&junk, "this is not PEM\n").unwrap();
    s.set("AWS_CA_BUNDLE", junk.to_str().unwrap());
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(
        line.contains(&format!(
            "the CA bundle {} (from AWS_CA_BUNDLE) holds no PEM certificate",
            junk.display()
        )),
        "{line}"
    );
    assert_eq!(s.fake.token_calls(), 0, "fell back to the system roots");
}

/// A real CONNECT proxy in front of a real-looking AWS host name (tunnels go to the TLS
/// front): through it, with Basic credentials, and a 407 that says how to give them
/// without echoing the password; `NO_PROXY` goes around it.
#[test]
fn https_proxies_with_and_without_auth_and_no_proxy() {
    const API: &str = "api.ecr.us-east-1.amazonaws.com";
    let mut s = Sandbox::new();
    let (_ca, front, bundle) = private_ca_front(&s, &[API, "localhost", "127.0.0.1"]);
    s.set("AWS_CA_BUNDLE", bundle.to_str().unwrap());
    s.unset("AWS_ENDPOINT_URL_ECR");
    // Open proxy.
    let open = ConnectProxy::start(ProxyOptions {
        basic_auth: None,
        redirect_to: Some(front.port()),
    });
    s.set("HTTPS_PROXY", &open.url());
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_eq!(open.requests()[0].method, "CONNECT");
    assert_eq!(open.requests()[0].target, format!("{API}:443"));
    // With Basic auth: right credentials go through, wrong ones get the 407 line.
    let guarded = ConnectProxy::start(ProxyOptions {
        basic_auth: Some(("alice".into(), "pr0xy-PASSWORD".into())),
        redirect_to: Some(front.port()),
    });
    s.expire_entries();
    s.set(
        "HTTPS_PROXY",
        &guarded.url_with_auth("alice", "pr0xy-PASSWORD"),
    );
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert!(guarded.requests().iter().all(|r| r.authorized));
    s.expire_entries();
    s.set(
        "HTTPS_PROXY",
        &guarded.url_with_auth("alice", "wr0ng-PASSWORD"),
    );
    s.set("ECR_LOGIN_LOG", "trace");
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(line.contains("requires authentication (407"), "{line}");
    assert!(
        line.contains("HTTPS_PROXY=http://USER:PASSWORD@host:port"),
        "{line}"
    );
    assert!(!line.contains("wr0ng-PASSWORD"), "{line}");
    assert_no_secret(&out, "wr0ng-PASSWORD");
    assert_eq!(guarded.requests().last().unwrap().status, 407);
    // NO_PROXY: the endpoint is reached directly, the proxy sees nothing.
    s.unset("ECR_LOGIN_LOG");
    s.set("AWS_ENDPOINT_URL_ECR", &front.url());
    s.set("HTTPS_PROXY", &open.url());
    let before = open.requests().len();
    s.set("NO_PROXY", "localhost,127.0.0.1");
    s.expire_entries();
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_eq!(open.requests().len(), before, "went through the proxy");
    s.unset("NO_PROXY");
    s.expire_entries();
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_eq!(
        open.requests().len(),
        before + 1,
        "without NO_PROXY it goes through"
    );
}

/// Issue 27 (I5): a proxy variable the SDK cannot parse (a space in the password, a
/// trailing newline, a missing `]`) was ignored without a word, and the request went
/// direct. `get` says so in one line, as `doctor` does, without the password; a usable
/// one says nothing.
#[test]
fn an_unparsable_proxy_variable_is_one_warning_without_its_password() {
    for (var, value, warned) in [
        (
            "HTTPS_PROXY",
            "http://corp:pass WORDsecret@127.0.0.1:9",
            true,
        ),
        ("HTTPS_PROXY", "http://corp:WORDsecret@127.0.0.1:9\n", true),
        ("https_proxy", "http://corp:WORDsecret@[::1:3128", true),
        ("ALL_PROXY", "http://corp:WORD secret@127.0.0.1:9", true),
        ("HTTPS_PROXY", "http://corp:WORDsecret@127.0.0.1:9", false),
    ] {
        let mut s = Sandbox::new();
        // The fake endpoint is plain HTTP: the HTTPS proxy is never used, whatever it is.
        s.set(var, value);
        let out = s.get(REGISTRY);
        assert_ok(&out);
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains(var)).collect();
        let want = usize::from(warned);
        assert_eq!(lines.len(), want, "{var}={value:?}:\n{err}");
        if warned {
            assert_contains(lines[0], "is not a proxy URL the SDK can use");
        }
        assert!(!err.contains("WORD"), "{var}={value:?}:\n{err}");
    }
    // doctor reads it with the same parser: a NO_PROXY that matches nothing no longer
    // passes it off as "direct: NO_PROXY matches".
    let mut s = Sandbox::new();
    s.set("HTTP_PROXY", "http://corp:pass WORDsecret@127.0.0.1:9")
        .set("NO_PROXY", "unrelated.example");
    let out = s.run(&["doctor", "--json", "--offline", REGISTRY], b"");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let proxy = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "network.proxy")
        .unwrap();
    assert_eq!(proxy["status"], "warn", "{proxy:#}");
    assert_contains(
        proxy["detail"].as_str().unwrap(),
        "HTTP_PROXY is set but is not a proxy URL the SDK can use",
    );
    assert!(!stdout(&out).contains("WORD") && !stderr(&out).contains("WORD"));
}

/// A name that does not resolve is named.
#[test]
fn a_dns_failure_names_the_host() {
    let mut s = Sandbox::new();
    s.set("AWS_ENDPOINT_URL_ECR", "https://ecr.does-not-exist.invalid");
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(
        line.contains("cannot resolve ecr.does-not-exist.invalid"),
        "{line}"
    );
}

const CODE: &str = "918273";

/// Profile `mfa`: a role with `source_profile = base` and `mfa_serial`; STS insists on the
/// device and the code, and hands the role its own key.
fn mfa_profile(s: &mut Sandbox) {
    s.write_mfa_profile();
    s.fake.require_mfa(MFA_ROLE, MFA_SERIAL, CODE);
    s.fake.set_role_key(MFA_ROLE, "ASIAMFAROLEKEYMFA000");
}

/// Without a session, `get` never prompts and never waits, with no terminal and with one:
/// it fails at once, naming the profile and the command.
#[test]
fn mfa_get_without_a_session_fails_at_once_without_prompting() {
    let mut s = Sandbox::new();
    mfa_profile(&mut s);
    let mut cmd = s.command(&["get"]);
    pty::detach_from_tty(&mut cmd);
    let out = spawn_with_input(cmd, REGISTRY.as_bytes())
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_contains(&stdout(&out), "run: ecr-login login --profile mfa");
    // With a terminal present: still no prompt.
    let out = pty::run_in_pty_with(
        s.command(&["get"]),
        &[],
        Duration::from_secs(20),
        PtyStdio::helper(REGISTRY.as_bytes()),
    );
    assert!(!out.timed_out, "it waited for a code");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.contains("run: ecr-login login --profile mfa"),
        "{}",
        out.stdout
    );
    assert!(
        !out.output.contains("MFA code for"),
        "prompted: {}",
        out.output
    );
    assert_eq!(s.fake.sts_calls(), 0);
}

/// `ecr-login login` asks for the code on the terminal (never on stdout), assumes the
/// role with the device and the code, keeps the session, fetches the token; `get` then
/// hits with no prompt, and the daemon's kind of renewal signs with the session.
#[test]
fn mfa_login_on_a_terminal_then_hits_without_a_prompt() {
    let mut s = Sandbox::new();
    mfa_profile(&mut s);
    s.set("ECR_LOGIN_LOG", "trace");
    let out = pty::run_in_pty_with(
        s.command(&["login", "--profile", "mfa", REGISTRY]),
        &[("MFA code for", CODE)],
        Duration::from_secs(30),
        PtyStdio::keep_stdout_piped(),
    );
    assert!(out.status.success(), "{}\n{}", out.output, out.stdout);
    assert!(
        out.output
            .contains(&format!("MFA code for {MFA_SERIAL} (profile mfa): ")),
        "{}",
        out.output
    );
    assert!(
        !out.stdout.contains("MFA code for"),
        "the prompt went to stdout"
    );
    assert!(
        out.stdout.contains("MFA session for profile mfa"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(CODE));
    let form = s.fake.last_assume_role_form().unwrap();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(field("SerialNumber").as_deref(), Some(MFA_SERIAL));
    assert_eq!(field("TokenCode").as_deref(), Some(CODE));
    assert_eq!(s.token_signers(), ["ASIAMFAROLEKEYMFA000"]);
    // The session file: 0600, in the cache directory.
    let sessions: Vec<_> = std::fs::read_dir(s.cache_dir().join("sessions"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(sessions.len(), 1);
    assert_eq!(mode_of(&sessions[0].path()) & 0o777, 0o600);
    // A hit, no prompt, no STS.
    let sts = s.fake.sts_calls();
    let hit = s.get(REGISTRY);
    assert_ok(&hit);
    assert_eq!(s.fake.sts_calls(), sts);
    assert_eq!(s.fake.token_calls(), 1);
    // A renewal (refresh, as the daemon renews) signs with the session.
    let refresh = s.run(&["refresh", REGISTRY], b"");
    assert_ok(&refresh);
    assert_contains(&stdout(&refresh), "mfa-session-until:");
    assert_eq!(
        s.token_signers(),
        ["ASIAMFAROLEKEYMFA000", "ASIAMFAROLEKEYMFA000"]
    );
    for o in [&hit, &refresh] {
        assert_no_secret(o, CODE);
        assert_no_secret(o, "secret-of-AKIABASEKEYBASEKEY00");
    }
    // A wrong code is refused with what to do.
    let out = pty::run_in_pty_with(
        s.command(&["login", "--profile", "mfa"]),
        &[("MFA code for", "000000")],
        Duration::from_secs(30),
        PtyStdio::keep_stdout_piped(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.output.contains("was not accepted"), "{}", out.output);
}

/// Issue 27 (I2): the code was echoed on the terminal (and kept by terminal recorders); the
/// AWS CLI does not echo it. Echo is off while it is typed, and back on after, whatever the
/// outcome: accepted, refused by STS, or three tries that are not a code.
#[test]
fn the_mfa_code_is_not_echoed_and_echo_comes_back() {
    let mut s = Sandbox::new();
    mfa_profile(&mut s);
    let prompt = "MFA code for";
    for (answers, ok, typed) in [
        (&[(prompt, CODE)][..], true, CODE),
        (&[(prompt, "000000")], false, "000000"),
        (
            &[(prompt, "12x456"), (prompt, "12x456"), (prompt, "12x456")],
            false,
            "12x456",
        ),
    ] {
        let out = pty::run_in_pty_with(
            s.command(&["login", "--profile", "mfa", REGISTRY]),
            answers,
            Duration::from_secs(30),
            PtyStdio::keep_stdout_piped(),
        );
        assert!(!out.timed_out, "{}", out.output);
        assert_eq!(out.answered, answers.len(), "{}", out.output);
        assert_eq!(out.status.success(), ok, "{}\n{}", out.output, out.stdout);
        assert!(!out.output.contains(typed), "echoed: {}", out.output);
        assert!(out.echo_at_exit, "{typed}: echo left off");
    }
}

/// A session the AWS CLI cached after its own prompt (`aws --profile mfa …`), written by
/// botocore itself, is used as it is; an expired one is refused.
#[test]
#[ignore = "needs python3 with botocore (PyPI): tests/run-all.sh installs it and runs this"]
fn mfa_reuses_the_aws_clis_session_and_refuses_an_expired_one() {
    use crate::support::botocore_cache;
    let mut s = Sandbox::new();
    mfa_profile(&mut s);
    let cli = s.home().join(".aws/cli/cache");
    let session = botocore_cache::CliSession {
        role_arn: MFA_ROLE,
        serial: MFA_SERIAL,
        key_id: "ASIACLISESSIONKEY000",
        secret: "cli-secret-CLISECRET",
        token: "cli-token-CLITOKEN",
        duration_seconds: None,
    };
    let key = session
        .write(&cli, Duration::from_secs(3600))
        .expect("python3 with botocore (pip install botocore)");
    assert_eq!(key.len(), 40);
    s.set("ECR_LOGIN_LOG", "trace");
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_eq!(s.token_signers(), ["ASIACLISESSIONKEY000"]);
    assert_eq!(s.fake.sts_calls(), 0, "assumed the role again");
    assert_no_secret(&out, "CLISECRET");
    assert_no_secret(&out, "CLITOKEN");
    // Expired: refused, with the command.
    session
        .write_expiring_at(
            &cli,
            time::OffsetDateTime::now_utc() - Duration::from_secs(60),
        )
        .unwrap();
    s.expire_entries();
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    assert_contains(&stdout(&out), "run: ecr-login login --profile mfa");
}
