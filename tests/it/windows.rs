//! Issue 14: the Windows build against the fake ECR endpoint on 127.0.0.1, run by
//! [`Runner`]: here under wine 8.0 (Windows itself is not run here), on Windows natively.
//! `tests/windows/run.sh` cross-builds both `.exe` files, prepares a wine prefix and runs
//! these with `ECR_LOGIN_WINDOWS_BIN` set.

use crate::support::fake_ecr::Fault;
use crate::support::harness::*;
use crate::support::windows::Runner;
use std::process::{Child, Output};
use std::time::Duration;

const FRONT: &str = "docker-credential-ecr-login.exe";

/// The front `.exe` of the Windows build, run by the [`Runner`] the environment names.
fn run(s: &Sandbox, args: &[&str], stdin: &[u8]) -> Output {
    let runner = Runner::from_env();
    runner.run(s, &runner.exe(FRONT), args, stdin)
}

#[test]
#[ignore = "needs the Windows build and wine: tests/windows/run.sh"]
fn version_under_wine() {
    let s = Sandbox::new();
    let out = run(&s, &["version"], b"");
    assert_ok(&out);
    assert_eq!(stdout(&out), version_line());
}

/// A miss goes through the full binary (a child on Windows) to the fake; the hit after it
/// is answered by the front binary alone, even with the full one gone.
#[test]
#[ignore = "needs the Windows build and wine: tests/windows/run.sh"]
fn a_miss_through_the_full_binary_then_a_hit_alone() {
    let s = Sandbox::new();
    s.fake.set_password("pw-windows");
    let out = run(&s, &["get"], REGISTRY.as_bytes());
    assert_eq!(
        stdout(&out),
        reply(REGISTRY, "pw-windows"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(s.fake.token_calls(), 1);

    let runner = Runner::from_env();
    let alone = s.dir.path().join("alone").join(FRONT);
    std::fs::create_dir(alone.parent().unwrap()).unwrap();
    std::fs::copy(runner.exe(FRONT), &alone).unwrap();
    let hit = runner.run(&s, &alone, &["get"], REGISTRY.as_bytes());
    assert_eq!(
        stdout(&hit),
        reply(REGISTRY, "pw-windows"),
        "{}",
        stderr(&hit)
    );
    assert_eq!(s.fake.token_calls(), 1, "a hit made a call");
    // A miss needs the full binary: without it, one clear line and exit 1.
    let other = b"210987654321.dkr.ecr.eu-west-1.amazonaws.com";
    let miss = runner.run(&s, &alone, &["get"], other);
    assert_eq!(miss.status.code(), Some(1));
    assert_contains(&stdout(&miss), "cannot run");
    assert_contains(&stdout(&miss), "ecr-login.exe");
}

/// The hand-off passes the full binary's stdout and exit code through exactly.
#[test]
#[ignore = "needs the Windows build and wine: tests/windows/run.sh"]
fn the_hand_off_passes_errors_and_exit_codes_through() {
    let s = Sandbox::new();
    s.fake.set_fault(Some(Fault::Deny));
    let out = run(&s, &["get"], REGISTRY.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with(&format!("ECR token for {REGISTRY}: access denied")),
        "{line}"
    );
    // A human command through the front: clap's usage error is exit 2.
    let bad = run(&s, &["status", "--no-such-flag"], b"");
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let status = run(&s, &["status", "--json"], b"");
    assert_ok(&status);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["daemon"]["running"], false);
}

#[test]
#[ignore = "needs the Windows build and wine: tests/windows/run.sh"]
fn store_get_list_erase_under_wine() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let login =
        format!("{{\"ServerURL\":\"{REGISTRY}\",\"Username\":\"AWS\",\"Secret\":\"pw-login\"}}");
    let out = run(&s, &["store"], login.as_bytes());
    assert_ok(&out);
    assert_eq!(
        stdout(&run(&s, &["get"], REGISTRY.as_bytes())),
        reply(REGISTRY, "pw-login")
    );
    assert_eq!(
        stdout(&run(&s, &["list"], b"unused")),
        format!("{{\"https://{REGISTRY}\":\"AWS\"}}\n")
    );
    assert_ok(&run(&s, &["erase"], REGISTRY.as_bytes()));
    assert_eq!(stdout(&run(&s, &["list"], b"unused")), "{}\n");
    assert_eq!(s.fake.token_calls(), 0);
}

#[test]
#[ignore = "needs the Windows build and wine: tests/windows/run.sh"]
fn not_ours_is_the_exact_not_found_reply() {
    let s = Sandbox::new();
    for server in [
        "docker.io",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
    ] {
        let out = run(&s, &["get"], server.as_bytes());
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stdout(&out),
            "credentials not found in native keychain\n",
            "{server}"
        );
    }
    assert_eq!(s.fake.token_calls(), 0);
}

/// The cache's lock works on Windows (LockFileEx): 8 parallel cold gets, one call.
#[test]
#[ignore = "needs the Windows build and wine: tests/windows/run.sh"]
fn parallel_cold_gets_make_one_call_under_wine() {
    let s = Sandbox::new();
    s.fake.set_password("pw-shared");
    s.fake.push_fault(Fault::Delay(Duration::from_millis(1500)));
    let runner = Runner::from_env();
    let children: Vec<Child> = (0..8)
        .map(|_| runner.spawn(&s, &runner.exe(FRONT), &["get"], REGISTRY.as_bytes()))
        .collect();
    s.assert_one_call_answered_all(children, "pw-shared");
}
