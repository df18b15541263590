//! The renewal daemon as a real process against the fake ECR endpoint: its systemd contract
//! (READY over `$NOTIFY_SOCKET`, SIGTERM, SIGHUP, one per cache dir). Its schedule, backoff
//! and outages are tested under paused time in `renewal.rs`.

use crate::support::daemon::Daemon;
use crate::support::fake_ecr::Fault;
use crate::support::harness::*;
use crate::support::wait::wait_for;
use std::time::{Duration, Instant};

/// The daemon as systemd runs it: `$NOTIFY_SOCKET`, `info` logs.
fn start(s: &Sandbox) -> Daemon {
    Daemon::options().log("info").notify().start(s)
}

/// [`start`], READY, for a sandbox whose config keeps `registries` warm.
fn ready_keeping_warm(s: &Sandbox, registries: &[&str]) -> Daemon {
    s.write_config(&keep_warm(registries));
    let d = start(s);
    d.wait_ready();
    d
}

/// The daemon is READY over sd_notify once its first scan has warmed what it keeps warm.
#[test]
fn ready_after_the_first_scan() {
    let s = Sandbox::new();
    let d = ready_keeping_warm(&s, &[REGISTRY]);
    assert_eq!(s.fake.token_calls(), 1, "the first scan warms the registry");
    let hit = s.get(REGISTRY);
    assert_ok(&hit);
    assert_eq!(s.fake.token_calls(), 1, "get hits what the daemon fetched");
    let log = d.stop_ok();
    assert!(log.contains(&format!("renewed {REGISTRY}")), "{log}");
}

#[test]
fn sigterm_mid_request_exits_promptly_with_the_cache_intact() {
    let s = Sandbox::new();
    s.write_config(&keep_warm(&[REGISTRY]));
    s.fake.push_fault(Fault::Delay(Duration::from_secs(30)));
    let d = start(&s);
    s.fake.wait_for_token_calls(1, Duration::from_secs(10));
    let stopped = Instant::now();
    let (status, _) = d.stop();
    assert!(
        stopped.elapsed() < Duration::from_secs(2),
        "took {:?}",
        stopped.elapsed()
    );
    assert!(status.success(), "{status:?}");
    assert!(s.entries().is_empty());
    assert!(s.stray_files().is_empty(), "{:?}", s.stray_files());
    // And the cache still works.
    assert_ok(&s.get(REGISTRY));
}

#[test]
fn sighup_reloads_the_config() {
    let s = Sandbox::new();
    let d = ready_keeping_warm(&s, &[]);
    assert_eq!(s.fake.token_calls(), 0);
    s.write_config(&keep_warm(&[REGISTRY]));
    d.signal(libc::SIGHUP);
    // Logged once the entry is written.
    d.wait_for_log(&format!("renewed {REGISTRY}"), Duration::from_secs(10));
    assert!(!s.entries().is_empty(), "no entry after a reload");
    let log = d.stop_ok();
    assert!(log.contains("configuration reloaded"), "{log}");
}

#[test]
fn one_daemon_per_cache_dir() {
    let s = Sandbox::new();
    let d = start(&s);
    d.wait_ready();
    let second = s.run(&["daemon"], b"");
    assert_eq!(second.status.code(), Some(1));
    assert_contains(&stderr(&second), "another daemon");
    let status = s.run(&["status"], b"");
    assert_contains(&stdout(&status), "daemon: running");
    d.stop_ok();
}

/// `refresh` with no argument renews what `get` used, through the same path.
#[test]
fn refresh_renews_what_get_used() {
    let s = Sandbox::new();
    s.fake.set_password("pw-one");
    assert_ok(&s.get(REGISTRY));
    s.fake.set_password("pw-two");
    let refresh = s.run(&["refresh"], b"");
    assert_ok(&refresh);
    assert_contains(&stdout(&refresh), &format!("renewed {REGISTRY}"));
    assert_eq!(stdout(&s.get(REGISTRY)), reply(REGISTRY, "pw-two"));
    assert_eq!(s.fake.token_calls(), 2);
}

/// Issue 22: against an endpoint whose tokens expired in 2015, the real daemon made 637
/// calls in 5 s. It now backs off: a handful of calls in the same 5 s, and one log line
/// that names the clock.
#[test]
fn a_daemon_given_expired_tokens_backs_off() {
    let s = Sandbox::new();
    s.fake.set_expires_at(Some(1_420_070_400.0));
    let d = ready_keeping_warm(&s, &[REGISTRY]);
    // A measuring window, not a synchronisation: the daemon runs freely through it (and a
    // sixth call ends it early: the test has failed by then).
    wait_for(Duration::from_secs(5), s.fake.token_called(), || {
        s.fake.token_calls() > 5
    });
    let calls = s.fake.token_calls();
    let log = d.stop_ok();
    // Attempts at 0, ~1, ~3 s (1 s doubling, jittered down to half): at most 5.
    assert!((1..=5).contains(&calls), "{calls} calls in 5 s");
    assert_eq!(log.matches("clock is probably wrong").count(), 1, "{log}");
    assert!(s.entries().is_empty(), "an expired token was cached");
}

/// Issue 22: a core file of the daemon held two copies of a token. Every process of ours
/// disables core dumps before it holds one.
#[test]
fn the_daemon_never_dumps_core() {
    let s = Sandbox::new();
    let d = ready_keeping_warm(&s, &[REGISTRY]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", d.pid())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    d.stop_ok();
}
