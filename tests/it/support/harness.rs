//! Runs the real binary in a sealed environment: a fresh temp HOME, cache dir and config
//! per test, every inherited variable removed, AWS pointed at a fake endpoint.

use super::fake_ecr::FakeEcr;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The full binary, which cargo builds for these tests.
pub const FULL: &str = env!("CARGO_BIN_EXE_ecr-login");

/// The front binary (package `ecr-login-front`), built beside the full one by `cargo test`
/// in the workspace (see `crates/front/tests`, which makes cargo build it).
pub fn front() -> std::path::PathBuf {
    let front = std::path::Path::new(FULL).with_file_name(format!(
        "docker-credential-ecr-login{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        front.is_file(),
        "{} is missing: run the tests of the whole workspace (cargo test), which builds it",
        front.display()
    );
    front
}
/// Docker Desktop's config.json, as it writes it (tabs, its own keys, `credsStore: desktop`).
pub const DESKTOP: &str = "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {}\n\t},\n\t\"credsStore\": \"desktop\",\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"123456789012.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\"\n\t},\n\t\"currentContext\": \"desktop-linux\",\n\t\"plugins\": {\"-x-cli-hints\": {\"enabled\": \"true\"}}\n}\n";

/// A credential helper `docker-credential-<name>` in `dir` that knows no server (Docker
/// Desktop's store, as far as ECR is concerned). Returns its path.
#[cfg(unix)]
pub fn not_found_helper(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(
        &path,
        "#!/bin/sh\necho 'credentials not found in native keychain'\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A config whose `[daemon]` keeps `registries` warm.
pub fn keep_warm(registries: &[&str]) -> String {
    let quoted: Vec<String> = registries.iter().map(|r| format!("\"{r}\"")).collect();
    format!("[daemon]\nkeep_warm = [{}]\n", quoted.join(", "))
}

/// An `aws login` profile, `console` (its session: alice's console sign-in).
pub const LOGIN_PROFILE: &str =
    "[profile console]\nlogin_session = arn:aws:iam::123456789012:user/alice\nregion = us-east-1\n";

/// The role of [`Sandbox::write_mfa_profile`], and the MFA device it needs.
pub const MFA_ROLE: &str = "arn:aws:iam::123456789012:role/ecr-pull";
pub const MFA_SERIAL: &str = "arn:aws:iam::111111111111:mfa/alice";

pub const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub fake: FakeEcr,
    /// Extra variables for every command (overrides and additions).
    pub vars: HashMap<String, String>,
    /// Variables removed from the defaults below.
    pub removed: Vec<String>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Sandbox {
            dir,
            fake: FakeEcr::start(),
            vars: HashMap::new(),
            removed: Vec::new(),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// `config.json` in the sandbox's Docker config dir (what [`Sandbox::configure`] and
    /// [`Sandbox::write_docker_config`] point `DOCKER_CONFIG` at).
    pub fn docker_config_path(&self) -> PathBuf {
        self.dir.path().join("docker").join("config.json")
    }

    /// Writes [`Sandbox::docker_config_path`] and points `DOCKER_CONFIG` at it. Returns its path.
    pub fn write_docker_config(&mut self, text: &str) -> PathBuf {
        let path = self.docker_config_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        self.use_docker_config();
        path
    }

    fn use_docker_config(&mut self) {
        let dir = self.docker_config_path().parent().unwrap().to_path_buf();
        self.set("DOCKER_CONFIG", dir.to_str().unwrap());
    }

    /// `configure <args>`, on the Docker config at [`Sandbox::docker_config_path`] (which
    /// need not exist).
    pub fn configure(&mut self, args: &[&str]) -> Output {
        self.use_docker_config();
        let mut all = vec!["configure"];
        all.extend_from_slice(args);
        self.run(&all, b"")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// Writes `~/.aws/credentials` with one static key pair per profile.
    pub fn write_aws_profiles(&self, profiles: &[(&str, &str)]) {
        let aws = self.home().join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        let mut text = String::new();
        for (name, key) in profiles {
            text.push_str(&format!(
                "[{name}]\naws_access_key_id = {key}\naws_secret_access_key = secret-of-{key}\n\n"
            ));
        }
        std::fs::write(aws.join("credentials"), text).unwrap();
    }

    pub fn set(&mut self, k: &str, v: &str) -> &mut Self {
        self.vars.insert(k.into(), v.into());
        self
    }

    pub fn unset(&mut self, k: &str) -> &mut Self {
        self.removed.push(k.into());
        self.vars.remove(k);
        self
    }

    /// Static keys removed: the helper finds no AWS credentials anywhere.
    pub fn without_credentials(&mut self) -> &mut Self {
        self.unset("AWS_ACCESS_KEY_ID")
            .unset("AWS_SECRET_ACCESS_KEY")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(&front(), args)
    }

    /// A command for another copy of the binary, with the sandbox's environment.
    pub fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args).env_clear();
        let defaults = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("HOME", self.home().display().to_string()),
            ("AWS_ECR_CACHE_DIR", self.cache_dir().display().to_string()),
            ("ECR_LOGIN_CONFIG", self.config_path().display().to_string()),
            ("AWS_ENDPOINT_URL_ECR", self.fake.url()),
            ("AWS_ENDPOINT_URL_ECR_PUBLIC", self.fake.url()),
            ("AWS_ENDPOINT_URL_STS", self.fake.url()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ];
        for (k, v) in defaults {
            if !self.removed.iter().any(|r| r == k) {
                cmd.env(k, v);
            }
        }
        cmd.envs(&self.vars);
        cmd
    }

    /// Runs a command with `stdin`, fed from its own thread.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let child = self.spawn(args, stdin);
        child.wait_with_output().expect("wait")
    }

    pub fn spawn(&self, args: &[&str], stdin: &[u8]) -> Child {
        spawn_with_input(self.command(args), stdin)
    }

    pub fn get(&self, server: &str) -> Output {
        self.run(&["get"], server.as_bytes())
    }

    /// Cache entry files (`*.json`), excluding daemon state.
    pub fn entries(&self) -> Vec<PathBuf> {
        list(&self.cache_dir(), |n| {
            n.ends_with(".json") && n != "daemon.json"
        })
    }

    /// One `get` that fetches a token for `password`, and the entry file it wrote.
    pub fn fetched_entry(&self, password: &str) -> PathBuf {
        self.fake.set_password(password);
        assert_ok(&self.get(REGISTRY));
        self.entries().pop().expect("an entry")
    }

    /// The first STS request for `action` (`AssumeRole`, `AssumeRoleWithWebIdentity`).
    pub fn sts_request(&self, action: &str) -> super::fake_ecr::Request {
        self.fake
            .requests()
            .into_iter()
            .find(|r| r.target == format!("sts:{action}"))
            .unwrap_or_else(|| panic!("no {action} call"))
    }

    /// Waits for `children` (each a `get` of [`REGISTRY`]): each answered `password`, and
    /// all of them together made one token call.
    pub fn assert_one_call_answered_all(&self, children: Vec<Child>, password: &str) {
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(stdout(&out), reply(REGISTRY, password), "{}", stderr(&out));
        }
        assert_eq!(self.fake.token_calls(), 1);
    }

    /// The access keys that signed GetAuthorizationToken calls, in order.
    pub fn token_signers(&self) -> Vec<String> {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.target.contains("GetAuthorizationToken"))
            .map(|r| r.access_key_id.clone())
            .collect()
    }

    /// Profile `mfa`, the only credentials: the role [`MFA_ROLE`] with `source_profile =
    /// base` (a static key) and `mfa_serial =` [`MFA_SERIAL`].
    pub fn write_mfa_profile(&mut self) {
        self.without_credentials().set("AWS_PROFILE", "mfa");
        self.write_aws_profiles(&[("base", "AKIABASEKEYBASEKEY00")]);
        self.write_aws_config(&format!(
            "[profile mfa]\nrole_arn = {MFA_ROLE}\nsource_profile = base\nmfa_serial = {MFA_SERIAL}\nregion = us-east-1\n"
        ));
    }

    /// Writes `~/.aws/config`.
    pub fn write_aws_config(&self, text: &str) {
        let aws = self.home().join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(aws.join("config"), text).unwrap();
    }

    /// An SSO profile `dev` (session `corp`, account 123456789012, role `Dev`) in
    /// `~/.aws/config`, and its cached SSO token (`token_json`) where the SDK looks: the
    /// file named by the SHA-1 of the session name. Returns that file.
    pub fn write_sso_profile(&self, token_json: &str) -> PathBuf {
        self.write_aws_config(
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
        );
        let aws = self.home().join(".aws");
        std::fs::create_dir_all(aws.join("sso/cache")).unwrap();
        let token = aws.join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json");
        std::fs::write(&token, token_json).unwrap();
        token
    }

    /// Marks every cache entry expired by rewriting its times, as if fetched long ago: no
    /// waiting on the clock.
    pub fn expire_entries(&self) {
        for path in self.entries() {
            let mut e: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            e["issued_at_ms"] = serde_json::json!(0);
            e["fetched_at_ms"] = serde_json::json!(0);
            e["expires_at_ms"] = serde_json::json!(1_000);
            e["token_expires_at_ms"] = serde_json::json!(1_000);
            std::fs::write(&path, serde_json::to_vec(&e).unwrap()).unwrap();
        }
    }

    /// The name of every file in the cache dir, sorted.
    pub fn cache_names(&self) -> Vec<String> {
        let all = list(&self.cache_dir(), |_| true);
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        all.iter().map(name).collect()
    }

    /// Everything that is not an entry, lock, usage marker, failure record, sweep stamp
    /// or daemon file: leftovers (temp files hold tokens).
    pub fn stray_files(&self) -> Vec<PathBuf> {
        list(&self.cache_dir(), |n| {
            !([".json", ".lock", ".used", ".fail"]
                .iter()
                .any(|s| n.ends_with(s))
                || n == ".swept"
                || n == ".fingerprint-key")
        })
    }
}

/// The files in `dir` whose names `keep` takes, sorted; none if there is no `dir`.
fn list(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| keep(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Spawns `cmd` with its three streams piped and `input` fed to its stdin from its own
/// thread (a child that answers before it reads everything cannot deadlock the test).
pub fn spawn_with_input(mut cmd: Command, input: &[u8]) -> Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    let mut pipe = child.stdin.take().unwrap();
    let input = input.to_vec();
    std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    child
}

/// What `version` prints: the front binary's name, ours, and the package version.
pub fn version_line() -> String {
    format!(
        "docker-credential-ecr-login (ecr-login) {}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Drops `value` (a server, say) and asserts that took less than `limit`. Returns when the
/// drop began.
#[track_caller]
pub fn drop_within<T>(value: T, limit: std::time::Duration) -> std::time::Instant {
    let start = std::time::Instant::now();
    drop(value);
    let took = start.elapsed();
    assert!(took < limit, "the drop took {took:?}");
    start
}

/// A file's permission bits.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// SIGTERM to `child`, and its exit status; SIGKILL if it has not exited after `grace`.
/// Waits on the exit itself (a thread blocked in wait(2)), not by polling.
#[cfg(unix)]
pub fn terminate(mut child: Child, grace: std::time::Duration) -> std::process::ExitStatus {
    let pid = child.id() as i32;
    // SAFETY: kill(2) on our own child's pid, not yet waited for.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::spawn(move || exited.send(child.wait().expect("wait for the child")));
    exit.recv_timeout(grace).unwrap_or_else(|_| {
        // SAFETY: as above; the waiting thread has not reaped it (it has not sent).
        unsafe { libc::kill(pid, libc::SIGKILL) };
        exit.recv().expect("the killed child's status")
    })
}

/// Asserts that a command succeeded, showing its exit status and both streams when it did
/// not (the one place that checks `status.success()`).
#[track_caller]
pub fn assert_ok(o: &Output) -> &Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    o
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exact `get` reply for a server and password.
pub fn reply(server: &str, password: &str) -> String {
    format!("{{\"ServerURL\":\"{server}\",\"Username\":\"AWS\",\"Secret\":\"{password}\"}}\n")
}

/// Asserts that `text` (a command's stdout or stderr, say) contains `needle`, showing it
/// when it does not.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} is not in:\n{text}");
}

/// Asserts a secret appears nowhere in a command's stderr.
pub fn assert_no_secret(o: &Output, secret: &str) {
    assert!(
        !stderr(o).contains(secret),
        "secret leaked to stderr: {}",
        stderr(o)
    );
}

/// Whether the tests run as root (as `tests/run-all.sh` does), where root's own rules apply.
#[cfg(unix)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Every path under `dir`, not following links.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&p));
        }
    }
    out
}
