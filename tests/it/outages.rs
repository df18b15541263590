//! Issue 13, through the real binaries: a hung ECR makes parallel misses share one
//! attempt instead of queueing, a stuck lock holder costs a bounded wait, and a broken
//! cache directory makes the daemon wait, not storm.

use crate::support::daemon::Daemon;
use crate::support::fake_ecr::Fault;
use crate::support::harness::*;
use crate::support::wait::wait_for;
use std::time::{Duration, Instant};

fn kubelet_request() -> String {
    format!(
        r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"{REGISTRY}/app:1"}}"#
    )
}

/// 8 parallel requests while ECR hangs, with `timeout = "1s"`: the first to take the lock
/// makes the one attempt; the others wait for it and answer with its failure at once: all
/// within 2.5 s, with at most 2 API calls.
fn parallel_against_a_hung_endpoint(args: &[&str], stdin: &[u8]) {
    let s = Sandbox::new();
    s.write_config("timeout = \"1s\"\n");
    s.fake.set_fault(Some(Fault::Hang));
    let start = Instant::now();
    let children: Vec<_> = (0..8).map(|_| s.spawn(args, stdin)).collect();
    let mut slowest = Duration::ZERO;
    for child in children {
        let out = child.wait_with_output().unwrap();
        slowest = slowest.max(start.elapsed());
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        assert_contains(&stderr(&out), "did not answer in time");
    }
    let calls = s.fake.token_calls();
    eprintln!(
        "figure: 8 parallel {args:?} against a hung ECR: last answer after {slowest:?}, {calls} API calls"
    );
    assert!(
        slowest < Duration::from_millis(2500),
        "the last answered after {slowest:?}"
    );
    assert!(calls <= 2, "{calls} API calls");
}

#[test]
fn parallel_gets_share_one_attempt_against_a_hung_endpoint() {
    parallel_against_a_hung_endpoint(&["get"], REGISTRY.as_bytes());
}

#[test]
fn parallel_kubelet_requests_share_one_attempt_against_a_hung_endpoint() {
    parallel_against_a_hung_endpoint(&["kubelet"], kubelet_request().as_bytes());
}

/// A process that holds an entry's lock and never lets go (here: this test, with
/// `flock(2)`) costs a `get` the budget plus a grace, then an answer naming the lock and
/// its holder.
#[test]
fn a_held_lock_costs_a_bounded_wait() {
    let s = Sandbox::new();
    s.write_config("timeout = \"1s\"\n");
    assert_ok(&s.get(REGISTRY));
    let entry = s.entries().pop().unwrap();
    s.expire_entries();
    let lock_path = entry.with_extension("lock");
    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    let start = Instant::now();
    let out = s.get(REGISTRY);
    let took = start.elapsed();
    eprintln!("figure: get behind a held lock answered after {took:?}");
    assert!(took < Duration::from_secs(2), "waited {took:?}");
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert!(line.contains(&lock_path.display().to_string()), "{line}");
    assert!(
        line.contains(&format!("process {}", std::process::id())),
        "{line}"
    );
    assert_eq!(s.fake.token_calls(), 1, "no fetch behind the holder's back");
    drop(lock);
    assert_ok(&s.get(REGISTRY));
}

/// The daemon whose cache directory is replaced by a file: no API call while it cannot
/// keep a token, the problem logged once, and renewal again once the directory can be
/// recreated.
#[test]
fn the_daemon_waits_out_an_unusable_cache_dir() {
    let s = Sandbox::new();
    s.write_config(&keep_warm(&[REGISTRY]));
    let d = Daemon::options().log("info").notify().start(&s);
    d.wait_ready();
    assert_eq!(s.fake.token_calls(), 1);
    // A file where the directory was: nothing can be created there.
    std::fs::remove_dir_all(s.cache_dir()).unwrap();
    std::fs::write(s.cache_dir(), "not a directory").unwrap();
    // The daemon notices at its next scan (at most a minute; here, a minute is too long to
    // wait, so nudge it with SIGHUP, which reloads and rescans).
    d.signal(libc::SIGHUP);
    // A measuring window: any call in it fails the test, at once.
    let called = wait_for(Duration::from_secs(10), s.fake.token_called(), || {
        s.fake.token_calls() > 1
    });
    assert!(!called, "called AWS for a token it could not keep");
    assert_eq!(s.fake.token_calls(), 1);
    std::fs::remove_file(s.cache_dir()).unwrap();
    // Logged once the entry is written.
    d.wait_for_log(
        &format!("renewed {REGISTRY} again after"),
        Duration::from_secs(30),
    );
    assert!(
        !s.entries().is_empty(),
        "no entry after the directory came back"
    );
    let (_, log) = d.stop();
    assert_eq!(s.fake.token_calls(), 2, "{log}");
    let complaints = log.lines().filter(|l| l.contains("renewals wait")).count();
    assert!(
        (1..=2).contains(&complaints),
        "logged {complaints} times:\n{log}"
    );
    assert!(log.contains("again after"), "{log}");
}
