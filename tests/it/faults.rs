//! The fault matrix: every way a token request fails, through `get` and `kubelet`, each
//! with its exit status, its exact one-line message (what failed, what to do), a bound on
//! the time taken, and proof that no expired token was served. Then file safety: unsafe,
//! read-only and full cache directories, missing HOME.

use crate::support::fake_ecr::Fault;
use crate::support::harness::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Case {
    name: &'static str,
    setup: fn(&mut Sandbox),
    /// The message after "ECR token for <registry>: ".
    message: &'static str,
    /// Another fragment the line must carry (the advice).
    advice: &'static str,
    max: Duration,
}

fn persistent(f: Fault) -> impl Fn(&mut Sandbox) {
    move |s: &mut Sandbox| s.fake.set_fault(Some(f.clone()))
}

const CASES: &[Case] = &[
    Case {
        name: "throttled past the retries",
        setup: |s| persistent(Fault::Throttle)(s),
        message: "ECR is throttling token requests and retries ran out (Rate exceeded)",
        advice: "try again shortly",
        max: Duration::from_secs(5),
    },
    Case {
        name: "HTTP 500",
        setup: |s| persistent(Fault::ServerError)(s),
        message: "ECR had an internal error",
        advice: "try again shortly",
        max: Duration::from_secs(5),
    },
    Case {
        name: "slower than the timeout",
        setup: |s| {
            s.write_config("timeout = \"1s\"\n");
            persistent(Fault::Hang)(s)
        },
        message: "ECR did not answer in time",
        advice: "check your network or proxy",
        max: Duration::from_secs(3),
    },
    Case {
        name: "connection refused",
        setup: |s| {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            s.set("AWS_ENDPOINT_URL_ECR", &format!("http://127.0.0.1:{port}"));
        },
        message: "cannot reach the ECR API",
        advice: "check your network, proxy and AWS_ENDPOINT_URL_ECR",
        max: Duration::from_secs(5),
    },
    Case {
        name: "access denied",
        setup: |s| persistent(Fault::Deny)(s),
        message: "access denied for env:",
        advice: "the identity needs ecr:GetAuthorizationToken",
        max: Duration::from_secs(3),
    },
    Case {
        name: "expired credentials",
        setup: |s| persistent(Fault::ExpiredToken)(s),
        message: "AWS rejected the credentials of env:",
        advice: "refresh them (aws sso login, aws configure, or new keys)",
        max: Duration::from_secs(3),
    },
    Case {
        name: "invalid credentials",
        setup: |s| persistent(Fault::Unrecognized)(s),
        message: "AWS rejected the credentials of env:",
        advice: "UnrecognizedClientException",
        max: Duration::from_secs(3),
    },
    Case {
        name: "expired SSO session",
        setup: |s| {
            s.without_credentials();
            s.write_sso_profile(
                r#"{"accessToken":"old","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}"#,
            );
            s.set("AWS_PROFILE", "dev");
        },
        message: "the SSO session for profile \"dev\" has expired or was never started",
        advice: "run: aws sso login --profile dev",
        max: Duration::from_secs(3),
    },
    Case {
        name: "a token that does not decode",
        setup: |s| persistent(Fault::BadToken)(s),
        message: "ECR returned an authorization token that is not",
        advice: "the endpoint does not answer like ECR: check AWS_ENDPOINT_URL_ECR",
        max: Duration::from_secs(3),
    },
    Case {
        name: "no credentials anywhere (instance metadata probed)",
        setup: |s| {
            s.without_credentials();
            s.unset("AWS_EC2_METADATA_DISABLED");
        },
        message: "no AWS credentials",
        advice: "aws sso login",
        max: Duration::from_secs(5),
    },
];

/// An expired entry sits in the cache for every case: it must never come out.
fn seed_expired_entry(s: &Sandbox) {
    s.fake.set_password("pw-expired");
    s.fake.set_lifetime(Duration::from_millis(1500));
    let out = s.get(REGISTRY);
    assert_ok(&out);
    s.fake.set_lifetime(Duration::from_secs(12 * 3600));
    s.fake.set_password("pw-never");
    s.expire_entries();
}

#[test]
fn get_fault_matrix() {
    for case in CASES {
        let mut s = Sandbox::new();
        seed_expired_entry(&s);
        (case.setup)(&mut s);
        let start = Instant::now();
        let out = s.get(REGISTRY);
        let took = start.elapsed();
        let line = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {line}", case.name);
        assert_eq!(
            line.lines().count(),
            1,
            "{}: one line, got {line}",
            case.name
        );
        let prefix = format!("ECR token for {REGISTRY}: {}", case.message);
        assert!(
            line.starts_with(&prefix),
            "{}:\n want {prefix}\n  got {line}",
            case.name
        );
        assert!(
            line.contains(case.advice),
            "{}: no advice {:?} in {line}",
            case.name,
            case.advice
        );
        assert!(took <= case.max, "{}: took {took:?}", case.name);
        assert!(
            !line.contains("pw-expired") && !line.contains("pw-never"),
            "{}",
            case.name
        );
        assert!(
            stderr(&out).contains(line.trim()),
            "{}: the same line on stderr",
            case.name
        );
        assert!(!stderr(&out).contains("panicked"), "{}", case.name);
        assert_no_secret(&out, "pw-expired");
    }
}

#[test]
fn kubelet_fault_matrix_fails_on_stderr_with_the_same_message() {
    // Throttling and 5xx are retried for longer in kubelet mode (tests/it/kubelet.rs).
    let retried = [
        "slower than the timeout",
        "throttled past the retries",
        "HTTP 500",
    ];
    for case in CASES.iter().filter(|c| !retried.contains(&c.name)) {
        let mut s = Sandbox::new();
        seed_expired_entry(&s);
        (case.setup)(&mut s);
        let req = format!(
            r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"{REGISTRY}/app:1"}}"#
        );
        let start = Instant::now();
        let out = s.run(&["kubelet"], req.as_bytes());
        assert_eq!(out.status.code(), Some(1), "{}", case.name);
        assert_eq!(
            stdout(&out),
            "",
            "{}: nothing on stdout for the kubelet",
            case.name
        );
        assert!(
            stderr(&out).contains(case.message),
            "{}: {}",
            case.name,
            stderr(&out)
        );
        assert!(start.elapsed() <= case.max, "{}", case.name);
        assert_no_secret(&out, "pw-expired");
    }
}

/// ECR Public failures fall back to anonymous pulls instead of failing them.
#[test]
fn ecr_public_failures_mean_anonymous() {
    let s = Sandbox::new();
    s.fake.set_fault(Some(Fault::Deny));
    let out = s.get("public.ecr.aws");
    assert_eq!(stdout(&out), "credentials not found in native keychain\n");
    assert_contains(&stderr(&out), "pulling anonymously");
}

#[test]
fn symlinked_or_foreign_entries_are_refused_and_replaced() {
    let s = Sandbox::new();
    let entry = s.fetched_entry("pw-real");
    // A planted entry elsewhere, linked into the cache.
    let planted = s.dir.path().join("planted.json");
    std::fs::copy(&entry, &planted).unwrap();
    let text = std::fs::read_to_string(&planted)
        .unwrap()
        .replace("pw-real", "pw-planted");
    std::fs::write(&planted, text).unwrap();
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&planted, &entry).unwrap();
    let out = s.get(REGISTRY);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw-real"));
    assert_contains(&stderr(&out), "symbolic link");
    assert!(
        !std::fs::symlink_metadata(&entry)
            .unwrap()
            .file_type()
            .is_symlink(),
        "replaced by a real entry"
    );

    // An entry writable by others.
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_contains(&stderr(&out), "writable by other users");
}

#[test]
#[ignore = "needs root to chown a file: tests/run-all.sh runs it"]
fn an_entry_owned_by_someone_else_is_refused() {
    let s = Sandbox::new();
    let entry = s.fetched_entry("pw-real");
    let c = std::ffi::CString::new(entry.to_str().unwrap()).unwrap();
    // SAFETY: chown(2) on a path we own, with a valid C string.
    assert_eq!(
        unsafe { libc::chown(c.as_ptr(), 65534, 65534) },
        0,
        "chown needs root"
    );
    let out = s.get(REGISTRY);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw-real"), "fetched anew");
    assert_contains(&stderr(&out), "belongs to uid 65534");
    assert_eq!(s.fake.token_calls(), 2);
}

#[test]
fn a_symlinked_cache_dir_is_refused_and_get_still_answers() {
    let mut s = Sandbox::new();
    let real = s.dir.path().join("real-cache");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = s.dir.path().join("link-cache");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    s.set("AWS_ECR_CACHE_DIR", link.to_str().unwrap());
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_contains(&stderr(&out), "symbolic link");
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
}

#[test]
fn no_home_and_unwritable_xdg_dirs_still_answer() {
    let mut s = Sandbox::new();
    s.unset("HOME")
        .unset("AWS_ECR_CACHE_DIR")
        .unset("ECR_LOGIN_CONFIG");
    s.set("XDG_CACHE_HOME", "/proc/ecr-login-cannot-write-here");
    s.set("XDG_CONFIG_HOME", "/proc/ecr-login-cannot-write-here");
    let out = s.get(REGISTRY);
    assert_ok(&out);
    assert_contains(&stderr(&out), "continuing without the cache");
}

/// A tmpfs we can fill or make read-only. Needs root (mount).
struct Mount(std::path::PathBuf);

impl Mount {
    fn new(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot mount a tmpfs on {} (needs root)", dir.display());
        Mount(dir.to_path_buf())
    }

    fn remount_read_only(&self) {
        assert!(
            Command::new("mount")
                .args(["-o", "remount,ro"])
                .arg(&self.0)
                .status()
                .unwrap()
                .success()
        );
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
#[ignore = "needs root to mount a tmpfs: tests/run-all.sh runs it"]
fn a_read_only_cache_dir_serves_without_caching() {
    let s = Sandbox::new();
    let m = Mount::new(&s.cache_dir(), "1m");
    m.remount_read_only();
    s.fake.set_password("pw-ro");
    let out = s.get(REGISTRY);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw-ro"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not cached") || stderr(&out).contains("without the lock"),
        "{}",
        stderr(&out)
    );
    assert_no_secret(&out, "pw-ro");
}

#[test]
#[ignore = "needs root to mount a tmpfs: tests/run-all.sh runs it"]
fn a_full_disk_serves_without_caching_and_leaves_no_temp_files() {
    let s = Sandbox::new();
    let _m = Mount::new(&s.cache_dir(), "8k");
    // Fill the filesystem.
    let filler = s.cache_dir().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 64 * 1024]);
    s.fake.set_password("pw-full");
    let out = s.get(REGISTRY);
    assert_eq!(stdout(&out), reply(REGISTRY, "pw-full"), "{}", stderr(&out));
    assert_contains(&stderr(&out), "not cached");
    let mut leftovers = s.cache_names();
    leftovers.retain(|n| n.starts_with(".tmp"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
