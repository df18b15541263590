//! Why a login to a registry that is not ours could not be kept, found or handed over: the
//! file store's failures and the fallback helper's. Each renders the user's one line here.

use crate::files::Refused;
use crate::token::lock::LockError;
use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum StoreError {
    /// No home directory, so no place for the file store.
    NoHome {
        env: &'static str,
    },
    /// The file store's directory could not be looked at.
    UseStore {
        dir: PathBuf,
        source: io::Error,
    },
    CreateStore {
        dir: PathBuf,
        source: io::Error,
    },
    ListStore {
        dir: PathBuf,
        source: io::Error,
    },
    ReadLogin {
        path: PathBuf,
        source: io::Error,
    },
    WriteLogin {
        path: PathBuf,
        source: io::Error,
    },
    /// A login file that does not parse.
    Corrupt {
        path: PathBuf,
        detail: String,
    },
    /// A file or directory of the file store that is not ours to use.
    Refused(Refused),
    /// Another `store` or `erase` of the same server held on.
    Lock(LockError),
    /// The fallback helper is not one we may run.
    Untrusted {
        name: String,
        why: String,
    },
    /// The fallback helper is on no `PATH` entry.
    Missing {
        name: String,
        config: Option<PathBuf>,
    },
    /// The fallback helper could not be started.
    Run {
        program: PathBuf,
        source: io::Error,
    },
    /// The fallback helper's `list` failed, saying `said`.
    ListFailed {
        name: String,
        said: String,
    },
    /// The fallback helper's `list` answered something other than a JSON map.
    ListNotJson {
        name: String,
        source: serde_json::Error,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use StoreError as S;
        match self {
            S::NoHome { env } => {
                write!(f, "no home directory to keep logins in (set HOME or {env})")
            }
            S::UseStore { dir, source } => {
                write!(f, "cannot use login store {}: {source}", dir.display())
            }
            S::CreateStore { dir, source } => {
                write!(f, "cannot create login store {}: {source}", dir.display())
            }
            S::ListStore { dir, source } => write!(f, "cannot list {}: {source}", dir.display()),
            S::ReadLogin { path, source } => write!(f, "login file {}: {source}", path.display()),
            S::WriteLogin { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            S::Corrupt { path, detail } => write!(
                f,
                "login file {}: corrupt ({detail}); log in again",
                path.display()
            ),
            S::Refused(e) => e.fmt(f),
            S::Lock(e) => e.fmt(f),
            S::Untrusted { name, why } => write!(
                f,
                "refusing the fallback credential helper docker-credential-{name}: {why}"
            ),
            S::Missing { name, config } => write!(
                f,
                "the fallback credential helper docker-credential-{name} is not on PATH ([store] fallback = \"{name}\" in {}); install it, or remove that setting to keep logins in ecr-login's own store",
                config.as_ref().map_or_else(
                    || "the ecr-login config".into(),
                    |p| p.display().to_string()
                )
            ),
            S::Run { program, source } => write!(
                f,
                "cannot run the fallback credential helper {}: {source}",
                program.display()
            ),
            S::ListFailed { name, said } => {
                write!(f, "docker-credential-{name} list failed: {said}")
            }
            S::ListNotJson { name, source } => write!(
                f,
                "docker-credential-{name} list answered no JSON map: {}",
                crate::redact::serde_message(source)
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        use StoreError as S;
        match self {
            S::UseStore { source, .. }
            | S::CreateStore { source, .. }
            | S::ListStore { source, .. }
            | S::ReadLogin { source, .. }
            | S::WriteLogin { source, .. }
            | S::Run { source, .. } => source.source(),
            // Its words are a redacted form of serde's: serde's own would show a value.
            S::ListNotJson { .. } => None,
            S::Refused(e) => e.source(),
            S::Lock(e) => e.source(),
            _ => None,
        }
    }
}
