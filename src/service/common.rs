//! What the three service managers' installers share: their typed error, the variables the
//! daemon must see as the shell does, and running a system program quietly.

use ecr_login_core::error::Error;
use std::path::PathBuf;

/// Why the service could not be installed or removed. Each renders the user's one line.
#[derive(Debug)]
pub(crate) enum ServiceError {
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
    /// The service manager refused; `run` is the command that shows why (Windows' only).
    #[cfg_attr(not(windows), allow(dead_code))]
    Refused {
        run: String,
    },
}

/// What was done to the file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FileOp {
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
    pub(super) fn file(
        op: FileOp,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> ServiceError {
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
