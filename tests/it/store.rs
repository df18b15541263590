//! Issue 15, through the real binaries: ecr-login as Docker's `credsStore`. ECR registries
//! are ours; every other registry goes byte for byte to the fallback helper, or into our
//! own file store when none is named. (With real Docker and `pass`: `e2e.rs`.)

use crate::support::harness::*;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A credential helper that logs each call and answers as told by files beside it:
/// `get.out` / `get.err` / `get.code` for `get`, and so on.
fn fake_helper(s: &mut Sandbox, name: &str) -> PathBuf {
    let dir = s.dir.path().join("helpers");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join(format!("docker-credential-{name}"));
    std::fs::write(
        &script,
        r#"#!/bin/sh
d=$(dirname "$0")
input=$(cat)
printf '%s %s\n' "$1" "$input" >> "$d/calls"
[ -f "$d/$1.out" ] && cat "$d/$1.out"
[ -f "$d/$1.err" ] && cat "$d/$1.err" >&2
exit $(cat "$d/$1.code" 2>/dev/null || echo 0)
"#,
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    s.set("PATH", &path);
    dir
}

fn calls(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("calls")).unwrap_or_default()
}

#[test]
fn other_registries_go_to_the_fallback_byte_for_byte() {
    let mut s = Sandbox::new();
    let dir = fake_helper(&mut s, "fakestore");
    s.write_config("[store]\nfallback = \"fakestore\"\n");
    let answer =
        "{\"ServerURL\":\"ghcr.io\",\"Username\":\"alice\",\"Secret\":\"\\u003cx\\u003e\"}\n";
    std::fs::write(dir.join("get.out"), answer).unwrap();
    std::fs::write(dir.join("get.err"), "its own stderr\n").unwrap();
    let out = s.get("ghcr.io");
    assert_ok(&out);
    assert_eq!(stdout(&out), answer, "its stdout, byte for byte");
    assert_eq!(stderr(&out), "its own stderr\n");
    // Its "not found" stays exact, exit code included.
    std::fs::write(
        dir.join("get.out"),
        "credentials not found in native keychain\n",
    )
    .unwrap();
    std::fs::remove_file(dir.join("get.err")).unwrap();
    std::fs::write(dir.join("get.code"), "1").unwrap();
    let out = s.get("registry.example.com:5000");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "credentials not found in native keychain\n");
    // store and erase: the same stdin.
    let login = r#"{"ServerURL":"ghcr.io","Username":"alice","Secret":"pw"}"#;
    assert_ok(&s.run(&["store"], login.as_bytes()));
    assert_ok(&s.run(&["erase"], b"ghcr.io"));
    assert_eq!(
        calls(&dir),
        format!("get ghcr.io\nget registry.example.com:5000\nstore {login}\nerase ghcr.io\n")
    );
    // ECR is ours: the fallback never sees it, and the cache answers it.
    assert_ok(&s.get(REGISTRY));
    assert!(!calls(&dir).contains(REGISTRY));
    assert_eq!(s.fake.token_calls(), 1);
    assert!(s.entries().len() == 1);
}

#[test]
fn list_merges_ours_with_the_fallbacks() {
    let mut s = Sandbox::new();
    let dir = fake_helper(&mut s, "fakestore");
    s.write_config("[store]\nfallback = \"fakestore\"\n");
    std::fs::write(dir.join("list.out"), "{\"ghcr.io\":\"alice\"}\n").unwrap();
    assert_ok(&s.get(REGISTRY));
    let out = s.run(&["list"], b"unused");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"ghcr.io": "alice", format!("https://{REGISTRY}"): "AWS"})
    );
}

#[test]
fn a_missing_fallback_is_one_clear_line_and_nothing_is_kept() {
    let s = Sandbox::new();
    s.write_config("[store]\nfallback = \"nosuchhelper\"\n");
    let out = s.run(
        &["store"],
        br#"{"ServerURL":"ghcr.io","Username":"alice","Secret":"pw"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains("docker-credential-nosuchhelper is not on PATH")
            && line.contains("[store] fallback"),
        "{line}"
    );
    assert!(
        !s.home().join(".local/share/ecr-login").exists(),
        "kept it elsewhere"
    );
}

/// No fallback named: our own store, 0600 files, apart from the token cache.
#[test]
fn without_a_fallback_logins_stay_in_our_file_store() {
    let s = Sandbox::new();
    let login = r#"{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"alice-pw"}"#;
    let out = s.run(&["store"], login.as_bytes());
    assert_ok(&out);
    let store = s.home().join(".local/share/ecr-login/logins");
    assert!(
        stderr(&out).contains(&store.display().to_string()) && stderr(&out).contains("fallback"),
        "the one-time notice: {}",
        stderr(&out)
    );
    let again = s.run(&["store"], login.as_bytes());
    assert_eq!(stderr(&again), "", "the notice is once");
    assert_eq!(
        stdout(&s.get("127.0.0.1:5000")),
        "{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"alice\",\"Secret\":\"alice-pw\"}\n"
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o700);
    for f in std::fs::read_dir(&store).unwrap().flatten() {
        assert_eq!(mode(&f.path()), 0o600);
    }
    assert!(!s.cache_dir().exists(), "the token cache was touched");
    let list: serde_json::Value =
        serde_json::from_slice(&s.run(&["list"], b"unused").stdout).unwrap();
    assert_eq!(list, serde_json::json!({"127.0.0.1:5000": "alice"}));
    assert_ok(&s.run(&["erase"], b"127.0.0.1:5000"));
    let gone = s.get("127.0.0.1:5000");
    assert_eq!(stdout(&gone), "credentials not found in native keychain\n");
    assert_eq!(gone.status.code(), Some(1));
    assert_eq!(s.fake.token_calls(), 0);
}

/// Docker Desktop's layout: `credsStore: desktop`, `credHelpers`, `auths`, unknown keys.

#[test]
fn configure_store_from_docker_desktop_and_back() {
    let mut s = Sandbox::new();
    let path = s.write_docker_config(DESKTOP);
    let out = s.configure(&["--store"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("credsStore: \"desktop\" -> \"ecr-login\""),
        "{text}"
    );
    assert!(
        text.contains(&format!("credHelpers[\"{REGISTRY}\"] is now redundant")),
        "{text}"
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        DESKTOP.replace(
            "\"credsStore\": \"desktop\"",
            "\"credsStore\": \"ecr-login\""
        )
    );
    let config = std::fs::read_to_string(s.config_path()).unwrap();
    assert!(
        config.contains("fallback = \"desktop\"") && config.contains("previous = \"desktop\""),
        "{config}"
    );
    // Idempotent.
    let again = s.run(&["configure", "--store"], b"");
    assert_contains(&stdout(&again), "nothing changed");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
    // --remove --store puts desktop back, byte for byte; our credHelpers entries stay.
    let out = s.run(&["configure", "--remove", "--store"], b"");
    assert_ok(&out);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DESKTOP);
    assert_eq!(s.fake.token_calls(), 0);
}

/// Runs `cmd` with `stdin`, to completion.
fn run_cmd(mut cmd: std::process::Command, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Issue 22: `PATH=./node_modules/.bin:$PATH` (or a trailing `:`) ran a
/// `docker-credential-desktop` from the repository being built, and handed it every
/// password. Relative and empty entries are skipped, and so is a file that is not
/// executable.
#[test]
fn the_fallback_is_never_run_from_the_current_directory() {
    let mut s = Sandbox::new();
    let repo = s.dir.path().join("repo");
    let dir = fake_helper(&mut s, "fakestore");
    let planted = repo.join("node_modules/.bin");
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::rename(
        dir.join("docker-credential-fakestore"),
        planted.join("docker-credential-fakestore"),
    )
    .unwrap();
    s.write_config("[store]\nfallback = \"fakestore\"\n");
    let login = br#"{"ServerURL":"ghcr.io","Username":"alice","Secret":"pw"}"#;
    for path in [
        "node_modules/.bin",
        "./node_modules/.bin:/usr/bin:/bin",
        ":/usr/bin",
    ] {
        s.set("PATH", path);
        for dir_of in [repo.join("node_modules/.bin"), repo.clone()] {
            let mut cmd = s.command(&["store"]);
            cmd.current_dir(&dir_of);
            let out = run_cmd(cmd, login);
            assert_eq!(out.status.code(), Some(1), "PATH={path}");
            assert_contains(&stdout(&out), "is not on PATH");
        }
    }
    assert_eq!(calls(&planted), "", "the planted helper ran");
    // Not executable: skipped too.
    std::fs::set_permissions(
        planted.join("docker-credential-fakestore"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    s.set("PATH", &format!("{}:/usr/bin:/bin", planted.display()));
    let out = s.run(&["store"], login);
    assert_contains(&stdout(&out), "is not on PATH");
}

/// A fallback another user can replace is refused, naming why, before it sees a password.
#[test]
fn a_fallback_others_can_write_is_refused() {
    let mut s = Sandbox::new();
    let dir = fake_helper(&mut s, "fakestore");
    s.write_config("[store]\nfallback = \"fakestore\"\n");
    std::fs::set_permissions(
        dir.join("docker-credential-fakestore"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let out = s.run(
        &["store"],
        br#"{"ServerURL":"ghcr.io","Username":"alice","Secret":"pw"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_contains(&stdout(&out), "writable by other users");
    assert_eq!(calls(&dir), "");
}

/// Issue 22: a fallback that resolves to ecr-login (a symlink, `ECR-Login` on a
/// case-insensitive filesystem, a wrapper script) exec'd itself: 467 execs in 3 s. Each is
/// refused at once with one line.
#[test]
fn a_fallback_that_leads_back_to_us_is_refused() {
    let mut s = Sandbox::new();
    let dir = s.dir.path().join("helpers");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(front(), dir.join("docker-credential-loop")).unwrap();
    let wrapper = dir.join("docker-credential-wrapper");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec {} \"$@\"\n", front().display()),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.set("PATH", &format!("{}:/usr/bin:/bin", dir.display()));
    for (name, said) in [
        ("loop", "ecr-login itself"),
        ("wrapper", "back to ecr-login"),
    ] {
        s.write_config(&format!("[store]\nfallback = \"{name}\"\n"));
        let out = s.get("ghcr.io");
        assert_eq!(out.status.code(), Some(1), "{name}");
        let line = stdout(&out);
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains(said), "{name}: {line}");
    }
    s.write_config("[store]\nfallback = \"ECR-Login\"\n");
    let out = s.get("ghcr.io");
    assert_contains(&stdout(&out), "back to ecr-login itself");
}

/// `configure --store` records where the fallback is: a PATH that changes later never
/// decides which program gets other registries' logins.
#[test]
fn configure_store_records_the_fallbacks_path() {
    let mut s = Sandbox::new();
    let dir = fake_helper(&mut s, "desktop");
    s.write_docker_config(DESKTOP);
    let out = s.configure(&["--store"]);
    assert_ok(&out);
    let config = std::fs::read_to_string(s.config_path()).unwrap();
    let recorded = dir.join("docker-credential-desktop");
    assert!(
        config.contains(&format!("fallback_path = \"{}\"", recorded.display())),
        "{config}"
    );
    // Another docker-credential-desktop first on PATH later: the recorded one still answers.
    let other = s.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(&recorded, other.join("docker-credential-desktop")).unwrap();
    s.set("PATH", &format!("{}:/usr/bin:/bin", other.display()));
    assert_ok(&s.run(&["erase"], b"ghcr.io"));
    assert_eq!(calls(&dir), "erase ghcr.io\n");
    assert_eq!(calls(&other), "");
}

/// Issue 22: an invalid credsStore switched the file, then failed, and lost the value.
/// It is refused before anything is written.
#[test]
fn configure_store_checks_the_previous_store_before_writing() {
    let mut s = Sandbox::new();
    let before = "{\"credsStore\": \"../bad name\"}\n";
    let path = s.write_docker_config(before);
    let out = s.configure(&["--store"]);
    assert_eq!(out.status.code(), Some(1));
    assert_contains(&stderr(&out), "fix it first");
    assert_eq!(std::fs::read_to_string(path).unwrap(), before);
    assert!(!s.config_path().exists());
}
