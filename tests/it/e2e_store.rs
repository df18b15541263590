//! End to end, issue 15: ecr-login as Docker's `credsStore` with no `credHelpers` at all.
//! The real docker CLI and dockerd, Debian's `docker-credential-pass` over a real `pass`
//! store (a gpg key made for the test), and `docker-registry`: ECR works with no login,
//! other registries' logins live in `pass` (or, with no fallback named, in our own file
//! store), and a registry with no credentials anywhere is pulled anonymously.

use super::e2e::{World, import_image, setup};
use crate::support::daemon::Daemon;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A `pass` store in a temp dir, with a passphrase-less key, as `docker-credential-pass`
/// needs it; gpg-agent is stopped when dropped.
struct Pass {
    gnupg: PathBuf,
    store: PathBuf,
}

impl Pass {
    fn new(dir: &Path) -> Pass {
        let gnupg = dir.join("g");
        let store = dir.join("password-store");
        std::fs::create_dir_all(&gnupg).unwrap();
        std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        // Nothing may ever prompt: no passphrase, and a pinentry that fails at once.
        std::fs::write(
            gnupg.join("gpg-agent.conf"),
            "pinentry-program /bin/false\nallow-loopback-pinentry\n",
        )
        .unwrap();
        std::fs::write(
            gnupg.join("gpg.conf"),
            "batch\nno-tty\npinentry-mode loopback\n",
        )
        .unwrap();
        let pass = Pass { gnupg, store };
        let uid = "ecr-login e2e <e2e@example.invalid>";
        pass.run(
            "gpg",
            &[
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                "default",
                "default",
                "never",
            ],
        );
        let keys = pass.run("gpg", &["--with-colons", "--list-secret-keys", uid]);
        let fingerprint = String::from_utf8_lossy(&keys.stdout)
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_string())
            })
            .expect("the test key's fingerprint");
        pass.run("pass", &["init", &fingerprint]);
        pass
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GNUPGHOME".into(), self.gnupg.display().to_string()),
            (
                "PASSWORD_STORE_DIR".into(),
                self.store.display().to_string(),
            ),
        ]
    }

    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let out = Command::new(program)
            .args(args)
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The servers `docker-credential-pass list` knows.
    fn servers(&self) -> Vec<String> {
        let out = self.run("docker-credential-pass", &["list"]);
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&out.stdout).unwrap();
        map.keys().cloned().collect()
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", &self.gnupg)
            .status();
    }
}

fn write_configs(w: &World, fallback: Option<&str>) {
    std::fs::write(
        w.path("home/.docker/config.json"),
        "{\n\t\"credsStore\": \"ecr-login\"\n}\n",
    )
    .unwrap();
    let store = fallback.map_or_else(String::new, |f| format!("[store]\nfallback = \"{f}\"\n"));
    std::fs::write(
        w.path("ecr-login.toml"),
        format!(
            "[registries.\"{}\"]\necr = \"123456789012.dkr.ecr.us-east-1.amazonaws.com\"\n{store}",
            w.registry
        ),
    )
    .unwrap();
}

fn login(w: &World, registry: &str) {
    let mut cmd = w.client("docker", false);
    cmd.args(["login", registry, "-u", "alice", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"alice-pw").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "docker login: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        w.logs()
    );
}

/// `docker-credential-ecr-login list`, as the client runs it.
fn our_list(w: &World) -> serde_json::Value {
    let mut cmd = w.client("docker-credential-ecr-login", false);
    cmd.arg("list");
    serde_json::from_slice(&w.run("list", cmd).stdout).unwrap()
}

/// The same flow through any store: ECR with no login, a login elsewhere, a push there,
/// a logout, and an anonymous pull from a registry nobody has credentials for.
fn flow(w: &World, cached: bool, stored: &dyn Fn() -> bool) {
    let calls = w.fake.token_calls();
    let image = format!("{}/app:1", w.registry);
    import_image(w, &image);
    w.docker(&["push", &image], true);
    let fetched = usize::from(!cached);
    assert_eq!(
        w.fake.token_calls(),
        calls + fetched,
        "ECR with no login and no credHelpers"
    );

    login(w, &w.plain_registry);
    assert!(stored(), "the login is not in the store");
    assert!(
        our_list(w).get(&w.plain_registry).is_some(),
        "{}",
        our_list(w)
    );
    let plain = format!("{}/plain:1", w.plain_registry);
    w.docker(&["tag", &image, &plain], false);
    w.docker(&["push", &plain], false);
    w.docker(&["logout", &w.plain_registry], false);
    assert!(!stored(), "docker logout left the login in the store");

    let open = format!("{}/open:1", w.open_registry);
    w.docker(&["tag", &image, &open], false);
    w.docker(&["push", &open], false);
    w.docker(&["rmi", &open], false);
    w.docker(&["pull", &open], false);
    assert_eq!(
        w.fake.token_calls(),
        calls + fetched,
        "no other registry touched AWS"
    );
}

#[test]
#[ignore = "needs root, dockerd, docker, docker-registry, htpasswd, pass and docker-credential-pass: tests/run-all.sh runs it"]
fn docker_with_ecr_login_as_the_creds_store() {
    let mut w = setup();
    let pass = Pass::new(&w.path("pass"));
    w.env = pass.env();

    // 1. Fallback: pass.
    write_configs(&w, Some("pass"));
    let plain = w.plain_registry.clone();
    flow(&w, false, &|| pass.servers().contains(&plain));

    // 2. No fallback named: our own file store, files only the user can read, and the
    //    token cache untouched by logins to other registries.
    write_configs(&w, None);
    let cache_before = listing(&w.path("cache"));
    let logins = w.path("home/.local/share/ecr-login/logins");
    flow(&w, true, &|| {
        let files = listing(&logins);
        for f in &files {
            let mode = std::fs::metadata(logins.join(f)).unwrap().permissions();
            assert_eq!(
                std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
                0o600,
                "{f}"
            );
        }
        files.iter().any(|f| f.ends_with(".json"))
    });
    let entries = |l: Vec<String>| l.into_iter().filter(|f| f.ends_with(".json")).count();
    assert_eq!(
        entries(listing(&w.path("cache"))),
        entries(cache_before),
        "a login to another registry touched the token cache"
    );
    assert!(
        pass.servers().is_empty(),
        "pass was used without being named"
    );
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Issue 23 end to end: `configure --store` over Docker Desktop's layout, a push, then
/// Desktop sets `credsStore` back to `desktop` (another process rewrites the file). The
/// daemon puts it back within 70 s (at once, through inotify, here) and a real `docker
/// pull` works with no command run.
#[test]
#[ignore = "needs root, dockerd, docker and docker-registry: tests/run-all.sh runs it"]
fn docker_desktop_taking_the_creds_store_back_is_repaired() {
    let mut w = setup();
    let helpers = w.path("helpers");
    super::support::harness::not_found_helper(&helpers, "desktop");
    w.env = vec![(
        "PATH".into(),
        format!(
            "{}:{}:{}",
            w.bin_dir().display(),
            helpers.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    )];
    let docker_config = w.path("home/.docker/config.json");
    let layout = "{\n\t\"auths\": {},\n\t\"credsStore\": \"desktop\",\n\t\"currentContext\": \"desktop-linux\"\n}\n";
    std::fs::write(&docker_config, layout).unwrap();
    std::fs::write(
        w.path("ecr-login.toml"),
        format!(
            "[registries.\"{}\"]\necr = \"123456789012.dkr.ecr.us-east-1.amazonaws.com\"\n",
            w.registry
        ),
    )
    .unwrap();
    let mut configure = w.client("docker-credential-ecr-login", true);
    configure.args(["configure", "--store"]);
    w.run("configure --store", configure);
    let image = format!("{}/app:1", w.registry);
    import_image(&w, &image);
    w.docker(&["push", &image], true);

    let mut daemon = w.client("docker-credential-ecr-login", true);
    daemon.arg("daemon");
    let daemon = Daemon::options()
        .log("info")
        .notify()
        .spawn(daemon, &w.path(""));
    // After its first scan.
    daemon.wait_ready();
    let mark = daemon.mark();
    // Docker Desktop starts: its own write of the whole file.
    let now = std::fs::read_to_string(&docker_config).unwrap();
    let reset = now.replace(
        "\"credsStore\": \"ecr-login\"",
        "\"credsStore\": \"desktop\"",
    );
    assert_ne!(reset, now);
    let tmp = w.path("home/.docker/config.json.desktop");
    std::fs::write(&tmp, &reset).unwrap();
    std::fs::rename(&tmp, &docker_config).unwrap();
    // The file and our config both written.
    daemon.wait_for_report("set it back to ecr-login", mark, Duration::from_secs(70));
    let repaired = std::fs::read_to_string(&docker_config).unwrap();
    assert!(
        repaired.contains("\"credsStore\": \"ecr-login\""),
        "not repaired: {repaired}"
    );
    assert!(
        repaired.contains(&format!("\"{}\": \"ecr-login\"", w.registry)),
        "not pinned: {repaired}"
    );
    let config = std::fs::read_to_string(w.path("ecr-login.toml")).unwrap();
    assert!(config.contains("fallback = \"desktop\""), "{config}");
    w.docker(&["rmi", &image], false);
    w.docker(&["pull", &image], true);
    drop(daemon);
}
