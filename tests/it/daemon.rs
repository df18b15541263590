//! The renewal daemon as a real process against the fake ECR endpoint: its systemd contract
//! (READY over `$NOTIFY_SOCKET`, SIGTERM, SIGHUP, one per cache dir). Its schedule, backoff
//! and outages are tested under paused time in `renewal.rs`.

use crate::support::fake_ecr::Fault;
use crate::support::harness::*;
use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Daemon {
    child: Child,
    notify: UnixDatagram,
}

impl Daemon {
    fn start(s: &mut Sandbox) -> Daemon {
        let sock_path = s.dir.path().join("notify.sock");
        let _ = std::fs::remove_file(&sock_path);
        let notify = UnixDatagram::bind(&sock_path).unwrap();
        notify
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        s.set("NOTIFY_SOCKET", sock_path.to_str().unwrap());
        s.set("ECR_LOGIN_LOG", "info");
        let child = s
            .command(&["daemon"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        s.unset("NOTIFY_SOCKET");
        Daemon { child, notify }
    }

    /// Blocks until systemd would see the daemon ready.
    fn wait_ready(&self) {
        let mut buf = [0u8; 512];
        loop {
            let n = self
                .notify
                .recv(&mut buf)
                .expect("no READY=1 from the daemon");
            if String::from_utf8_lossy(&buf[..n]).contains("READY=1") {
                return;
            }
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal(libc::SIGTERM);
        let status = self.child.wait().unwrap();
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    }
}

/// The daemon is READY over sd_notify once its first scan has warmed what it keeps warm.
#[test]
fn ready_after_the_first_scan() {
    let mut s = Sandbox::new();
    s.write_config(&format!("[daemon]\nkeep_warm = [\"{REGISTRY}\"]\n"));
    let d = Daemon::start(&mut s);
    d.wait_ready();
    assert_eq!(s.fake.token_calls(), 1, "the first scan warms the registry");
    let hit = s.get(REGISTRY);
    assert_ok(&hit);
    assert_eq!(s.fake.token_calls(), 1, "get hits what the daemon fetched");
    let (status, log) = d.stop();
    assert!(status.success());
    assert!(log.contains(&format!("renewed {REGISTRY}")), "{log}");
}

#[test]
fn sigterm_mid_request_exits_promptly_with_the_cache_intact() {
    let mut s = Sandbox::new();
    s.write_config(&format!("[daemon]\nkeep_warm = [\"{REGISTRY}\"]\n"));
    s.fake.push_fault(Fault::Delay(Duration::from_secs(30)));
    let mut d = Daemon::start(&mut s);
    s.fake.wait_for_token_calls(1, Duration::from_secs(10));
    d.signal(libc::SIGTERM);
    let stopped = Instant::now();
    let status = d.child.wait().unwrap();
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
    let mut s = Sandbox::new();
    s.write_config("[daemon]\nkeep_warm = []\n");
    let d = Daemon::start(&mut s);
    d.wait_ready();
    assert_eq!(s.fake.token_calls(), 0);
    s.write_config(&format!("[daemon]\nkeep_warm = [\"{REGISTRY}\"]\n"));
    d.signal(libc::SIGHUP);
    wait_until("warming after a reload", Duration::from_secs(10), || {
        !s.entries().is_empty()
    });
    let (status, log) = d.stop();
    assert!(status.success());
    assert!(log.contains("configuration reloaded"), "{log}");
}

#[test]
fn one_daemon_per_cache_dir() {
    let mut s = Sandbox::new();
    let d = Daemon::start(&mut s);
    d.wait_ready();
    let second = s.run(&["daemon"], b"");
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another daemon"),
        "{}",
        stderr(&second)
    );
    let status = s.run(&["status"], b"");
    assert!(
        stdout(&status).contains("daemon: running"),
        "{}",
        stdout(&status)
    );
    let (status, _) = d.stop();
    assert!(status.success());
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
    assert!(
        stdout(&refresh).contains(&format!("renewed {REGISTRY}")),
        "{}",
        stdout(&refresh)
    );
    assert_eq!(stdout(&s.get(REGISTRY)), reply(REGISTRY, "pw-two"));
    assert_eq!(s.fake.token_calls(), 2);
}

/// Issue 22: against an endpoint whose tokens expired in 2015, the real daemon made 637
/// calls in 5 s. It now backs off: a handful of calls in the same 5 s, and one log line
/// that names the clock.
#[test]
fn a_daemon_given_expired_tokens_backs_off() {
    let mut s = Sandbox::new();
    s.write_config(&format!("[daemon]\nkeep_warm = [\"{REGISTRY}\"]\n"));
    s.fake.set_expires_at(Some(1_420_070_400.0));
    let d = Daemon::start(&mut s);
    d.wait_ready();
    // A measuring window, not a synchronisation: the daemon runs freely through it.
    std::thread::sleep(Duration::from_secs(5));
    let calls = s.fake.token_calls();
    let (status, log) = d.stop();
    assert!(status.success());
    // Attempts at 0, ~1, ~3 s (1 s doubling, jittered down to half): at most 5.
    assert!((1..=5).contains(&calls), "{calls} calls in 5 s");
    assert_eq!(log.matches("clock is probably wrong").count(), 1, "{log}");
    assert!(s.entries().is_empty(), "an expired token was cached");
}

/// Issue 22: a core file of the daemon held two copies of a token. Every process of ours
/// disables core dumps before it holds one.
#[test]
fn the_daemon_never_dumps_core() {
    let mut s = Sandbox::new();
    s.write_config(&format!("[daemon]\nkeep_warm = [\"{REGISTRY}\"]\n"));
    let d = Daemon::start(&mut s);
    d.wait_ready();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", d.child.id())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    let (status, _) = d.stop();
    assert!(status.success());
}
