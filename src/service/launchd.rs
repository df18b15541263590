//! macOS: a launchd agent, `~/Library/LaunchAgents/<label>.plist`, loaded into the user's
//! GUI domain with `launchctl bootstrap gui/<uid>` and removed with `bootout`. Started at
//! login, restarted when it fails, run as a background process, logging to
//! `~/Library/Logs/ecr-login/`.
//!
//! The plist and the `launchctl` command lines are plain data, built (and tested) on every
//! platform; only macOS runs them.

use super::common::{FileOp, ServiceError, carried_env, create_dir, quietly};
use ecr_login_core::error::Error;
use ecr_login_core::files;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub(crate) const LABEL: &str = "io.github.ecr-login.daemon";
pub(crate) const STOP_HINT: &str = "launchctl bootout gui/$(id -u)/io.github.ecr-login.daemon";
pub(crate) const START_HINT: &str = "docker-credential-ecr-login configure --service";

/// `~/Library/LaunchAgents/<label>.plist`.
pub(crate) fn plist_path(home: &Path) -> PathBuf {
    home.join("Library/LaunchAgents")
        .join(format!("{LABEL}.plist"))
}

pub(crate) fn log_path(home: &Path) -> PathBuf {
    home.join("Library/Logs/ecr-login/daemon.log")
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The agent's property list.
pub(crate) fn plist(exe: &Path, log: &Path, env: &[(String, String)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n",
    );
    let key = |out: &mut String, k: &str| {
        let _ = writeln!(out, "\t<key>{k}</key>");
    };
    key(&mut out, "Label");
    let _ = writeln!(out, "\t<string>{LABEL}</string>");
    key(&mut out, "ProgramArguments");
    let _ = writeln!(
        out,
        "\t<array>\n\t\t<string>{}</string>\n\t\t<string>daemon</string>\n\t</array>",
        xml(&exe.display().to_string())
    );
    key(&mut out, "RunAtLoad");
    out.push_str("\t<true/>\n");
    // Restart when it fails, not after a clean stop (bootout, or a second daemon refused).
    key(&mut out, "KeepAlive");
    out.push_str("\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n");
    key(&mut out, "ThrottleInterval");
    out.push_str("\t<integer>30</integer>\n");
    key(&mut out, "ProcessType");
    out.push_str("\t<string>Background</string>\n");
    for k in ["StandardOutPath", "StandardErrorPath"] {
        key(&mut out, k);
        let _ = writeln!(
            out,
            "\t<string>{}</string>",
            xml(&log.display().to_string())
        );
    }
    if !env.is_empty() {
        key(&mut out, "EnvironmentVariables");
        out.push_str("\t<dict>\n");
        for (k, v) in env {
            let _ = writeln!(
                out,
                "\t\t<key>{}</key>\n\t\t<string>{}</string>",
                xml(k),
                xml(v)
            );
        }
        out.push_str("\t</dict>\n");
    }
    out.push_str("</dict>\n</plist>\n");
    out
}

pub(crate) fn bootstrap_argv(uid: u32, plist: &Path) -> Vec<String> {
    vec![
        "bootstrap".into(),
        format!("gui/{uid}"),
        plist.display().to_string(),
    ]
}

pub(crate) fn bootout_argv(uid: u32) -> Vec<String> {
    vec!["bootout".into(), format!("gui/{uid}/{LABEL}")]
}

#[cfg(unix)]
fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

#[cfg(not(unix))]
fn uid() -> u32 {
    0
}

fn home() -> Result<PathBuf, Error> {
    directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .ok_or(Error::from(ServiceError::NoHome {
            what: "home directory for the launchd agent",
        }))
}

pub(crate) fn install(out: &mut String, exe: &Path) -> Result<(), Error> {
    let home = home()?;
    let path = plist_path(&home);
    let log = log_path(&home);
    for dir in [path.parent(), log.parent()].into_iter().flatten() {
        create_dir(dir)?;
    }
    let text = plist(exe, &log, &carried_env());
    files::write_atomic(&path, text.as_bytes(), 0o644)
        .map_err(ServiceError::file(FileOp::Write, &path))?;
    let _ = writeln!(out, "installed {}", path.display());
    // A reinstall replaces a loaded agent.
    quietly("launchctl", &bootout_argv(uid()));
    if quietly("launchctl", &bootstrap_argv(uid(), &path)) {
        let _ = writeln!(out, "loaded {LABEL}; logs: {}", log.display());
    } else {
        let _ = writeln!(
            out,
            "launchctl could not load it here; run: launchctl {}",
            bootstrap_argv(uid(), &path).join(" ")
        );
    }
    Ok(())
}

pub(crate) fn uninstall(out: &mut String) -> Result<(), Error> {
    let path = plist_path(&home()?);
    quietly("launchctl", &bootout_argv(uid()));
    match std::fs::remove_file(&path) {
        Ok(()) => {
            let _ = writeln!(out, "unloaded {LABEL} and removed {}", path.display());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ServiceError::file(FileOp::Remove, &path)(e).into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_runs_the_daemon_at_login_and_after_failures() {
        let text = plist(
            Path::new("/opt/homebrew/bin/ecr-login"),
            Path::new("/Users/me/Library/Logs/ecr-login/daemon.log"),
            &[("AWS_PROFILE".into(), "dev & ops".into())],
        );
        for want in [
            "<key>Label</key>\n\t<string>io.github.ecr-login.daemon</string>",
            "<string>/opt/homebrew/bin/ecr-login</string>\n\t\t<string>daemon</string>",
            "<key>RunAtLoad</key>\n\t<true/>",
            "<key>SuccessfulExit</key>\n\t\t<false/>",
            "<key>ProcessType</key>\n\t<string>Background</string>",
            "<key>StandardErrorPath</key>\n\t<string>/Users/me/Library/Logs/ecr-login/daemon.log</string>",
            "<key>AWS_PROFILE</key>\n\t\t<string>dev &amp; ops</string>",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
        assert_eq!(
            bootstrap_argv(501, Path::new("/Users/me/Library/LaunchAgents/x.plist")),
            [
                "bootstrap",
                "gui/501",
                "/Users/me/Library/LaunchAgents/x.plist"
            ]
        );
        assert_eq!(
            bootout_argv(501),
            ["bootout", "gui/501/io.github.ecr-login.daemon"]
        );
        assert_eq!(
            plist_path(Path::new("/Users/me")),
            Path::new("/Users/me/Library/LaunchAgents/io.github.ecr-login.daemon.plist")
        );
    }
}
