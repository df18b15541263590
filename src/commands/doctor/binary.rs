//! Which `docker-credential-ecr-login` clients run: the first on `PATH` (Docker looks it up
//! there, skipping relative entries, as [`lookup::find_in`] does). Another helper of the same
//! name ahead of ours (AWS's Go helper, Docker Desktop's bundled copy, an old install) is
//! the first thing to rule out when pulls fail, and a front binary without the full
//! `ecr-login` beside it answers hits but fails every miss.

use super::deadline::Deadline;
use super::process::{self, Ran};
use super::report::Check;
use ecr_login_core::docker::version_line;
use ecr_login_core::exec::lookup;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a helper may take to say its version.
const VERSION_LIMIT: Duration = Duration::from_secs(2);

const FRONT: &str = "docker-credential-ecr-login";

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// What a helper said when asked for its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Said {
    /// Ours, at this version.
    Ours(String),
    /// Something else: its first line.
    Other(String),
    Silent(String),
}

impl Said {
    fn of(ran: Ran) -> Said {
        match ran {
            Ran::Exited { stdout, .. } => {
                let line = process::first_line(&stdout);
                match our_version(&line) {
                    Some(v) => Said::Ours(v.to_string()),
                    None if line.is_empty() => Said::Silent("printed no version".into()),
                    None => Said::Other(line),
                }
            }
            Ran::TimedOut => Said::Silent(format!(
                "did not answer `version` within {}s",
                VERSION_LIMIT.as_secs()
            )),
            Ran::Failed(e) => Said::Silent(format!("cannot be run: {e}")),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Said::Ours(v) => format!("ecr-login {v}"),
            Said::Other(line) => format!("not ecr-login (its version: \"{line}\")"),
            Said::Silent(why) => why.clone(),
        }
    }
}

/// The version in our `version` line (`docker-credential-ecr-login (ecr-login) 0.1.0`).
fn our_version(line: &str) -> Option<&str> {
    let ours = version_line();
    let prefix = ours.trim_end().rsplit_once(' ').map(|(p, _)| p)?;
    line.strip_prefix(prefix)?
        .strip_prefix(' ')
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Whether version `a` is older than `b` (numeric fields, a suffix ignored).
fn older(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> {
        v.split(['-', '+'])
            .next()
            .unwrap_or("")
            .split('.')
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    };
    parse(a) < parse(b)
}

/// Asks each program for its version, all at once, each within its limit.
pub(crate) fn versions(paths: &[PathBuf], deadline: &Deadline) -> Vec<Said> {
    let limit = deadline.step(VERSION_LIMIT);
    let handles: Vec<_> = paths
        .iter()
        .map(|p| {
            let mut cmd = Command::new(p);
            cmd.arg("version");
            std::thread::spawn(move || process::run(cmd, None, limit))
        })
        .collect();
    handles
        .into_iter()
        .map(|h| Said::of(h.join().unwrap_or(Ran::TimedOut)))
        .collect()
}

/// Every `docker-credential-ecr-login` on `PATH`, in order, once each.
fn on_path() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut found = Vec::new();
    for dir in std::env::split_paths(&path).filter(|d| d.is_absolute()) {
        let candidate = dir.join(exe(FRONT));
        if !lookup::is_executable_file(&candidate) {
            continue;
        }
        let real = std::fs::canonicalize(&candidate).unwrap_or_else(|_| candidate.clone());
        if !seen.contains(&real) {
            seen.push(real);
            found.push(candidate);
        }
    }
    found
}

/// Docker Desktop's own copies of the helper, where this OS has them.
fn desktop_copies() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if cfg!(target_os = "macos") {
        paths.push(PathBuf::from(
            "/Applications/Docker.app/Contents/Resources/bin",
        ));
    }
    if cfg!(windows) {
        let pf = std::env::var_os("ProgramFiles").unwrap_or_else(|| r"C:\Program Files".into());
        paths.push(PathBuf::from(pf).join(r"Docker\Docker\resources\bin"));
    }
    if let Some(home) = directories::BaseDirs::new() {
        paths.push(home.home_dir().join(".docker").join("bin"));
    }
    paths
        .into_iter()
        .map(|d| d.join(exe(FRONT)))
        .filter(|p| p.exists())
        .collect()
}

/// Where a path really leads, when that says whose it is.
fn whose(path: &Path) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let text = real.display().to_string();
    if text.contains("Docker.app") || text.contains(r"Docker\Docker") {
        format!(" (Docker Desktop's bundled copy, {text})")
    } else if real != path {
        format!(" (a link to {text})")
    } else {
        String::new()
    }
}

pub(crate) fn checks(deadline: &Deadline) -> Vec<Check> {
    let this = env!("CARGO_PKG_VERSION");
    let here = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let ours_dir = here.as_ref().map_or_else(
        || "<the directory of ecr-login>".into(),
        |d| d.display().to_string(),
    );
    let put_first = format!("put {ours_dir} first in PATH, or remove the other one");
    let found = on_path();
    let desktop: Vec<PathBuf> = desktop_copies()
        .into_iter()
        .filter(|d| {
            let real = std::fs::canonicalize(d).ok();
            !found.iter().any(|f| std::fs::canonicalize(f).ok() == real)
        })
        .collect();
    let mut all = found.clone();
    all.extend(desktop.iter().cloned());
    let said = versions(&all, deadline);
    let mut out = Vec::new();
    if found.is_empty() {
        out.push(
            Check::fail(
                "binary.path",
                format!("no {FRONT} on PATH: Docker cannot run the helper, and every pull of a private ECR image fails"),
            )
            .fix(format!("export PATH=\"{ours_dir}:$PATH\"   (in your shell's profile)")),
        );
    }
    for (i, (path, said)) in found.iter().zip(&said).enumerate() {
        let what = format!(
            "#{} {}{}: {}",
            i + 1,
            path.display(),
            whose(path),
            said.describe()
        );
        let check = match (i, said) {
            (0, Said::Ours(v)) if older(v, this) => Check::fail(
                "binary.path",
                format!("{what}, older than this ecr-login ({this}), and clients run it"),
            )
            .fix(put_first.clone()),
            (0, Said::Ours(_)) => {
                Check::pass("binary.path", format!("{what} (clients run this one)"))
            }
            (0, _) => Check::fail(
                "binary.path",
                format!("{what}; clients run it instead of ecr-login"),
            )
            .fix(put_first.clone()),
            _ => Check::pass("binary.path", format!("{what} (not used: #1 comes first)")),
        };
        out.push(check);
    }
    if let (Some(winner), Some(Said::Ours(front_version))) = (found.first(), said.first()) {
        out.push(full_binary(winner, front_version, deadline));
    }
    for (path, said) in desktop.iter().zip(&said[found.len()..]) {
        out.push(Check::pass(
            "binary.desktop",
            format!(
                "Docker Desktop's copy {}: {}; not on PATH, so clients do not run it",
                path.display(),
                said.describe()
            ),
        ));
    }
    out
}

/// The full binary the winner hands misses to: `ecr-login`, beside it.
fn full_binary(front: &Path, front_version: &str, deadline: &Deadline) -> Check {
    let dir = std::fs::canonicalize(front)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| front.parent().unwrap_or(Path::new("/")).to_path_buf());
    let full = dir.join(exe("ecr-login"));
    if !lookup::is_executable_file(&full) {
        return Check::fail(
            "binary.full",
            format!(
                "{} is missing: {FRONT} answers cached tokens only, and every miss fails",
                full.display()
            ),
        )
        .fix("install both binaries side by side (the package, or cargo install --locked --path crates/front and --path .)");
    }
    match versions(std::slice::from_ref(&full), deadline).remove(0) {
        Said::Ours(v) if v == front_version => Check::pass(
            "binary.full",
            format!(
                "{}: ecr-login {v} (misses are handed to it)",
                full.display()
            ),
        ),
        said => Check::warn(
            "binary.full",
            format!(
                "{}: {}, beside {FRONT} {front_version}",
                full.display(),
                said.describe()
            ),
        )
        .fix("install both binaries from the same release"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_version_line_and_others() {
        let ours = version_line();
        let cases = [
            (ours.trim(), Some(env!("CARGO_PKG_VERSION"))),
            (
                "docker-credential-ecr-login (ecr-login) 0.0.9",
                Some("0.0.9"),
            ),
            // Not our version line.
            ("0.6.0", None),
            ("amazon-ecr-credential-helper", None),
            ("docker-credential-ecr-login 0.7.1", None),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(our_version(line), want, "{line}");
        }
        assert!(older("0.0.9", "0.1.0") && older("0.1.0", "0.10.0") && older("1.2", "1.2.1"));
        assert!(!older("0.1.0", "0.1.0") && !older("0.2.0-rc1", "0.1.9"));
    }
}
