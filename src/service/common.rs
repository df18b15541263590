//! What the three service managers' installers share: their typed error, the variables the
//! daemon must see as the shell does, and running a system program quietly.

use ecr_login_core::error::Error;
use std::path::PathBuf;

/// Why the service could not be installed or removed. Each renders the user's one line.
/// Why the service could not be installed or removed. Each prints its cause's words, so
/// none returns it from `source()`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServiceError {
    /// No directory to put the service's definition in (`what` names it).
    #[error("no {what}")]
    NoHome { what: &'static str },
    #[error("cannot find this binary's path: {0}")]
    OwnPath(std::io::Error),
    /// A file or directory of the service's could not be made, written or removed.
    #[error("cannot {op} {}: {error}", path.display())]
    File {
        op: FileOp,
        path: PathBuf,
        error: std::io::Error,
    },
    /// The service manager refused; `run` is the command that shows why (Windows' only).
    #[cfg_attr(not(windows), allow(dead_code))]
    #[error("{run}")]
    Refused { run: String },
}

/// What was done to the file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FileOp {
    Create,
    Write,
    Remove,
}

impl std::fmt::Display for FileOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileOp::Create => "create",
            FileOp::Write => "write",
            FileOp::Remove => "remove",
        })
    }
}

impl ServiceError {
    pub(super) fn file(
        op: FileOp,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> ServiceError {
        let path = path.to_path_buf();
        move |error| ServiceError::File { op, path, error }
    }
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Error {
        Error::Command(Box::new(e))
    }
}

/// `create_dir_all`, its failure naming the directory.
pub(super) fn create_dir(dir: &std::path::Path) -> Result<(), ServiceError> {
    std::fs::create_dir_all(dir).map_err(ServiceError::file(FileOp::Create, dir))
}

/// The variables of this shell the daemon must see the same way: where the cache and
/// the config are, and which profile and region are the default.
pub(crate) fn carried_env() -> Vec<(String, String)> {
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
pub(super) fn quietly(program: &str, args: &[String]) -> bool {
    std::process::Command::new(ecr_login_core::exec::lookup::system_program(program))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
