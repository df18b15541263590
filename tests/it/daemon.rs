//! The renewal daemon against the fake ECR endpoint with tokens that live seconds, and its
//! systemd contract (READY over `$NOTIFY_SOCKET`, SIGTERM, SIGHUP, one per cache dir).

use crate::support::fake_ecr::{self, Fault};
use crate::support::harness::*;
use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Seconds of life left in a password minted by the fake (it carries `expiration`).
fn remaining_s(password: &str) -> f64 {
    let json = fake_ecr::decode_base64(password).expect("fake password is base64");
    let text = String::from_utf8(json).unwrap();
    let exp: f64 = text
        .split("\"expiration\":")
        .nth(1)
        .and_then(|r| r.split([',', '}']).next())
        .and_then(|v| v.trim().parse().ok())
        .expect("expiration in the password");
    exp - now_s()
}

fn password_of(reply: &str) -> String {
    reply
        .split("\"Secret\":\"")
        .nth(1)
        .unwrap()
        .trim_end_matches("\"}\n")
        .to_string()
}

/// While the daemon runs, `get` never fetches and never hands out a token with less than
/// the configured life left, across several token lifetimes.
#[test]
fn gets_stay_fresh_without_fetching_while_the_daemon_renews() {
    let mut s = Sandbox::new();
    s.fake.set_lifetime(Duration::from_secs(10));
    s.write_config(&format!(
        "[cache]\nmin_remaining = \"50%\"\n[daemon]\nrenew_after = 0.3\nkeep_warm = [\"{REGISTRY}\"]\n"
    ));
    let d = Daemon::start(&mut s);
    d.wait_ready();
    assert_eq!(s.fake.token_calls(), 1, "the first scan warms the registry");
    let start = Instant::now();
    let mut passwords = std::collections::BTreeSet::new();
    while start.elapsed() < Duration::from_secs(25) {
        let out = s.get(REGISTRY);
        assert!(out.status.success(), "{}", stderr(&out));
        let pw = password_of(&stdout(&out));
        // Half of 10 s, minus the fake's whole-second rounding of `expiration`.
        assert!(
            remaining_s(&pw) >= 4.0,
            "served a token with {:.1}s left",
            remaining_s(&pw)
        );
        passwords.insert(pw);
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, log) = d.stop();
    assert!(status.success());
    let renewals = log.matches("renewed ").count();
    assert_eq!(
        s.fake.token_calls(),
        renewals,
        "some get fetched by itself:\n{log}"
    );
    assert!(
        renewals >= 8,
        "expected a renewal every ~3 s, got {renewals}:\n{log}"
    );
    assert!(
        passwords.len() >= 7,
        "gets saw {} distinct tokens",
        passwords.len()
    );
}

/// During an outage: bounded retries with backoff, valid tokens still served, renewal
/// resumes when ECR comes back.
#[test]
fn outage_backs_off_serves_valid_tokens_and_recovers() {
    let mut s = Sandbox::new();
    s.fake.set_lifetime(Duration::from_secs(30));
    s.write_config(&format!(
        "[daemon]\nrenew_after = 0.1\nkeep_warm = [\"{REGISTRY}\"]\n"
    ));
    let d = Daemon::start(&mut s);
    d.wait_ready();
    let first = password_of(&stdout(&s.get(REGISTRY)));
    s.fake.set_fault(Some(Fault::ServerError));
    let outage = Instant::now();
    // Renewal is due 3 s after the first fetch; the outage lasts 10 s from here.
    while outage.elapsed() < Duration::from_secs(10) {
        let out = s.get(REGISTRY);
        assert_eq!(
            password_of(&stdout(&out)),
            first,
            "the valid token keeps being served"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let during = s.fake.token_calls() - 1;
    // Renewal attempts at ~3, 4, 6, 10 s after the first fetch (1 s doubling, with
    // jitter at most the full step), each at most 4 SDK attempts.
    assert!(during >= 1, "the daemon never retried");
    assert!(
        during <= 4 * 4,
        "{during} calls during a 10 s outage: not backing off"
    );
    s.fake.set_fault(None);
    let recovered = Instant::now();
    loop {
        let pw = password_of(&stdout(&s.get(REGISTRY)));
        if pw != first {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(20),
            "renewal never resumed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, log) = d.stop();
    assert!(status.success());
    assert_eq!(
        log.matches("internal error").count(),
        1,
        "log once per state change:\n{log}"
    );
    assert!(log.contains("again after"), "{log}");
}

#[test]
fn sigterm_mid_request_exits_promptly_with_the_cache_intact() {
    let mut s = Sandbox::new();
    s.write_config(&format!("[daemon]\nkeep_warm = [\"{REGISTRY}\"]\n"));
    s.fake.push_fault(Fault::Delay(Duration::from_secs(30)));
    let mut d = Daemon::start(&mut s);
    let start = Instant::now();
    while s.fake.token_calls() == 0 {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::yield_now();
    }
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
    assert!(s.get(REGISTRY).status.success());
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
    let start = Instant::now();
    while s.entries().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "reload did not warm the registry"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
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

#[test]
fn registries_used_by_get_are_kept_warm() {
    let mut s = Sandbox::new();
    s.fake.set_lifetime(Duration::from_secs(6));
    s.write_config("[daemon]\nrenew_after = 0.3\n");
    assert!(s.get(REGISTRY).status.success());
    let d = Daemon::start(&mut s);
    d.wait_ready();
    let start = Instant::now();
    while s.fake.token_calls() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the used registry was not renewed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let refresh = s.run(&["refresh"], b"");
    assert!(refresh.status.success(), "{}", stderr(&refresh));
    assert!(
        stdout(&refresh).contains(&format!("renewed {REGISTRY}")),
        "{}",
        stdout(&refresh)
    );
    let (status, _) = d.stop();
    assert!(status.success());
}
