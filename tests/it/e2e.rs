//! End to end with real clients: dockerd and the docker CLI, skopeo, and the CNCF
//! distribution registry (`docker-registry`) behind htpasswd, all from Debian, driving the
//! real binary through `credHelpers`. Only the ECR token endpoint is a stand-in.
//!
//! It needs those tools (and root, for dockerd), so it is `#[ignore]`d in a plain `cargo
//! test`; `tests/run-all.sh`, the README's test command, installs them and runs it, and
//! then a missing tool is a failure, never a skip.

use crate::support::fake_ecr::{self, FakeEcr, Fault};
use crate::support::harness::{assert_ok, front, spawn_with_input, terminate};
use crate::support::wait::poll_for;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const PASSWORD: &str = "e2e-ecr-token-password";
const TOOLS: [&str; 5] = ["dockerd", "docker", "skopeo", "docker-registry", "htpasswd"];

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let extra = ["/usr/sbin", "/sbin"].map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(extra)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process stopped by PID when dropped, pass or fail, its log kept for failures.
struct Server {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            terminate(child, Duration::from_secs(10));
        }
    }
}

pub(super) struct World {
    dir: tempfile::TempDir,
    pub(super) fake: FakeEcr,
    /// Stands in for ECR: an alias in ecr-login's config, htpasswd user AWS.
    pub(super) registry: String,
    /// Another registry, htpasswd user alice.
    pub(super) plain_registry: String,
    /// A registry with no authentication at all.
    pub(super) open_registry: String,
    servers: Vec<Server>,
    bin_dir: PathBuf,
    /// Variables every client gets besides the sandbox's (a `pass` store's, say).
    pub(super) env: Vec<(String, String)>,
}

impl World {
    pub(super) fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Where the real binaries are, first on every client's PATH.
    pub(super) fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    pub(super) fn logs(&self) -> String {
        let mut out = String::new();
        for s in &self.servers {
            let text = std::fs::read_to_string(&s.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            out.push_str(&format!("--- {} log (last 40 lines) ---\n", s.name));
            for l in tail.iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// A client command with the sandbox's environment and the real helper first on PATH.
    pub(super) fn client(&self, program: &str, with_aws: bool) -> Command {
        let mut cmd = Command::new(program);
        let path = format!(
            "{}:{}",
            self.bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env_clear()
            .env("PATH", path)
            .env("HOME", self.path("home"))
            .env("DOCKER_CONFIG", self.path("home/.docker"))
            .env(
                "DOCKER_HOST",
                format!("unix://{}", self.path("docker.sock").display()),
            )
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("AWS_ECR_CACHE_DIR", self.path("cache"))
            .env("ECR_LOGIN_CONFIG", self.path("ecr-login.toml"))
            .env("AWS_ENDPOINT_URL_ECR", self.fake.url())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        if with_aws {
            cmd.env("AWS_ACCESS_KEY_ID", "AKIAE2EE2EE2EE2EE2E1")
                .env("AWS_SECRET_ACCESS_KEY", "e2e-secret-key");
        }
        cmd
    }

    pub(super) fn run(&self, what: &str, mut cmd: Command) -> Output {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        if !out.status.success() {
            panic!(
                "{what} failed: {}\nstdout: {}\nstderr: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.logs()
            );
        }
        out
    }

    pub(super) fn docker(&self, args: &[&str], with_aws: bool) -> Output {
        let mut cmd = self.client("docker", with_aws);
        cmd.args(args);
        self.run(&format!("docker {}", args.join(" ")), cmd)
    }

    fn docker_fails(&self, args: &[&str]) -> String {
        let mut cmd = self.client("docker", true);
        let out = cmd.args(args).output().unwrap();
        assert!(
            !out.status.success(),
            "docker {} should have failed",
            args.join(" ")
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn start(name: &'static str, dir: &Path, mut cmd: Command) -> Server {
    let log = dir.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    Server {
        name,
        child: Some(child),
        log,
    }
}

/// The servers say nothing when they are ready: polled.
fn wait_for(what: &str, world: &World, ready: impl FnMut() -> bool) {
    assert!(
        poll_for(Duration::from_secs(60), ready),
        "{what} did not become ready\n{}",
        world.logs()
    );
}

/// A `docker-registry` config: htpasswd with one user, or (`None`) no authentication.
fn registry_config(dir: &Path, name: &str, port: u16, user: Option<(&str, &str)>) -> PathBuf {
    let auth = match user {
        Some((user, password)) => {
            let htpasswd = dir.join(format!("{name}.htpasswd"));
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .unwrap();
            assert_ok(&out);
            std::fs::write(&htpasswd, &out.stdout).unwrap();
            format!(
                "auth:\n  htpasswd:\n    realm: e2e\n    path: {}\n",
                htpasswd.display()
            )
        }
        None => String::new(),
    };
    let config = dir.join(format!("{name}.yml"));
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
            dir.join(format!("{name}-data")).display(),
        ),
    )
    .unwrap();
    config
}

/// The fake ECR endpoint, three registries (the ECR stand-in, an htpasswd one and an open
/// one) and dockerd, running; the Docker and ecr-login configs are the test's to write.
pub(super) fn setup() -> World {
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| which(t).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the end-to-end test needs {} (tests/run-all.sh installs them)",
        missing.join(", ")
    );
    let dir = tempfile::tempdir().unwrap();
    for d in ["home/.docker", "run", "bin"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    // dockerd's socket path must stay short; tempdir paths are.
    let fake = FakeEcr::start();
    fake.set_password(PASSWORD);
    let port = free_port();
    let plain_port = free_port();
    let open_port = free_port();
    let registry = format!("127.0.0.1:{port}");
    let plain_registry = format!("127.0.0.1:{plain_port}");
    let open_registry = format!("127.0.0.1:{open_port}");
    let bin_dir = dir.path().join("bin");
    std::os::unix::fs::symlink(front(), bin_dir.join("docker-credential-ecr-login")).unwrap();

    let mut world = World {
        dir,
        fake,
        registry,
        plain_registry,
        open_registry,
        servers: Vec::new(),
        bin_dir,
        env: Vec::new(),
    };
    let d = world.dir.path().to_path_buf();
    for (name, port, user) in [
        ("registry", port, Some(("AWS", PASSWORD))),
        ("plain-registry", plain_port, Some(("alice", "alice-pw"))),
        ("open-registry", open_port, None),
    ] {
        let cfg = registry_config(&d, name, port, user);
        let mut reg = Command::new("docker-registry");
        reg.args(["serve", cfg.to_str().unwrap()]);
        world.servers.push(start(name, &d, reg));
    }
    let mut dockerd = Command::new(which("dockerd").unwrap());
    dockerd.args([
        "--storage-driver=vfs",
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        "--host",
        &format!("unix://{}", d.join("docker.sock").display()),
        "--data-root",
        d.join("data").to_str().unwrap(),
        "--exec-root",
        d.join("exec").to_str().unwrap(),
        "--pidfile",
        d.join("dockerd.pid").to_str().unwrap(),
    ]);
    world.servers.push(start("dockerd", &d, dockerd));

    wait_for("dockerd", &world, || {
        world
            .client("docker", false)
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    for r in [&world.registry, &world.plain_registry, &world.open_registry] {
        let addr = r.clone();
        wait_for("registry", &world, || {
            std::net::TcpStream::connect(&addr).is_ok()
        });
    }
    world
}

/// An image made from a small tarball, so no container needs to run.
pub(super) fn import_image(w: &World, reference: &str) {
    let rootfs = w.path("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::write(
        rootfs.join("hello.txt"),
        format!("hello from {reference}\n"),
    )
    .unwrap();
    let tar = w.path("rootfs.tar");
    let ok = Command::new("tar")
        .args([
            "-C",
            rootfs.to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            ".",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    w.docker(&["import", tar.to_str().unwrap(), reference], false);
}

#[test]
#[ignore = "needs root, dockerd, docker, skopeo, docker-registry and htpasswd: tests/run-all.sh runs it"]
fn docker_and_skopeo_push_and_pull_through_the_helper() {
    let w = setup();
    let d = w.dir.path().to_path_buf();
    // The Docker config: our registry through the helper, the plain one through `auths`.
    let auth = fake_ecr::encode_base64(b"alice:alice-pw");
    std::fs::write(
        d.join("home/.docker/config.json"),
        format!(
            "{{\n\t\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}},\n\t\"credHelpers\": {{\"{}\": \"ecr-login\"}}\n}}\n",
            w.plain_registry, w.registry
        ),
    )
    .unwrap();
    // The registry on loopback stands in for ECR: an alias in ecr-login's config.
    std::fs::write(
        d.join("ecr-login.toml"),
        format!("[registries.\"{}\"]\necr = \"{ECR}\"\n", w.registry),
    )
    .unwrap();

    let image = format!("{}/app:1", w.registry);

    // 1. Push with no `docker login`: one token request; pull again with none more.
    import_image(&w, &image);
    w.docker(&["push", &image], true);
    assert_eq!(
        w.fake.token_calls(),
        1,
        "push: exactly one token request\n{}",
        w.logs()
    );
    w.docker(&["rmi", &image], true);
    w.docker(&["pull", &image], true);
    assert_eq!(w.fake.token_calls(), 1, "pull served from the cache");

    // 2. skopeo copies to another repository and back through the same helper.
    let mut skopeo = w.client("skopeo", true);
    skopeo.args([
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{image}"),
        &format!("docker://{}/copy:1", w.registry),
    ]);
    w.run("skopeo copy there", skopeo);
    let mut skopeo = w.client("skopeo", true);
    skopeo.args([
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{}/copy:1", w.registry),
        &format!("docker://{}/back:1", w.registry),
    ]);
    w.run("skopeo copy back", skopeo);
    assert_eq!(w.fake.token_calls(), 1, "skopeo used the cached token");

    // 3. `docker login` (run with no AWS credentials at all, as after `aws ecr
    // get-login-password` on another machine) stores through the helper; with no AWS
    // credentials a push still works from the stored token; `docker logout` erases; the
    // next push fetches.
    let mut login = w.client("docker", false);
    login.args(["login", &w.registry, "-u", "AWS", "--password-stdin"]);
    let out = spawn_with_input(login, PASSWORD.as_bytes())
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker login: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Drop the fetched entry so only the stored login can answer.
    let cache = w.path("cache");
    let mut fetched = 0;
    for f in std::fs::read_dir(&cache).unwrap().flatten() {
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        if text.contains("\"source\": \"fetched\"") {
            std::fs::remove_file(f.path()).unwrap();
            fetched += 1;
        }
    }
    assert_eq!(fetched, 1);
    let image2 = format!("{}/app:2", w.registry);
    w.docker(&["tag", &image, &image2], false);
    w.docker(&["push", &image2], false);
    assert_eq!(w.fake.token_calls(), 1, "the stored login answered");
    w.docker(&["logout", &w.registry], false);
    let left = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .filter(|f| f.file_name().to_string_lossy().ends_with(".json"))
        .count();
    assert_eq!(left, 0, "logout erased every entry");
    w.docker(&["push", &image2], true);
    assert_eq!(
        w.fake.token_calls(),
        2,
        "after logout a push fetches a new token"
    );

    // 4. A cached token past the serving threshold (here: a policy that wants more life
    // than a 12 h token has) is replaced transparently.
    std::fs::write(
        w.path("ecr-login.toml"),
        format!(
            "[registries.\"{}\"]\necr = \"{ECR}\"\n[cache]\nmin_remaining = \"13h\"\n",
            w.registry
        ),
    )
    .unwrap();
    w.docker(&["push", &image], true);
    assert_eq!(w.fake.token_calls(), 3, "stale token replaced on push");

    // 5. ECR denies: the push fails and the user sees our actionable message. (Docker's
    // CLI, 20.10 and 28 alike, ignores a helper's failure on push and goes on without
    // credentials, so its own "no basic auth credentials" follows our line: what we can
    // do is make sure the reason comes first, on the stderr Docker passes through.)
    w.fake.set_fault(Some(Fault::Deny));
    let err = w.docker_fails(&["push", &image]);
    let ours = err
        .find(&format!("ECR token for {ECR}: access denied"))
        .unwrap_or_else(|| panic!("our message is missing from docker's output: {err}"));
    assert!(err.contains("ecr:GetAuthorizationToken"), "{err}");
    assert!(
        err.find("no basic auth credentials")
            .is_none_or(|theirs| ours < theirs),
        "{err}"
    );
    w.fake.set_fault(None);

    // 6. A non-ECR registry with plain `auths` in the same config keeps working.
    let plain = format!("{}/plain:1", w.plain_registry);
    w.docker(&["tag", &image, &plain], false);
    w.docker(&["push", &plain], false);
    w.docker(&["rmi", &plain], false);
    w.docker(&["pull", &plain], false);
}
