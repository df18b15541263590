//! Why a login to a registry that is not ours could not be kept, found or handed over: the
//! file store's failures and the fallback helper's. Each renders the user's one line here.

use crate::files::Refused;
use crate::token::lock::LockError;
use std::io;
use std::path::PathBuf;

/// Each variant prints its cause's words, so none returns it from `source()` (but a refusal
/// and a lock, which are their cause).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No home directory, so no place for the file store.
    #[error("no home directory to keep logins in (set HOME or {env})")]
    NoHome { env: &'static str },
    /// The file store's directory could not be looked at.
    #[error("cannot use login store {}: {error}", dir.display())]
    UseStore { dir: PathBuf, error: io::Error },
    #[error("cannot create login store {}: {error}", dir.display())]
    CreateStore { dir: PathBuf, error: io::Error },
    #[error("cannot list {}: {error}", dir.display())]
    ListStore { dir: PathBuf, error: io::Error },
    #[error("login file {}: {error}", path.display())]
    ReadLogin { path: PathBuf, error: io::Error },
    #[error("cannot write {}: {error}", path.display())]
    WriteLogin { path: PathBuf, error: io::Error },
    /// A login file that does not parse.
    #[error("login file {}: corrupt ({detail}); log in again", path.display())]
    Corrupt { path: PathBuf, detail: String },
    /// A file or directory of the file store that is not ours to use.
    #[error(transparent)]
    Refused(Refused),
    /// Another `store` or `erase` of the same server held on.
    #[error(transparent)]
    Lock(LockError),
    /// The fallback helper is not one we may run.
    #[error("refusing the fallback credential helper docker-credential-{name}: {why}")]
    Untrusted { name: String, why: String },
    /// The fallback helper is on no `PATH` entry.
    #[error(
        "the fallback credential helper docker-credential-{name} is not on PATH ([store] fallback = \"{name}\" in {}); install it, or remove that setting to keep logins in ecr-login's own store",
        config.as_ref().map_or_else(|| "the ecr-login config".into(), |p| p.display().to_string())
    )]
    Missing {
        name: String,
        config: Option<PathBuf>,
    },
    /// The fallback helper could not be started.
    #[error("cannot run the fallback credential helper {}: {error}", program.display())]
    Run { program: PathBuf, error: io::Error },
    /// The fallback helper's `list` failed, saying `said`.
    #[error("docker-credential-{name} list failed: {said}")]
    ListFailed { name: String, said: String },
    /// The fallback helper's `list` answered something other than a JSON map (serde's words
    /// redacted: they may quote a value).
    #[error(
        "docker-credential-{name} list answered no JSON map: {}",
        crate::redact::serde_message(error)
    )]
    ListNotJson {
        name: String,
        error: serde_json::Error,
    },
}
