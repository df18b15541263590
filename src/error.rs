//! The full binary's own failures that no more specific type holds: its commands' and the
//! daemon's. Each reaches the front ends' `Error` as `Error::Command` and is said by its
//! `Display`, one line (or one line per failed registry) with what to do next.
//!
//! The rule for every error type here and in core: a variant that prints its cause's words
//! does not also return that cause from `source()` (nothing that walks the chain says a
//! message twice); a variant that is only its cause forwards it (`transparent`).

use ecr_login_core::cache::CacheError;
use ecr_login_core::error::Error;
use std::io;
use std::path::PathBuf;
use thiserror::Error as ThisError;

#[derive(Debug, ThisError)]
pub(crate) enum CommandError {
    /// A file or directory a command had to read, write, create or remove.
    #[error("cannot {op} {}: {error}", path.display())]
    File {
        op: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    /// The path of this very program (to copy it, or to name it in a service).
    #[error("cannot find this program: {0}")]
    OwnPath(io::Error),
    /// tokio's runtime would not start (no threads, no epoll).
    #[error("{0}")]
    Runtime(io::Error),
    /// The daemon's signal handlers (Unix's; Windows' console events cannot fail so).
    #[cfg(unix)]
    #[error("cannot watch signals: {0}")]
    Signals(io::Error),
    /// A renewal's blocking task panicked or was cancelled.
    #[error("renewal task failed: {0}")]
    RenewalTask(tokio::task::JoinError),
    /// The cache directory cannot be used: renewals wait (and back off) until it can.
    #[error("{0}; renewals wait until it is usable")]
    CacheUnusable(String),
    /// Another daemon holds this cache directory.
    #[error(
        "another daemon (pid {pid}) is already renewing tokens for {}; stop it first ({stop})",
        dir.display()
    )]
    AlreadyRunning {
        pid: String,
        dir: PathBuf,
        stop: &'static str,
    },
    /// The daemon keeps tokens nowhere but the cache.
    #[error("the daemon needs the cache, but AWS_ECR_DISABLE_CACHE is set")]
    DaemonNeedsCache,
    /// `refresh` with no names renews the warm set, which only the cache knows.
    #[error("the cache is disabled; name the registries to refresh")]
    RefreshNeedsNames,
    /// `refresh`: the lines of the registries that failed (the report went to stdout).
    #[error("{}", .0.join("\n"))]
    RenewalsFailed(Vec<String>),
    /// No directory for our config file (no home, no XDG, no ECR_LOGIN_CONFIG).
    #[error("no config directory: set ECR_LOGIN_CONFIG")]
    NoConfigDir,
    /// Where Docker's config lives cannot be told (no home, `~` without a home).
    #[error("{0}")]
    DockerConfig(ecr_login_core::paths::PathError),
    /// A file's content the edit refused, the file named first (`before` joins them: a
    /// space where the words read on from the name, "… is not valid JSON"; else ": ").
    #[error("{}{before}{why}", path.display())]
    Content {
        path: PathBuf,
        before: &'static str,
        why: String,
    },
    /// Started as root with a user's files, configure acted as that user, and the kernel
    /// refused it something (a link to a file only root may write).
    #[error(
        "{error} (started as root with the files of uid {uid}, ecr-login acts as that user; run configure as that user)"
    )]
    AsUser { uid: u32, error: Box<Error> },
    /// A kubelet provider name another file in the drop-in directory already has.
    #[error(
        "{} already has a provider named {name:?}, and the kubelet refuses a name repeated across files; remove it there, or run configure --kubelet --config {}",
        file.display(),
        file.display()
    )]
    ProviderNameTaken { file: PathBuf, name: String },
    /// Something not ours where configure --kubelet puts its link.
    #[error("{} exists and is not our link to {target}; remove it first", path.display())]
    NotOurLink { path: PathBuf, target: &'static str },
    /// `status --json` could not render its report.
    #[error("cannot render the report as JSON: {0}")]
    Report(serde_json::Error),
}

impl CommandError {
    /// The error for `op` ("read", "write", "create", "remove") on `path`, for `map_err`.
    pub(crate) fn file(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |error| CommandError::File { op, path, error }
    }

    pub(crate) fn cache_unusable(e: &CacheError) -> Self {
        CommandError::CacheUnusable(e.to_string())
    }
}

impl From<CommandError> for Error {
    fn from(e: CommandError) -> Error {
        Error::Command(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::user_file::EditError;
    use crate::service::ServiceError;

    fn io_with_cause() -> io::Error {
        #[derive(Debug, ThisError)]
        #[error("the disk said no")]
        struct Disk(#[source] io::Error);
        io::Error::other(Disk(io::Error::from(io::ErrorKind::PermissionDenied)))
    }

    /// No cause's words are already in the error above it (as core's errors keep it).
    #[test]
    fn no_error_says_its_cause_twice() {
        let path = PathBuf::from("/x/y");
        let cases: Vec<Error> = vec![
            CommandError::file("write", &path)(io_with_cause()).into(),
            CommandError::Runtime(io_with_cause()).into(),
            EditError::<String>::Read {
                path: path.clone(),
                error: io_with_cause(),
            }
            .into(),
            ServiceError::OwnPath(io_with_cause()).into(),
        ];
        for e in &cases {
            let mut outer: &(dyn std::error::Error + 'static) = e;
            let mut links = 0;
            while let Some(inner) = outer.source() {
                let (o, i) = (outer.to_string(), inner.to_string());
                assert!(!o.contains(&i), "{o:?} already says its source's {i:?}");
                outer = inner;
                links += 1;
            }
            assert!(links <= 2, "{e}");
        }
    }

    #[test]
    fn a_file_error_names_the_file_and_the_cause() {
        let e = CommandError::file("remove", "/etc/kubernetes/x.yaml")(io::Error::from(
            io::ErrorKind::PermissionDenied,
        ));
        assert_eq!(
            e.to_string(),
            "cannot remove /etc/kubernetes/x.yaml: permission denied"
        );
    }
}
