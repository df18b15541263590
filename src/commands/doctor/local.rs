//! This machine's own pieces: the ecr-login config (and the credsStore fallback it names),
//! the cache directory, the renewal daemon and the OS service that starts it.

use super::deadline::Deadline;
use super::process::{self, Ran};
use super::report::Check;
use crate::renew::state::State;
use crate::service;
use ecr_login_core::cache::Cache;
use ecr_login_core::clock::rfc3339;
use ecr_login_core::config::{self, Config, ConfigError};
use ecr_login_core::docker::find_helper;
use ecr_login_core::duration::human;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the service manager may take to say whether our service is enabled.
const SERVICE_LIMIT: Duration = Duration::from_secs(2);

/// The config file, and the helper it names for other registries' logins, which they go
/// to while we are the `credsStore` (`store_is_ours`).
pub(crate) fn config_checks(
    config: &Result<Config, ConfigError>,
    store_is_ours: bool,
) -> Vec<Check> {
    let path = config::default_path();
    let shown = path.as_ref().map_or_else(
        || "(no config directory)".into(),
        |p| p.display().to_string(),
    );
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            return vec![
                Check::fail(
                    "config.file",
                    format!("{e}; every command fails until it is fixed"),
                )
                .fix(format!("fix {shown} (the line and key are named above)")),
            ];
        }
    };
    let mut out = vec![match config.path.as_ref().filter(|p| p.exists()) {
        Some(p) => Check::pass(
            "config.file",
            format!(
                "{}: {} registry rule{}, {} kept warm",
                p.display(),
                config.registries.len(),
                if config.registries.len() == 1 {
                    ""
                } else {
                    "s"
                },
                config.daemon.keep_warm.len()
            ),
        ),
        None => Check::pass("config.file", format!("{shown}: none, so the defaults")),
    }];
    if store_is_ours && let Some(name) = &config.store.fallback {
        let found = config
            .store
            .fallback_path
            .clone()
            .filter(|p| p.exists())
            .or_else(|| find_helper(name));
        out.push(match found {
            Some(p) => Check::pass(
                "config.fallback",
                format!("other registries' logins go to docker-credential-{name} ({})", p.display()),
            ),
            None => Check::fail(
                "config.fallback",
                format!("docker-credential-{name}, which keeps other registries' logins ([store] fallback), is not found: those logins fail"),
            )
            .fix(format!("install docker-credential-{name}, or remove [store] fallback from {shown} to keep them in ecr-login's own store")),
        });
    }
    out
}

pub(crate) fn cache_checks(
    dir: &Result<Option<PathBuf>, ecr_login_core::cache::CacheError>,
    cache: Option<&Cache>,
) -> Vec<Check> {
    let dir = match dir {
        Err(e) => {
            return vec![
                Check::fail("cache.dir", e.to_string()).fix("set HOME, or AWS_ECR_CACHE_DIR"),
            ];
        }
        Ok(None) => {
            return vec![
                Check::warn(
                    "cache.dir",
                    "disabled (AWS_ECR_DISABLE_CACHE): every get calls ECR",
                )
                .fix("unset AWS_ECR_DISABLE_CACHE"),
            ];
        }
        Ok(Some(d)) => d,
    };
    let shown = dir.display();
    if !dir.exists() && std::fs::symlink_metadata(dir).is_err() {
        return vec![Check::pass(
            "cache.dir",
            format!("{shown} does not exist yet (made 0700 on first use)"),
        )];
    }
    let Some(cache) = cache else {
        let why = Cache::open(dir)
            .err()
            .map_or_else(|| "cannot be used".to_string(), |e| e.to_string());
        return vec![
            Check::fail(
                "cache.dir",
                format!("{why}; get works without it, fetching every time"),
            )
            .fix(repair(dir)),
        ];
    };
    let (entries, problems) = cache.entries();
    let mut detail = format!(
        "{shown}: {}, {} entr{}",
        ownership(dir),
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" }
    );
    if !writable(dir) {
        return vec![
            Check::fail(
                "cache.dir",
                format!("{detail}; not writable: tokens cannot be kept"),
            )
            .fix(format!(
                "chmod u+w {shown}   (or point AWS_ECR_CACHE_DIR elsewhere)"
            )),
        ];
    }
    detail.push_str(", writable");
    let mut out = vec![Check::pass("cache.dir", detail)];
    for p in problems.into_iter().take(3) {
        out.push(Check::warn("cache.entry", p));
    }
    out
}

#[cfg(unix)]
fn ownership(dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::symlink_metadata(dir) {
        Ok(m) => format!("owner uid {}, mode {:o}", m.uid(), m.mode() & 0o7777),
        Err(e) => e.to_string(),
    }
}

#[cfg(not(unix))]
fn ownership(_: &Path) -> String {
    "yours".into()
}

#[cfg(unix)]
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access(2) with a NUL-terminated path we own; it only reads it.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(not(unix))]
fn writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// The command that makes an unusable cache directory usable, from what it is.
#[cfg(unix)]
fn repair(dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let shown = dir.display();
    let elsewhere = "(or point AWS_ECR_CACHE_DIR at a directory of your own)";
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return format!("mkdir -m 700 -p {shown}");
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.file_type().is_symlink() {
        format!("rm {shown} && mkdir -m 700 {shown}   {elsewhere}")
    } else if !meta.is_dir() {
        format!("mv {shown} {shown}.old   {elsewhere}")
    } else if meta.uid() != me {
        format!("sudo chown -R {me} {shown}   {elsewhere}")
    } else {
        format!("chmod 700 {shown}")
    }
}

#[cfg(not(unix))]
fn repair(dir: &Path) -> String {
    format!(
        "remove {} (it is made again on first use), or set AWS_ECR_CACHE_DIR",
        dir.display()
    )
}

/// The command that starts the daemon: the service's own when it is installed.
pub(crate) fn start_hint() -> String {
    if matches!(installed(), Some(Ok(_))) {
        service::START_HINT.to_string()
    } else {
        "docker-credential-ecr-login configure --service".into()
    }
}

pub(crate) fn daemon_checks(
    dir: Option<&Path>,
    state: Option<&State>,
    running: bool,
    now: i64,
    deadline: &Deadline,
) -> Vec<Check> {
    let mut out = Vec::new();
    let running_check = match (running, state) {
        (false, _) if dir.is_none() => Check::skip("daemon.running", "no cache directory to renew"),
        (false, _) => Check::warn(
            "daemon.running",
            "not running: tokens are fetched when a get misses rather than renewed ahead, and nothing repairs credsStore after Docker Desktop resets it",
        )
        .fix(start_hint()),
        (true, None) => Check::pass("daemon.running", "running"),
        (true, Some(s)) => {
            let last = s.last_renewal_ms.map_or("no renewal yet".into(), |t| {
                format!("last renewal {} ago", human(now.saturating_sub(t)))
            });
            let next = s.next_renewal_ms.map_or(String::new(), |t| {
                format!(", next at {}", rfc3339(t))
            });
            let detail = format!(
                "running (pid {}) since {}, keeping {} warm; {last}{next}",
                s.pid,
                rfc3339(s.started_at_ms),
                s.warm
            );
            if s.failing.is_empty() {
                Check::pass("daemon.running", detail)
            } else {
                Check::warn(
                    "daemon.running",
                    format!("{detail}; renewals failing for {}", s.failing.join(", ")),
                )
                .fix("see those registries' checks above (and the daemon's log)")
            }
        }
    };
    out.push(running_check);
    out.push(service_check(deadline));
    out
}

/// Where this OS's service definition would be, and whether it is there.
fn installed() -> Option<Result<PathBuf, PathBuf>> {
    if cfg!(windows) {
        return None;
    }
    let home = directories::BaseDirs::new()?;
    let candidates: Vec<PathBuf> = if cfg!(target_os = "macos") {
        vec![service::launchd::plist_path(home.home_dir())]
    } else {
        vec![
            home.config_dir()
                .join("systemd/user")
                .join(service::systemd::UNIT_NAME),
            PathBuf::from("/usr/lib/systemd/user").join(service::systemd::UNIT_NAME),
            PathBuf::from("/etc/systemd/user").join(service::systemd::UNIT_NAME),
        ]
    };
    Some(
        candidates
            .iter()
            .find(|p| p.exists())
            .cloned()
            .ok_or_else(|| candidates[0].clone()),
    )
}

fn service_check(deadline: &Deadline) -> Check {
    let install = "docker-credential-ecr-login configure --service";
    if cfg!(windows) {
        let mut cmd =
            std::process::Command::new(ecr_login_core::exec::lookup::system_program("schtasks"));
        cmd.args(["/Query", "/TN", service::schtasks::TASK]);
        return match process::run(cmd, None, deadline.step(SERVICE_LIMIT)) {
            Ran::Exited { success: true, .. } => Check::pass(
                "daemon.service",
                format!("scheduled task \"{}\" at logon", service::schtasks::TASK),
            ),
            _ => Check::warn(
                "daemon.service",
                "no scheduled task starts the daemon at logon",
            )
            .fix(install),
        };
    }
    let path = match installed() {
        Some(Ok(p)) => p,
        Some(Err(p)) => {
            return Check::warn(
                "daemon.service",
                format!("not installed ({} does not exist)", p.display()),
            )
            .fix(install);
        }
        None => return Check::skip("daemon.service", "no service manager here"),
    };
    if cfg!(target_os = "macos") {
        return Check::pass(
            "daemon.service",
            format!("launchd agent {} (started at login)", path.display()),
        );
    }
    let mut cmd =
        std::process::Command::new(ecr_login_core::exec::lookup::system_program("systemctl"));
    cmd.args(["--user", "is-enabled", service::systemd::UNIT_NAME]);
    let shown = path.display();
    match process::run(cmd, None, deadline.step(SERVICE_LIMIT)) {
        Ran::Exited { stdout, .. } => match process::first_line(&stdout).as_str() {
            "enabled" | "enabled-runtime" | "static" | "indirect" | "linked" => {
                Check::pass("daemon.service", format!("{shown}: enabled"))
            }
            "" => Check::skip(
                "daemon.service",
                format!(
                    "{shown} is installed; systemctl --user cannot tell whether it is enabled here"
                ),
            ),
            state => {
                Check::warn("daemon.service", format!("{shown}: {state}")).fix(service::START_HINT)
            }
        },
        Ran::TimedOut | Ran::Failed(_) => Check::skip(
            "daemon.service",
            format!("{shown} is installed; systemctl --user did not answer"),
        ),
    }
}
