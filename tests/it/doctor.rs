//! Issue 20: `doctor` through the real binaries. Each broken set-up people report ("no basic
//! auth credentials", a pull that worked yesterday) is reproduced and doctor's failing line
//! and its fix are asserted: another helper first on PATH, Docker Desktop's credsStore, no
//! credentials, an expired SSO session, an MFA role without a session, a registry with no
//! region to ask, a clock 20 minutes off, an unusable cache, no daemon, a proxy that wants a
//! password, a certificate or a name the token request stopped at (issue 30); a healthy
//! set-up passes every check; a black hole costs seconds; --offline makes no call; nothing
//! printed is a secret. The human report of one healthy and one broken run is kept in
//! `golden/` (`UPDATE_GOLDEN=1` rewrites it).

#[cfg(target_os = "linux")]
use crate::support::daemon::Daemon;
use crate::support::harness::*;
use crate::support::proxy::{ConnectProxy, ProxyOptions};
use crate::support::tls_front::{Ca, LOCAL_NAMES, TlsFront};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

const PUBLIC: &str = "public.ecr.aws";
const ALIAS: &str = "registry.example.internal";
const PASSWORD: &str = "pw-doctor-SECRETTOKEN";

/// A sandbox whose PATH is its own `bin/` (stubs) and the binaries under test, nothing else:
/// what doctor finds there does not depend on the machine.
fn sandbox() -> Sandbox {
    let mut s = Sandbox::new();
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let here = front().parent().unwrap().to_path_buf();
    let path = std::env::join_paths([bin, here]).unwrap();
    s.set("PATH", path.to_str().unwrap());
    s.fake.set_password(PASSWORD);
    s
}

/// An executable shell script `dir/name` in the sandbox.
fn stub(s: &Sandbox, dir: &str, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = s.dir.path().join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn docker_config(s: &Sandbox, json: &str) {
    let dir = s.home().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), json).unwrap();
}

fn helpers_for(hosts: &[&str]) -> String {
    let entries: Vec<String> = hosts
        .iter()
        .map(|h| format!("\"{h}\": \"ecr-login\""))
        .collect();
    format!("{{\"credHelpers\": {{{}}}}}\n", entries.join(", "))
}

/// Asserts that a check's `key` (`detail`, `fix`) holds `part`.
#[track_caller]
fn assert_has(c: &Value, key: &str, part: &str) {
    let holds = c[key].as_str().is_some_and(|t| t.contains(part));
    assert!(holds, "{key} lacks {part:?}: {c:#}");
}

/// A doctor run: its output and, with `--json`, its checks.
struct Report {
    out: Output,
    checks: Vec<Value>,
}

impl Report {
    fn check(&self, name: &str, registry: Option<&str>) -> &Value {
        self.checks
            .iter()
            .find(|c| c["name"] == name && registry.is_none_or(|r| c["registry"] == r))
            .unwrap_or_else(|| panic!("no {name} ({registry:?}) check in {:#?}", self.checks))
    }

    /// Asserts that the token check reached ECR for [`REGISTRY`] and passed.
    fn expect_token_answered(&self) {
        self.expect(
            "network.token",
            Some(REGISTRY),
            "pass",
            "GetAuthorizationToken answered",
            None,
        );
    }

    /// Asserts a check's status, that its detail holds `detail` and its fix holds `fix`.
    fn expect(
        &self,
        name: &str,
        registry: Option<&str>,
        status: &str,
        detail: &str,
        fix: Option<&str>,
    ) {
        let c = self.check(name, registry);
        assert_eq!(c["status"], status, "{c:#}");
        assert_has(c, "detail", detail);
        match fix {
            Some(f) => assert!(c["fix"].as_str().is_some_and(|x| x.contains(f)), "{c:#}"),
            None => assert!(c.get("fix").is_none(), "{c:#}"),
        }
    }

    #[cfg(target_os = "linux")]
    fn not_passing(&self) -> Vec<&Value> {
        self.checks
            .iter()
            .filter(|c| c["status"] != "pass")
            .collect()
    }
}

fn doctor(s: &Sandbox, args: &[&str]) -> Report {
    let mut argv = vec!["doctor", "--json"];
    argv.extend_from_slice(args);
    let out = s.run(&argv, b"");
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    let failed = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["status"] == "fail");
    assert_eq!(
        out.status.code(),
        Some(i32::from(failed)),
        "{}",
        stdout(&out)
    );
    Report {
        checks: doc["checks"].as_array().unwrap().clone(),
        out,
    }
}

/// A plain HTTP relay in front of the fake ECR that adds a `Date` header `offset` seconds
/// from now to every answer (the fake sends none, and cannot be told to). Returns its port.
fn date_front(upstream: u16, offset: i64) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || relay(conn, upstream, offset));
        }
    });
    port
}

fn relay(client: TcpStream, upstream: u16, offset: i64) -> Option<()> {
    let mut from_client = BufReader::new(client.try_clone().ok()?);
    let mut to_client = client;
    loop {
        let request = read_message(&mut from_client)?;
        let mut up = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
        up.write_all(&request).ok()?;
        let response = read_message(&mut BufReader::new(up))?;
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
        let format = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let date = format!("Date: {}\r\n", at.format(&format).unwrap());
        let line_end = response.windows(2).position(|w| w == b"\r\n")? + 2;
        let mut answer = response[..line_end].to_vec();
        answer.extend_from_slice(date.as_bytes());
        answer.extend_from_slice(&response[line_end..]);
        to_client.write_all(&answer).ok()?;
    }
}

/// One HTTP message: the head and a `Content-Length` body.
fn read_message(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0;
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
        if let Some(v) = text.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        message.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    message.extend_from_slice(&body);
    Some(message)
}

/// The fake behind TLS (a private CA, trusted through AWS_CA_BUNDLE) and a Date header.
fn tls_endpoint(s: &mut Sandbox) -> TlsFront {
    let ca = Ca::new("Doctor Test CA");
    let (cert, key) = ca.server_cert(LOCAL_NAMES);
    let front = TlsFront::start(date_front(s.fake.port(), 0), &cert, &key);
    let bundle = s.dir.path().join("ca.pem");
    ca.write_pem(&bundle);
    s.set("AWS_ENDPOINT_URL_ECR", &front.url());
    s.set("AWS_CA_BUNDLE", bundle.to_str().unwrap());
    front
}

/// The systemd user unit, installed and enabled as `configure --service` leaves it.
#[cfg(target_os = "linux")]
fn enabled_unit(s: &Sandbox) {
    let dir = s.home().join(".config/systemd/user");
    std::fs::create_dir_all(dir.join("default.target.wants")).unwrap();
    let unit = "docker-credential-ecr-login.service";
    std::fs::write(dir.join(unit), "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n").unwrap();
    std::os::unix::fs::symlink(
        format!("../{unit}"),
        dir.join("default.target.wants").join(unit),
    )
    .unwrap();
}

/// Everything in place: credHelpers, podman's view, a config, TLS with a private CA, a
/// daemon that has renewed, its service enabled.
#[cfg(target_os = "linux")]
fn healthy(s: &mut Sandbox) -> (TlsFront, Daemon) {
    let front = tls_endpoint(s);
    docker_config(s, &helpers_for(&[REGISTRY]));
    stub(s, "bin", "skopeo", "exit 0");
    s.write_config(&keep_warm(&[REGISTRY]));
    enabled_unit(s);
    // READY comes after the first scan, and after the state it wrote.
    let daemon = Daemon::options().notify().start(s);
    daemon.wait_ready();
    let state = std::fs::read_to_string(s.cache_dir().join("daemon.json")).unwrap();
    let state: Value = serde_json::from_str(&state).unwrap();
    assert!(
        state["last_renewal_ms"].is_number(),
        "no first renewal: {state}"
    );
    (front, daemon)
}

/// Linux: the service check is systemd's (`systemctl --user is-enabled`).
#[cfg(target_os = "linux")]
#[test]
fn a_healthy_set_up_passes_every_check() {
    let mut s = sandbox();
    let (_front, daemon) = healthy(&mut s);
    let r = doctor(&s, &[]);
    let open = r.not_passing();
    assert!(open.is_empty(), "{open:#?}");
    for name in [
        "binary.path",
        "binary.full",
        "docker.route",
        "containers.route",
        "registry.credentials",
        "network.tls",
        "network.clock",
        "network.token",
        "cache.dir",
        "daemon.running",
        "daemon.service",
    ] {
        r.check(name, None);
    }
    r.expect_token_answered();
    r.expect(
        "network.ca-bundle",
        None,
        "pass",
        "ca.pem (from AWS_CA_BUNDLE): 1 certificate",
        None,
    );
    let human = s.run(&["doctor"], b"");
    assert_eq!(human.status.code(), Some(0), "{}", stdout(&human));
    daemon.stop();
    for o in [&r.out, &human] {
        for secret in [PASSWORD, SECRET_KEY] {
            assert!(
                !stdout(o).contains(secret) && !stderr(o).contains(secret),
                "{secret} shown"
            );
        }
    }
    assert!(
        stdout(&human).lines().all(|l| l.chars().count() <= 100),
        "{}",
        stdout(&human)
    );
    golden("doctor-healthy.txt", &s, &stdout(&human));
}

/// Issue 20's first suspect: AWS's Go helper (or an old copy of ours) ahead on PATH.
#[test]
fn another_helper_first_on_path_fails_naming_its_path() {
    let mut s = sandbox();
    let go = stub(
        &s,
        "shadow",
        "docker-credential-ecr-login",
        "echo 'docker-credential-ecr-login (github.com/awslabs/amazon-ecr-credential-helper/ecr-login) 0.6.0'",
    );
    let path = format!("{}:{}", go.parent().unwrap().display(), s.vars["PATH"]);
    s.set("PATH", &path);
    let r = doctor(&s, &["--offline", REGISTRY]);
    let c = r.check("binary.path", None);
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("#1 {}", go.display())),
        "{c:#}"
    );
    assert_has(c, "detail", "not ecr-login");
    assert_has(c, "fix", "first in PATH");
    // Ours is found second, and not used.
    let ours = r
        .checks
        .iter()
        .filter(|c| c["name"] == "binary.path")
        .nth(1)
        .unwrap();
    assert_has(ours, "detail", "not used: #1 comes first");
    // An older ecr-login shadowing this one fails too.
    std::fs::write(
        &go,
        "#!/bin/sh\necho 'docker-credential-ecr-login (ecr-login) 0.0.1'\n",
    )
    .unwrap();
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "binary.path",
        None,
        "fail",
        "older than this ecr-login",
        Some("first in PATH"),
    );
    r.expect(
        "binary.full",
        None,
        "fail",
        "ecr-login is missing",
        Some("side by side"),
    );
}

/// Docker Desktop: `credsStore: desktop` and no credHelpers entry. podman and skopeo
/// ignore credsStore altogether, so with ecr-login as the store they still need credHelpers.
#[test]
fn desktop_creds_store_without_cred_helpers_fails_with_the_configure_fix() {
    let s = sandbox();
    stub(&s, "bin", "skopeo", "exit 0");
    docker_config(&s, "{\"credsStore\": \"desktop\"}\n");
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "docker.route",
        Some(REGISTRY),
        "fail",
        "credsStore is \"desktop\"",
        Some("docker-credential-ecr-login configure --store"),
    );
    docker_config(
        &s,
        &format!(
            "{{\"credsStore\": \"ecr-login\", \"auths\": {{\"{REGISTRY}\": {{\"auth\": \"QVdTOnN0YWxl\"}}}}}}\n"
        ),
    );
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "docker.route",
        Some(REGISTRY),
        "pass",
        "credsStore (every registry)",
        None,
    );
    r.expect(
        "docker.auths",
        Some(REGISTRY),
        "warn",
        "holds a login token",
        Some(&format!("docker logout {REGISTRY}")),
    );
    r.expect(
        "containers.route",
        Some(REGISTRY),
        "warn",
        "auths",
        Some("podman logout"),
    );
    docker_config(&s, "{\"credsStore\": \"ecr-login\"}\n");
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "containers.route",
        Some(REGISTRY),
        "warn",
        "only through credsStore",
        Some(&format!("configure {REGISTRY}")),
    );
    assert_eq!(r.out.status.code(), Some(0), "warnings only");
}

#[test]
fn no_credentials_fails_with_what_to_run() {
    let mut s = sandbox();
    s.without_credentials();
    docker_config(&s, &helpers_for(&[REGISTRY]));
    let r = doctor(&s, &[REGISTRY]);
    r.expect(
        "registry.credentials",
        Some(REGISTRY),
        "fail",
        "no AWS credentials",
        Some("aws configure"),
    );
    r.expect(
        "network.token",
        Some(REGISTRY),
        "skip",
        "the credentials check above failed",
        None,
    );
    assert_eq!(s.fake.token_calls(), 0);
}

#[test]
fn an_expired_sso_session_fails_with_aws_sso_login() {
    let mut s = sandbox();
    s.without_credentials().set("AWS_PROFILE", "dev");
    s.write_sso_profile(r#"{"accessToken":"sso-bearer-SECRETBEARER","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}"#);
    let r = doctor(&s, &[REGISTRY]);
    r.expect(
        "registry.credentials",
        Some(REGISTRY),
        "pass",
        "profile:dev (sso)",
        None,
    );
    r.expect(
        "registry.sso",
        Some(REGISTRY),
        "fail",
        "expired at 2020-01-01T00:00:00Z",
        Some("aws sso login --sso-session corp"),
    );
    assert!(!stdout(&r.out).contains("SECRETBEARER"));
    // Logged out: the token cache file is gone.
    std::fs::remove_dir_all(s.home().join(".aws/sso/cache")).unwrap();
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "registry.sso",
        Some(REGISTRY),
        "fail",
        "no SSO session",
        Some("aws sso login --sso-session corp"),
    );
}

/// `aws logout` removed the console session's cache file: the profile still says
/// `login_session`, and nothing can sign.
#[test]
fn an_aws_login_session_gone_fails_with_aws_login() {
    let mut s = sandbox();
    s.without_credentials().set("AWS_PROFILE", "console");
    s.write_aws_config(LOGIN_PROFILE);
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "registry.credentials",
        Some(REGISTRY),
        "pass",
        "profile:console (console login)",
        None,
    );
    r.expect(
        "registry.login",
        Some(REGISTRY),
        "fail",
        "session is gone",
        Some("aws login --profile console"),
    );
}

#[test]
fn an_mfa_role_without_a_session_fails_with_ecr_login_login() {
    let mut s = sandbox();
    s.write_mfa_profile();
    s.fake.require_mfa(MFA_ROLE, MFA_SERIAL, "918273");
    let r = doctor(&s, &[REGISTRY]);
    r.expect(
        "registry.mfa",
        Some(REGISTRY),
        "fail",
        "needs an MFA code, and there is no MFA session",
        Some("ecr-login login --profile mfa"),
    );
    assert_eq!(s.fake.sts_calls(), 0, "no AssumeRole without a code");
    assert!(!stdout(&r.out).contains("secret-of-"));
}

/// "No region": ECR Public cannot lack one (its API is in us-east-1, whatever AWS_REGION
/// says), so that passes; what has no region to ask is a host that is neither ECR nor an
/// alias, which Docker's credHelpers sends to us anyway; and a region override that is not
/// a region.
#[test]
fn a_registry_with_no_region_to_ask_fails() {
    let mut s = sandbox();
    s.unset("AWS_REGION");
    docker_config(&s, &helpers_for(&[PUBLIC, ALIAS]));
    s.write_config(&format!(
        "[registries.\"{REGISTRY}\"]\nregion = \"useast1\"\n"
    ));
    let r = doctor(&s, &["--offline"]);
    r.expect(
        "registry.region",
        Some(PUBLIC),
        "pass",
        "us-east-1: ECR Public's API is served from us-east-1 only",
        None,
    );
    r.expect(
        "registry.host",
        Some(ALIAS),
        "fail",
        "neither an ECR registry host nor an alias",
        Some(&format!("configure {ALIAS} --ecr")),
    );
    r.expect(
        "registry.region",
        Some(REGISTRY),
        "fail",
        "\"useast1\"",
        Some("fix `region`"),
    );
    // With the alias configured, it signs as its registry, in that registry's region.
    s.write_config(&format!("[registries.\"{ALIAS}\"]\necr = \"{REGISTRY}\"\n"));
    let r = doctor(&s, &["--offline", ALIAS]);
    r.expect(
        "registry.host",
        Some(ALIAS),
        "pass",
        &format!("an alias of {REGISTRY}"),
        None,
    );
    r.expect(
        "registry.region",
        Some(ALIAS),
        "pass",
        "us-east-1 (from the host)",
        None,
    );
}

#[test]
fn a_clock_twenty_minutes_off_fails_with_the_skew() {
    let mut s = sandbox();
    let port = date_front(s.fake.port(), 20 * 60);
    s.set("AWS_ENDPOINT_URL_ECR", &format!("http://127.0.0.1:{port}"));
    let r = doctor(&s, &[REGISTRY]);
    r.expect(
        "network.clock",
        None,
        "fail",
        "clock is 20 min behind 127.0.0.1's",
        Some("timedatectl set-ntp true"),
    );
    r.expect_token_answered();
}

#[test]
fn an_unusable_cache_directory_fails_with_chmod() {
    use std::os::unix::fs::PermissionsExt;
    let s = sandbox();
    std::fs::create_dir_all(s.cache_dir()).unwrap();
    std::fs::set_permissions(s.cache_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = doctor(&s, &["--offline", REGISTRY]);
    let fix = format!("chmod 700 {}", s.cache_dir().display());
    r.expect(
        "cache.dir",
        None,
        "fail",
        "writable by other users",
        Some(&fix),
    );
    r.expect(
        "registry.cache",
        Some(REGISTRY),
        "skip",
        "no usable cache directory",
        None,
    );
}

#[cfg(target_os = "linux")]
#[test]
fn no_daemon_is_a_warning_with_the_command_that_starts_one() {
    let s = sandbox();
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "daemon.running",
        None,
        "warn",
        "not running",
        Some("docker-credential-ecr-login configure --service"),
    );
    r.expect(
        "daemon.service",
        None,
        "warn",
        "not installed",
        Some("configure --service"),
    );
    enabled_unit(&s);
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "daemon.running",
        None,
        "warn",
        "not running",
        Some("systemctl --user enable --now docker-credential-ecr-login"),
    );
}

/// A proxy that wants a password: CONNECT answers 407 and the fix says how to give one; the
/// password given (a wrong one) is never shown.
#[test]
fn a_proxy_that_wants_credentials_fails_without_showing_the_password() {
    let mut s = sandbox();
    let _front = tls_endpoint(&mut s);
    let proxy = ConnectProxy::start(ProxyOptions {
        basic_auth: Some(("alice".into(), "right-PROXYPASS".into())),
        redirect_to: None,
    });
    let through = format!("through http://127.0.0.1:{}/", proxy.port());
    // HTTPS_PROXY, and what doctor says of it: (check, registry, status, detail, fix).
    type Expected<'a> = (&'a str, Option<&'a str>, &'a str, &'a str, Option<&'a str>);
    let cases: [(String, Vec<Expected>); 3] = [
        (
            proxy.url(),
            vec![
                ("network.proxy", None, "pass", &through, None),
                (
                    "network.tcp",
                    None,
                    "fail",
                    "requires authentication (407",
                    Some("HTTPS_PROXY=http://USER:PASSWORD@host:port"),
                ),
            ],
        ),
        (
            proxy.url_with_auth("alice", "wrong-PROXYPASS"),
            vec![(
                "network.tcp",
                None,
                "fail",
                "refused the credentials",
                Some("check the user and password"),
            )],
        ),
        (
            proxy.url_with_auth("alice", "right-PROXYPASS"),
            vec![
                (
                    "network.proxy",
                    None,
                    "pass",
                    "with Basic credentials",
                    None,
                ),
                ("network.tls", None, "pass", "trusted through", None),
                ("network.token", Some(REGISTRY), "pass", "answered", None),
            ],
        ),
    ];
    for (url, expected) in cases {
        s.set("HTTPS_PROXY", &url);
        let r = doctor(&s, &[REGISTRY]);
        for (name, registry, status, detail, fix) in expected {
            r.expect(name, registry, status, detail, fix);
        }
        assert!(
            !stdout(&r.out).contains("PROXYPASS") && !stderr(&r.out).contains("PROXYPASS"),
            "{url}"
        );
    }
}

/// Issue 30: the links are what the token request met, as the transport classified it for
/// `get`, not a second diagnosis: a certificate nobody trusts, an expired one, one for
/// another name, a name that does not resolve. The failing link says why, in `get`'s words,
/// with the fix for that reason; the token check points at it.
#[test]
fn a_failed_link_is_what_the_token_request_met() {
    let ca = Ca::new("Inspection CA");
    // (certificate or none: a name that does not resolve; trusted through AWS_CA_BUNDLE;
    // the check that fails, its detail, its fix)
    let cases = [
        (
            Some(ca.server_cert(LOCAL_NAMES)),
            false,
            "network.tls",
            "signed by an unknown authority",
            "set AWS_CA_BUNDLE",
        ),
        (
            Some(ca.expired_server_cert(LOCAL_NAMES)),
            true,
            "network.tls",
            "has expired",
            "check this machine's clock",
        ),
        (
            Some(ca.wrong_name_cert()),
            true,
            "network.tls",
            "for another host name",
            "check AWS_ENDPOINT_URL_ECR",
        ),
        (
            None,
            false,
            "network.dns",
            "cannot resolve doctor-endpoint.invalid",
            "check your network",
        ),
    ];
    for (cert, trusted, name, detail, fix) in cases {
        let mut s = sandbox();
        let front = cert.map(|(cert, key)| TlsFront::start(s.fake.port(), &cert, &key));
        let url = front
            .as_ref()
            .map_or("https://doctor-endpoint.invalid".into(), TlsFront::url);
        s.set("AWS_ENDPOINT_URL_ECR", &url);
        if trusted {
            let bundle = s.dir.path().join("ca.pem");
            ca.write_pem(&bundle);
            s.set("AWS_CA_BUNDLE", bundle.to_str().unwrap());
        }
        let r = doctor(&s, &[REGISTRY]);
        r.expect(name, None, "fail", detail, Some(fix));
        let link = name.trim_start_matches("network.");
        r.expect(
            "network.token",
            Some(REGISTRY),
            "fail",
            &format!("see the {link} check above"),
            None,
        );
        let get = stdout(&s.get(REGISTRY));
        assert!(get.contains(detail), "{name}: get says {get}");
        assert_eq!(s.fake.token_calls(), 0, "{name}");
    }
}

/// The API endpoints as the SDK's own resolver names them, for every host form.
#[test]
fn endpoints_are_the_sdks_for_fips_dual_stack_china_and_public() {
    let mut s = sandbox();
    s.unset("AWS_ENDPOINT_URL_ECR")
        .unset("AWS_ENDPOINT_URL_ECR_PUBLIC");
    let cases = [
        (
            REGISTRY,
            "https://api.ecr.us-east-1.amazonaws.com (the SDK's endpoint for us-east-1)",
        ),
        (
            "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
            "https://api.ecr-fips.us-east-1.amazonaws.com (the SDK's endpoint for us-east-1, FIPS)",
        ),
        (
            "123456789012.dkr-ecr.eu-west-1.on.aws",
            "https://ecr.eu-west-1.api.aws (the SDK's endpoint for eu-west-1, dual-stack)",
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "https://api.ecr.cn-north-1.amazonaws.com.cn (the SDK's endpoint for cn-north-1)",
        ),
        (
            PUBLIC,
            "https://api.ecr-public.us-east-1.amazonaws.com (the SDK's endpoint for us-east-1)",
        ),
    ];
    let hosts: Vec<&str> = cases.iter().map(|(h, _)| *h).collect();
    let mut args = vec!["--offline"];
    args.extend(&hosts);
    let r = doctor(&s, &args);
    let endpoints: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c["name"] == "network.endpoint")
        .map(|c| c["detail"].as_str().unwrap())
        .collect();
    for (host, want) in cases {
        assert!(
            endpoints.contains(&want),
            "{host}: {want} not in {endpoints:#?}"
        );
    }
    r.expect(
        "registry.host",
        Some("123456789012.dkr-ecr.eu-west-1.on.aws"),
        "pass",
        "dual-stack",
        None,
    );
    r.expect(
        "registry.host",
        Some("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        "pass",
        "partition aws-cn",
        None,
    );
}

/// A config file with a typo fails every command: doctor says which line.
#[test]
fn a_malformed_config_fails_naming_the_file() {
    let s = sandbox();
    s.write_config("[daemon]\nkeep_warm = \"not a list\"\n");
    let r = doctor(&s, &["--offline", REGISTRY]);
    let c = r.check("config.file", None);
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_has(c, "detail", &s.config_path().display().to_string());
    assert_has(c, "detail", "line 2");
}

/// Docker Desktop keeps resetting credsStore and the daemon gave up: a warning with the fix.
#[test]
fn a_flapping_desktop_repair_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let s = sandbox();
    std::fs::create_dir_all(s.cache_dir()).unwrap();
    std::fs::set_permissions(s.cache_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let state = s.cache_dir().join("daemon.json");
    let message = "config.json keeps setting credsStore back (to \\\"desktop\\\") within a minute of each repair; ecr-login stopped repairing it";
    std::fs::write(
        &state,
        format!("{{\"pid\": 1, \"started_at_ms\": 0, \"last_renewal_ms\": null, \"warm\": 0, \"next_renewal_ms\": null, \"failing\": [], \"store\": {{\"message\": \"{message}\", \"at_ms\": 0, \"flapping\": true}}}}"),
    )
    .unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "docker.desktop",
        None,
        "warn",
        "stopped repairing it",
        Some("docker-credential-ecr-login configure --store"),
    );
}

/// An endpoint that accepts connections and never answers costs its steps' limits, not the
/// SDK's retries: doctor is done within 10 s.
#[test]
fn a_black_hole_costs_seconds_not_minutes() {
    let mut s = sandbox();
    let hole = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    s.set(
        "AWS_ENDPOINT_URL_ECR",
        &format!("http://127.0.0.1:{}", hole.local_addr().unwrap().port()),
    );
    s.write_config("timeout = \"30s\"\n");
    let started = Instant::now();
    let r = doctor(&s, &[REGISTRY]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    r.expect("network.tcp", None, "pass", "connected to 127.0.0.1", None);
    r.expect(
        "network.clock",
        None,
        "skip",
        "no HTTP answer from 127.0.0.1 within 2s",
        None,
    );
    r.expect(
        "network.token",
        Some(REGISTRY),
        "fail",
        "did not answer in time",
        None,
    );
    r.expect(
        "network.token",
        Some(REGISTRY),
        "fail",
        "doctor cut the timeout",
        None,
    );
    drop(hole);
}

/// `--offline`: not one request, not one lookup (an endpoint that cannot resolve is not
/// looked up).
/// Issue 27 (L8): the human report printed terminal escapes from `credsStore`, `NO_PROXY`,
/// `SSL_CERT_FILE` and a registry argument (a window title set, the screen cleared over a
/// `✗` line). They are shown as escapes, online (the proxy line) and offline.
#[test]
fn the_human_report_prints_no_terminal_escape() {
    let mut s = sandbox();
    docker_config(
        &s,
        r#"{"credsStore": "desk\u001b]0;PWNED-TITLE\u0007\u001b[2J\u001b[31mtop"}"#,
    );
    s.set("NO_PROXY", "127.0.0.1,\x1b]0;NOPROXY-TITLE\x07")
        .set("HTTP_PROXY", "http://u:p@127.0.0.1:9")
        .set("HTTPS_PROXY", "http://u:p@127.0.0.1:9")
        .set("SSL_CERT_FILE", "/etc/ssl\x1b[5mblink");
    let registry = "evil\x1b]0;ARG-TITLE\x07\x1b[2Jhost";
    for args in [
        &["--offline", REGISTRY, registry][..],
        &[REGISTRY, registry],
    ] {
        let mut argv = vec!["doctor"];
        argv.extend_from_slice(args);
        let out = s.run(&argv, b"");
        let (text, err) = (stdout(&out), stderr(&out));
        assert_eq!(text.matches('\x1b').count(), 0, "{args:?}:\n{text:?}");
        assert_eq!(err.matches('\x1b').count(), 0, "{args:?}:\n{err:?}");
        assert_contains(&text, r"desk\u{1b}]0;PWNED-TITLE\u{7}");
        assert_contains(&text, r"evil\u{1b}]0;ARG-TITLE\u{7}");
        assert_contains(&text, r"/etc/ssl\u{1b}[5mblink");
    }
    let online = s.run(&["doctor", REGISTRY], b"");
    assert_contains(&stdout(&online), r"127.0.0.1,\u{1b}]0;NOPROXY-TITLE\u{7}");
}

#[test]
fn offline_makes_no_network_call() {
    let mut s = sandbox();
    docker_config(&s, &helpers_for(&[REGISTRY, PUBLIC]));
    let r = doctor(&s, &["--offline"]);
    assert_eq!(s.fake.requests().len(), 0);
    r.expect("network.dns", None, "skip", "--offline", None);
    r.expect("network.token", Some(PUBLIC), "skip", "--offline", None);
    s.set("AWS_ENDPOINT_URL_ECR", "https://doctor-endpoint.invalid");
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "network.endpoint",
        None,
        "pass",
        "https://doctor-endpoint.invalid (AWS_ENDPOINT_URL_ECR)",
        None,
    );
    assert_eq!(r.out.status.code(), Some(0), "{}", stdout(&r.out));
}

/// The last failure on record is what `get` told Docker; doctor's own request then clears it.
#[test]
fn the_last_failure_is_reported_with_its_time_until_doctor_clears_it() {
    let s = sandbox();
    s.fake.push_fault(crate::support::fake_ecr::Fault::Deny);
    assert_eq!(s.get(REGISTRY).status.code(), Some(1));
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect("registry.failure", Some(REGISTRY), "warn", "ago (", None);
    r.expect(
        "registry.failure",
        Some(REGISTRY),
        "warn",
        "access denied",
        None,
    );
    s.fake.push_fault(crate::support::fake_ecr::Fault::Deny);
    let r = doctor(&s, &[REGISTRY]);
    r.expect(
        "network.token",
        Some(REGISTRY),
        "fail",
        "denied: arn:aws:iam::123456789012:user/ci may not call ecr:GetAuthorizationToken",
        Some("allow ecr:GetAuthorizationToken"),
    );
    let r = doctor(&s, &[REGISTRY]);
    r.expect("registry.failure", Some(REGISTRY), "pass", "cleared", None);
    assert_ok(&s.get(REGISTRY));
    let r = doctor(&s, &["--offline", REGISTRY]);
    r.expect(
        "registry.failure",
        Some(REGISTRY),
        "pass",
        "no failed token request",
        None,
    );
    r.expect(
        "registry.cache",
        Some(REGISTRY),
        "pass",
        "served until",
        None,
    );
}

/// Several links broken at once, for the golden file: Desktop's credsStore, no
/// credentials, an alias nobody configured, no daemon.
/// Linux, as the golden file was written there (the service lines are systemd's).
#[cfg(target_os = "linux")]
#[test]
fn a_broken_set_up_matches_its_golden_report() {
    let mut s = sandbox();
    s.without_credentials();
    docker_config(
        &s,
        &format!(
            "{{\"credsStore\": \"desktop\", \"credHelpers\": {{\"{ALIAS}\": \"ecr-login\"}}}}\n"
        ),
    );
    s.write_config(&keep_warm(&[REGISTRY]));
    let out = s.run(&["doctor"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    golden("doctor-broken.txt", &s, &stdout(&out));
}

/// Compares `text` with `golden/<name>` after masking what differs between runs and machines
/// (times, durations, ports, addresses, paths, counts of system roots), and joining wrapped
/// lines (where a line wraps depends on how long the paths are). `UPDATE_GOLDEN=1` rewrites it.
#[cfg(target_os = "linux")]
fn golden(name: &str, s: &Sandbox, text: &str) {
    let want_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/golden")
        .join(name);
    let got = mask(text, s);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(want_path.parent().unwrap()).unwrap();
        std::fs::write(&want_path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&want_path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", want_path.display()));
    assert_eq!(
        got, want,
        "{name} differs; run with UPDATE_GOLDEN=1 to rewrite it after checking the change"
    );
}

#[cfg(target_os = "linux")]
fn mask(text: &str, s: &Sandbox) -> String {
    let bin = front().parent().unwrap().display().to_string();
    let text = text
        .replace(&s.dir.path().display().to_string(), "<tmp>")
        .replace(&bin, "<bin>")
        .replace(env!("CARGO_PKG_VERSION"), "<version>");
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let rest = line.trim_start();
        if line.starts_with("    ") && !rest.starts_with('→') && !lines.is_empty() {
            let last = lines.last_mut().unwrap();
            last.push(' ');
            last.push_str(rest);
        } else {
            lines.push(line.to_string());
        }
    }
    lines
        .iter()
        .map(|l| {
            let words: Vec<&str> = l.split(' ').collect();
            let masked: Vec<String> = words
                .iter()
                .enumerate()
                .map(|(i, w)| match i.checked_sub(1).map(|p| words[p]) {
                    // Process and user ids differ between runs and machines; counts do not.
                    Some("(pid" | "uid") => mask_word(w)
                        .replacen(|c: char| c.is_ascii_digit(), "<n>", 1)
                        .replace(|c: char| c.is_ascii_digit(), ""),
                    _ => mask_word(w),
                })
                .collect();
            masked.join(" ")
        })
        .map(|l| mask_after(&l, "localhost: ", " ("))
        .map(|l| mask_after(&l, "the system roots (", ")"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `line` with what follows `start`, up to `end`, masked.
#[cfg(target_os = "linux")]
fn mask_after(line: &str, start: &str, end: &str) -> String {
    match line.split_once(start) {
        Some((head, tail)) => match tail.split_once(end) {
            Some((_, rest)) => format!("{head}{start}<…>{end}{rest}"),
            None => line.to_string(),
        },
        None => line.to_string(),
    }
}

/// A word that is a time, a duration or a key's hash, or holds a local port, masked.
#[cfg(target_os = "linux")]
fn mask_word(word: &str) -> String {
    let core = word.trim_matches(|c: char| "(),;:".contains(c));
    let (lead, trail) = {
        let start = word.find(core).unwrap_or(0);
        (&word[..start], &word[start + core.len()..])
    };
    let is_time = core.len() == 20 && core.ends_with('Z') && core.as_bytes()[10] == b'T';
    let is_duration = is_duration(core);
    // Environment keys are named by a keyed hash, the key made per cache directory.
    let is_key_hash = core
        .strip_prefix("env:")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if is_key_hash {
        format!("{lead}env:<hash>{trail}")
    } else if is_time {
        format!("{lead}<time>{trail}")
    } else if is_duration {
        format!("{lead}<dur>{trail}")
    } else if let Some((host, port)) = core.rsplit_once(':').filter(|(h, p)| {
        (h.ends_with("127.0.0.1") || h.ends_with("localhost"))
            && p.bytes().all(|b| b.is_ascii_digit())
    }) {
        let _ = port;
        format!("{lead}{host}:<port>{trail}")
    } else if core.contains("127.0.0.1:") || core.contains("localhost:") {
        let cut = core
            .find("127.0.0.1:")
            .or_else(|| core.find("localhost:"))
            .unwrap();
        let after = &core[cut..];
        let colon = after.find(':').unwrap() + 1;
        let digits = after[colon..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        format!(
            "{lead}{}{}<port>{}{trail}",
            &core[..cut],
            &after[..colon],
            &after[colon + digits..]
        )
    } else {
        word.to_string()
    }
}

/// `12ms`, `5h59m`, `-42s`, `3d4h`: digits and a unit, repeated.
#[cfg(target_os = "linux")]
fn is_duration(text: &str) -> bool {
    let text = text.trim_start_matches('-');
    let b = text.as_bytes();
    let (mut i, mut any) = (0, false);
    while i < b.len() {
        let digits = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let unit = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        if unit == digits || !["d", "h", "m", "s", "ms", "min"].contains(&&text[unit..i]) {
            return false;
        }
        any = true;
    }
    any
}
