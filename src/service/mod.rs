//! The renewal daemon as the operating system's per-user service: a systemd user unit on
//! Linux, a launchd agent on macOS, a scheduled task at logon on Windows.
//! `configure --service` installs the right one for the full binary's own path, and
//! `configure --remove --service` takes it out again.

pub mod launchd;
pub mod schtasks;
pub mod systemd;

#[cfg(target_os = "macos")]
use launchd as native;
#[cfg(windows)]
use schtasks as native;
#[cfg(not(any(target_os = "macos", windows)))]
use systemd as native;

use ecr_login_core::error::Error;
use std::path::PathBuf;

/// How to stop the daemon, for messages.
pub const STOP_HINT: &str = native::STOP_HINT;
/// How to start it, for messages.
pub const START_HINT: &str = native::START_HINT;

/// Why the service could not be installed or removed. Each renders the user's one line.
#[derive(Debug)]
pub enum ServiceError {
    /// No directory to put the service's definition in (`what` names it).
    NoHome {
        what: &'static str,
    },
    OwnPath(std::io::Error),
    /// A file or directory of the service's could not be made, written or removed.
    File {
        op: FileOp,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The service manager refused; `run` is the command that shows why.
    Refused {
        run: String,
    },
}

/// What was done to the file.
#[derive(Debug, Clone, Copy)]
pub enum FileOp {
    Create,
    Write,
    Remove,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::NoHome { what } => write!(f, "no {what}"),
            ServiceError::OwnPath(e) => write!(f, "cannot find this binary's path: {e}"),
            ServiceError::File { op, path, source } => {
                let verb = match op {
                    FileOp::Create => "create",
                    FileOp::Write => "write",
                    FileOp::Remove => "remove",
                };
                write!(f, "cannot {verb} {}: {source}", path.display())
            }
            ServiceError::Refused { run } => f.write_str(run),
        }
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServiceError::OwnPath(source) | ServiceError::File { source, .. } => Some(source),
            ServiceError::NoHome { .. } | ServiceError::Refused { .. } => None,
        }
    }
}

impl ServiceError {
    fn file(op: FileOp, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ServiceError {
        let path = path.to_path_buf();
        move |source| ServiceError::File { op, path, source }
    }
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Error {
        Error::Command(Box::new(e))
    }
}

/// `create_dir_all`, its failure naming the directory.
fn create_dir(dir: &std::path::Path) -> Result<(), ServiceError> {
    std::fs::create_dir_all(dir).map_err(ServiceError::file(FileOp::Create, dir))
}

/// This binary's real path: the daemon the service runs is the full binary itself.
pub fn full_binary() -> Result<PathBuf, Error> {
    std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| ServiceError::OwnPath(e).into())
}

/// Installs (and where possible starts) the service, saying what it did in `out`.
pub fn install(out: &mut String) -> Result<(), Error> {
    native::install(out, &full_binary()?)
}

/// Stops and removes the service, if installed.
pub fn uninstall(out: &mut String) -> Result<(), Error> {
    native::uninstall(out)
}

/// The variables of this shell the daemon must see the same way: where the cache and
/// the config are, and which profile and region are the default.
pub fn carried_env() -> Vec<(String, String)> {
    [
        "AWS_ECR_CACHE_DIR",
        ecr_login_core::config::CONFIG_ENV,
        "AWS_PROFILE",
        "AWS_REGION",
    ]
    .into_iter()
    .filter_map(|k| {
        Some((
            k.to_string(),
            std::env::var(k).ok().filter(|v| !v.is_empty())?,
        ))
    })
    .collect()
}

/// Runs a service manager's command, its output discarded; whether it succeeded. The
/// program comes from the system directories, never from `PATH`.
fn quietly(program: &str, args: &[String]) -> bool {
    std::process::Command::new(ecr_login_core::exec::lookup::system_program(program))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Windows: gives up the console when it is ours alone (Task Scheduler made it for us), so
/// no window stays open; a console we share (someone ran `ecr-login daemon` by hand) stays.
#[cfg(windows)]
pub fn detach_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut processes = [0u32; 2];
    // SAFETY: the buffer and its length agree; FreeConsole has no preconditions.
    unsafe {
        if GetConsoleProcessList(processes.as_mut_ptr(), processes.len() as u32) == 1 {
            FreeConsole();
        }
    }
}
