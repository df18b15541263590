//! The docker credential protocol against a fake ECR endpoint: protocol bytes, cache, single flight,
//! crash safety, failures. Each test names the Go helper complaint it guards against.

use crate::support::fake_ecr::Fault;
use crate::support::harness::*;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

#[test]
fn cold_get_fetches_once_then_hits_the_cache() {
    let s = Sandbox::new();
    s.fake.set_password("pw-one");
    let first = s.get(REGISTRY);
    assert_eq!(
        stdout(&first),
        reply(REGISTRY, "pw-one"),
        "{}",
        stderr(&first)
    );
    assert_ok(&first);
    s.fake.set_password("pw-two");
    for _ in 0..3 {
        let again = s.get(REGISTRY);
        assert_eq!(stdout(&again), reply(REGISTRY, "pw-one"));
    }
    assert_eq!(s.fake.token_calls(), 1, "a cache hit must not call ECR");
    assert_no_secret(&first, "pw-one");
}

/// Clients send the server in many shapes; the reply echoes what was sent.
#[test]
fn every_server_shape_is_one_registry() {
    let s = Sandbox::new();
    s.fake.set_password("pw");
    for server in [
        REGISTRY.to_string(),
        format!("https://{REGISTRY}"),
        format!("{REGISTRY}:443"),
        format!("http://{}/v2/", REGISTRY.to_uppercase()),
        format!("{REGISTRY}/team/app"),
    ] {
        let out = s.run(&["get"], format!("{server} \r\n").as_bytes());
        assert_eq!(stdout(&out), reply(&server, "pw"), "{server}");
    }
    assert_eq!(s.fake.token_calls(), 1);
}

#[test]
fn other_identities_get_their_own_entries() {
    let mut s = Sandbox::new();
    s.write_aws_profiles(&[
        ("dev", "AKIADEVDEVDEVDEVDEV1"),
        ("prod", "AKIAPRODPRODPRODPRO1"),
    ]);
    s.unset("AWS_ACCESS_KEY_ID").unset("AWS_SECRET_ACCESS_KEY");
    s.fake.set_password("pw-dev");
    s.set("AWS_PROFILE", "dev");
    assert_eq!(stdout(&s.get(REGISTRY)), reply(REGISTRY, "pw-dev"));
    s.fake.set_password("pw-prod");
    s.set("AWS_PROFILE", "prod");
    assert_eq!(stdout(&s.get(REGISTRY)), reply(REGISTRY, "pw-prod"));
    s.set("AWS_PROFILE", "dev");
    assert_eq!(stdout(&s.get(REGISTRY)), reply(REGISTRY, "pw-dev"));
    assert_eq!(s.fake.token_calls(), 2);
    assert_eq!(s.entries().len(), 2);
    assert_eq!(
        s.token_signers(),
        ["AKIADEVDEVDEVDEVDEV1", "AKIAPRODPRODPRODPRO1"]
    );
}

/// Go helper: 20 parallel pulls made 20 API calls.
#[test]
fn parallel_cold_gets_make_one_api_call() {
    let s = Sandbox::new();
    s.fake.set_password("pw-shared");
    // Slow enough that every process arrives while the first is still fetching.
    s.fake.push_fault(Fault::Delay(Duration::from_millis(700)));
    let children: Vec<_> = (0..32)
        .map(|_| s.spawn(&["get"], REGISTRY.as_bytes()))
        .collect();
    s.assert_one_call_answered_all(children, "pw-shared");
}

/// Go helper: 20 parallel gets for 20 registries kept only 12-14 entries.
#[test]
fn parallel_gets_for_many_registries_keep_every_entry() {
    let s = Sandbox::new();
    s.fake.set_password("pw");
    let registries: Vec<String> = (0..20)
        .map(|i| format!("1234567890{i:02}.dkr.ecr.us-west-2.amazonaws.com"))
        .collect();
    let children: Vec<_> = registries
        .iter()
        .map(|r| s.spawn(&["get"], r.as_bytes()))
        .collect();
    for child in children {
        assert_ok(&child.wait_with_output().unwrap());
    }
    assert_eq!(s.entries().len(), 20);
    assert_eq!(s.fake.token_calls(), 20);
    for r in &registries {
        assert_eq!(stdout(&s.get(r)), reply(r, "pw"));
    }
    assert_eq!(s.fake.token_calls(), 20, "every entry is a hit");
}

#[test]
fn killed_mid_fetch_leaves_no_partial_entry() {
    let s = Sandbox::new();
    s.fake.set_password("pw-after");
    s.fake.push_fault(Fault::Delay(Duration::from_secs(3)));
    let mut child = s.spawn(&["get"], REGISTRY.as_bytes());
    // Wait until the request is in flight, then kill the helper.
    s.fake.wait_for_token_calls(1, Duration::from_secs(10));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        s.entries().is_empty(),
        "no entry may appear from a killed fetch"
    );
    let out = s.get(REGISTRY);
    assert_eq!(
        stdout(&out),
        reply(REGISTRY, "pw-after"),
        "{}",
        stderr(&out)
    );
    assert_eq!(s.stray_files(), Vec::<std::path::PathBuf>::new());
    for entry in s.entries() {
        let text = std::fs::read_to_string(&entry).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["registry"], REGISTRY, "{text}");
    }
}

#[test]
fn throttling_then_success_within_the_retry_budget() {
    let s = Sandbox::new();
    s.fake.set_password("pw");
    s.fake.push_fault(Fault::Throttle);
    s.fake.push_fault(Fault::Throttle);
    let out = s.get(REGISTRY);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw"), "{}", stderr(&out));
    assert_eq!(s.fake.token_calls(), 3);
}

/// Go helper: returned the old token even when expired if the refresh failed.
#[test]
fn failures_are_actionable_and_never_serve_an_expired_token() {
    let s = Sandbox::new();
    s.fake.set_password("pw-old");
    assert_ok(&s.get(REGISTRY));
    s.expire_entries();
    s.fake.set_fault(Some(Fault::Deny));
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(!line.contains("pw-old"), "served an expired token");
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with(&format!("ECR token for {REGISTRY}: access denied")),
        "{line}"
    );
    assert!(line.contains("ecr:GetAuthorizationToken"), "{line}");
    assert!(stderr(&out).contains("access denied"));

    s.fake.set_fault(Some(Fault::ServerError));
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    assert_contains(&stdout(&out), "internal error");
    assert!(!stdout(&out).contains("pw-old"));
}

/// Go helper: `get` hung 10-20 s without credentials, and panicked on a missing profile.
#[test]
fn no_credentials_fails_fast_with_what_to_do() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let start = Instant::now();
    let out = s.get(REGISTRY);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(line.contains("no AWS credentials"), "{line}");
    assert!(
        line.contains("aws configure") && line.contains("aws sso login"),
        "{line}"
    );
    assert_eq!(s.fake.token_calls(), 0);

    s.set("AWS_PROFILE", "missing");
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_contains(&stdout(&out), "missing");
}

/// Issue 13: whatever is not ours, parseable or not, gets the exact "not found" reply, so
/// the client goes on anonymously and quietly.
#[test]
fn non_ecr_hosts_are_not_found_and_spoofs_get_nothing() {
    let s = Sandbox::new();
    for server in [
        "123456789012.dkr.ecr.us-east-1.amazon\u{0430}ws.com",
        "user@123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "ftp://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.s3.amazonaws.com",
        "a b c",
        "docker.io",
        "registry-1.docker.io",
        "ghcr.io",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.fake.example.com",
        "public.ecr.aws.evil.com",
        "127.0.0.1:5000",
    ] {
        let out = s.get(server);
        assert_eq!(
            stdout(&out),
            "credentials not found in native keychain\n",
            "{server}"
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stderr(&out), "", "not-found is an answer, not an error");
    }
    assert_eq!(s.fake.token_calls(), 0);
}

#[test]
fn bad_stdin_is_a_clear_error() {
    let s = Sandbox::new();
    let big = vec![b'a'; 64 * 1024 + 1];
    for (input, needle) in [
        (&big[..], "larger than 64 KiB"),
        (&[0xff, 0xfe, 0x00][..], "not UTF-8"),
        (&b""[..], "no credentials server URL"),
    ] {
        let out = s.run(&["get"], input);
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout(&out).contains(needle), "{needle}: {}", stdout(&out));
    }
    assert_eq!(s.fake.token_calls(), 0);
}

/// Go helper: `docker login` failed with "not implemented".
#[test]
fn store_then_get_without_credentials_then_erase() {
    let mut s = Sandbox::new();
    s.without_credentials();
    let login =
        format!("{{\"ServerURL\":\"{REGISTRY}\",\"Username\":\"AWS\",\"Secret\":\"pw-login\"}}");
    let out = s.run(&["store"], login.as_bytes());
    assert_ok(&out);
    assert_eq!(stdout(&out), "");
    assert_eq!(stdout(&s.get(REGISTRY)), reply(REGISTRY, "pw-login"));
    assert_eq!(
        stdout(&s.run(&["list"], b"unused")),
        format!("{{\"https://{REGISTRY}\":\"AWS\"}}\n")
    );
    let out = s.run(&["erase"], REGISTRY.as_bytes());
    assert_ok(&out);
    assert!(s.entries().is_empty());
    assert_eq!(stdout(&s.run(&["list"], b"")), "{}\n");
    assert_eq!(
        s.get(REGISTRY).status.code(),
        Some(1),
        "no credentials after logout"
    );
    assert_eq!(s.fake.token_calls(), 0, "store/erase/list never call AWS");
}

#[test]
fn store_and_erase_for_other_registries_never_touch_the_token_cache() {
    let s = Sandbox::new();
    let out = s.run(
        &["store"],
        br#"{"ServerURL":"https://index.docker.io/v1/","Username":"me","Secret":"x"}"#,
    );
    assert_ok(&out);
    assert!(
        s.run(&["erase"], b"https://index.docker.io/v1/")
            .status
            .success()
    );
    assert!(s.entries().is_empty());
    let out = s.run(&["store"], b"{not json");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("store expects"));
}

#[test]
fn list_answers_from_the_cache_only() {
    let s = Sandbox::new();
    assert_ok(&s.get(REGISTRY));
    assert_ok(&s.get("public.ecr.aws"));
    let calls = s.fake.token_calls();
    let out = s.run(&["list"], b"unused");
    assert_eq!(
        stdout(&out),
        format!("{{\"https://{REGISTRY}\":\"AWS\",\"https://public.ecr.aws\":\"AWS\"}}\n")
    );
    assert_eq!(s.fake.token_calls(), calls);
}

#[test]
fn cache_files_are_private_and_secrets_stay_in_them() {
    let s = Sandbox::new();
    s.fake.set_password("pw-private");
    let out = s.get(REGISTRY);
    assert_no_secret(&out, "pw-private");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&s.cache_dir()), 0o700);
    for f in std::fs::read_dir(s.cache_dir()).unwrap().flatten() {
        assert_eq!(mode(&f.path()), 0o600, "{}", f.path().display());
    }
    let status = s.run(&["status", "--json"], b"");
    assert_ok(&status);
    assert!(!stdout(&status).contains("pw-private"));
    assert!(stdout(&status).contains(REGISTRY));
}

#[test]
fn corrupt_entries_are_misses_repaired_by_the_next_fetch() {
    let s = Sandbox::new();
    let entry = s.fetched_entry("pw");
    std::fs::write(&entry, "{\"truncated\": ").unwrap();
    let out = s.get(REGISTRY);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw"));
    assert_contains(&stderr(&out), "corrupt");
    assert_eq!(s.fake.token_calls(), 2);
    let out = s.get(REGISTRY);
    assert_eq!(stderr(&out), "", "repaired");
    assert_eq!(s.fake.token_calls(), 2);
}

#[test]
fn disabled_cache_fetches_every_time_and_writes_nothing() {
    let mut s = Sandbox::new();
    s.set("AWS_ECR_DISABLE_CACHE", "1");
    assert_ok(&s.get(REGISTRY));
    assert_ok(&s.get(REGISTRY));
    assert_eq!(s.fake.token_calls(), 2);
    assert!(!s.cache_dir().exists());
}

#[test]
fn an_unsafe_cache_dir_is_refused_but_get_still_answers() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.cache_dir()).unwrap();
    std::fs::set_permissions(s.cache_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_contains(&stderr(&out), "writable by other users");
    assert!(s.entries().is_empty());
}

/// Some ECR test doubles always answer with an `expiresAt` in 2015 (SPEC addendum).
#[test]
fn a_token_expired_on_arrival_is_served_once_with_a_warning_and_not_cached() {
    let s = Sandbox::new();
    s.fake.set_password("pw-2015");
    s.fake.set_expires_at(Some(1_430_000_000.0));
    let out = s.get(REGISTRY);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw-2015"));
    assert_contains(&stderr(&out), "clock");
    assert!(s.entries().is_empty());
}

/// Issue 27 (L4): `expiresAt = -1e16` wrapped in `secs * 1000` and was cached as valid for
/// 97 billion days, never renewed. An expiry that overflows, or lies more than 7 days
/// ahead (ECR issues 12 h tokens), is a malformed answer: refused and never cached. A
/// sane one still works.
#[test]
fn an_expires_at_out_of_range_is_a_malformed_answer_never_cached() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for (expires_at, served) in [
        (-1e16, false),
        (1e16, false),
        (1e300, false),
        (now + 30.0 * 86_400.0, false),
        (now + 12.0 * 3600.0, true),
    ] {
        let s = Sandbox::new();
        s.fake.set_password("pw-range");
        s.fake.set_expires_at(Some(expires_at));
        let out = s.get(REGISTRY);
        if served {
            assert_eq!(stdout(&out), reply(REGISTRY, "pw-range"), "{expires_at}");
            assert_eq!(s.entries().len(), 1, "{expires_at}: not cached");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{expires_at}: {}", stdout(&out));
        let line = stdout(&out);
        assert!(!line.contains("pw-range"), "{expires_at}: served: {line}");
        assert_contains(&line, "expiresAt");
        assert!(s.entries().is_empty(), "{expires_at}: cached");
    }
}

#[test]
fn version_touches_nothing() {
    let s = Sandbox::new();
    for arg in ["version", "--version", "-v"] {
        let out = s.run(&[arg], b"");
        assert_ok(&out);
        assert_eq!(stdout(&out), version_line());
    }
    assert!(!s.cache_dir().exists());
}

/// The front binary answers hits alone (no AWS code linked); a miss needs the full binary
/// beside it, and without one it says so instead of failing obscurely.
#[test]
fn the_front_binary_answers_hits_without_the_full_one() {
    let s = Sandbox::new();
    s.fake.set_password("pw-front");
    assert_ok(&s.get(REGISTRY));
    let alone = s.dir.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    let front = alone.join("docker-credential-ecr-login");
    std::fs::copy(crate::support::harness::front(), &front).unwrap();
    let run = |server: &str| {
        let mut child = s
            .command_of(&front, &["get"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(server.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let hit = run(REGISTRY);
    assert_eq!(
        stdout(&hit),
        reply(REGISTRY, "pw-front"),
        "{}",
        stderr(&hit)
    );
    let miss = run("210987654321.dkr.ecr.eu-west-1.amazonaws.com");
    assert_eq!(miss.status.code(), Some(1));
    assert!(
        stdout(&miss).contains("cannot run") && stdout(&miss).contains("ecr-login"),
        "{}",
        stdout(&miss)
    );
    // Bazel's requests take the same path: a hit is answered alone, a miss handed off.
    let bazel = run(&format!(r#"{{"uri":"https://{REGISTRY}/v2/"}}"#));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&bazel)).unwrap();
    let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "AWS:pw-front");
    assert_eq!(
        answer["headers"]["Authorization"],
        serde_json::json!([format!("Basic {basic}")]),
        "{}",
        stderr(&bazel)
    );
    let bazel_miss = run(r#"{"uri":"https://210987654321.dkr.ecr.eu-west-1.amazonaws.com/v2/"}"#);
    assert_eq!(bazel_miss.status.code(), Some(1));
    assert!(
        stderr(&bazel_miss).contains("cannot run"),
        "{}",
        stderr(&bazel_miss)
    );
    assert_eq!(s.fake.token_calls(), 1);
}

/// Issue 19: a failed write of the answer (a full disk, a closed descriptor) exited 0, as if
/// Docker had its credentials. It exits 1 and says why on stderr; a reader that went away
/// (a closed pipe) is no error.
#[test]
fn a_failed_answer_write_is_a_failure_and_a_closed_pipe_is_not() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let s = Sandbox::new();
    assert_ok(&s.get(REGISTRY));
    for args in [&["get"][..], &["version"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut cmd = s.command(args);
        cmd.stdout(full)
            .stderr(std::process::Stdio::piped())
            .stdin(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        // `version` reads no stdin and may be gone before we write.
        let _ = child.stdin.take().unwrap().write_all(REGISTRY.as_bytes());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_contains(&stderr(&out), "cannot write the answer to standard output");
    }
    // A pipe whose reader is already gone.
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both are fresh descriptors nobody else owns.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    let mut cmd = s.command(&["version"]);
    cmd.stdout(writer).stderr(std::process::Stdio::piped());
    let out = cmd.output().unwrap();
    assert!(out.stdout.is_empty(), "stdout was not the closed pipe");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "", "a closed pipe is not worth a line");
}
