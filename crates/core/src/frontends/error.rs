//! The outcomes of a request that are not an answer, as every front end reports them.

use crate::token::fetch::FetchError;

/// The reply that tells docker/cli, containers/image and oras to go anonymous (SPEC Part B).
pub(crate) const NOT_FOUND: &str = "credentials not found in native keychain";

/// The rule for this and every error type in the workspace: a variant that prints its
/// cause's words does not also return that cause from `source()`, and a variant that is only
/// its cause forwards both (`transparent`), so nothing that walks the chain says a message
/// twice.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not an ECR registry (nor an alias of one): the client goes anonymous.
    #[error("{NOT_FOUND}")]
    NotFound,
    /// The input was not something we can act on (bad stdin, bad JSON).
    #[error("{0}")]
    Input(String),
    /// The config file is unreadable or malformed.
    #[error(transparent)]
    Config(#[from] crate::token::config::ConfigError),
    /// An ECR registry whose token we could not get: the client aborts and shows this.
    #[error("ECR token for {registry}: {error}")]
    Fetch { registry: String, error: FetchError },
    /// The cache, where a command cannot go on without it (the daemon, `login`, `store`):
    /// its line is the whole message.
    #[error(transparent)]
    Cache(#[from] crate::token::cache::CacheError),
    /// An entry's lock, where a command cannot go on without it (a renewal).
    #[error(transparent)]
    Lock(crate::token::lock::LockError),
    /// No key to fingerprint secrets under (the system gives no randomness).
    #[error(transparent)]
    Key(#[from] crate::token::identity::KeyError),
    /// A login to a registry that is not ours could not be kept, found or handed over.
    #[error(transparent)]
    Store(#[from] crate::frontends::store_error::StoreError),
    /// Who we act as could not be settled: every command stops.
    #[error(transparent)]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// The one catch-all: a command's own typed error (the full binary's `login`, `configure`,
    /// the daemon, …; the front binary's failed hand-off), said by its `Display`.
    #[error(transparent)]
    Command(Box<dyn std::error::Error + Send + Sync>),
}

/// The token path's failures, as every caller but the protocols' front ends tells them (those
/// decide first what ECR Public's means: `frontends::token_error`).
impl From<crate::token::resolve::TokenError> for Error {
    fn from(e: crate::token::resolve::TokenError) -> Error {
        use crate::token::resolve::TokenError;
        match e {
            TokenError::Fetch { registry, error } => Error::Fetch {
                registry: registry.host().to_string(),
                error,
            },
            TokenError::Cache(e) => Error::Cache(e),
            TokenError::Lock(e) => Error::Lock(e),
        }
    }
}

/// Walks `e`'s chain and fails where a cause's words are already in the error above it:
/// whoever prints the chain (anyhow's `{:#}`, tracing's error fields) would say them twice.
#[cfg(test)]
pub(crate) fn assert_says_each_once(e: &(dyn std::error::Error + 'static)) {
    let mut outer = e;
    while let Some(inner) = outer.source() {
        let (o, i) = (outer.to_string(), inner.to_string());
        assert!(!o.contains(&i), "{o:?} already says its source's {i:?}");
        outer = inner;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::path::PathBuf;

    /// An I/O error with a cause of its own, as the OS and libraries make them: the chain
    /// then has a link past the I/O error for a wrapper to forward or to repeat.
    fn io_with_cause() -> io::Error {
        #[derive(Debug, thiserror::Error)]
        #[error("the disk said no")]
        struct Disk(#[source] io::Error);
        io::Error::other(Disk(io::Error::from(io::ErrorKind::PermissionDenied)))
    }

    #[test]
    fn no_error_says_its_cause_twice() {
        use crate::token::cache::CacheError;
        let path = PathBuf::from("/x/y");
        let cases: Vec<Error> = vec![
            Error::Config(crate::token::config::ConfigError::read(
                path.clone(),
                io_with_cause(),
            )),
            Error::Cache(CacheError::Create {
                dir: path.clone(),
                error: io_with_cause(),
            }),
            Error::Lock(crate::token::lock::LockError::Io {
                path: path.clone(),
                error: io_with_cause(),
            }),
            Error::Store(crate::frontends::store_error::StoreError::Run {
                program: path.clone(),
                error: io_with_cause(),
            }),
            Error::Command(Box::new(io_with_cause())),
        ];
        for e in &cases {
            assert_says_each_once(e);
        }
        // A hand-written one forwards past the cause it prints: the cause's own cause stays.
        assert!(std::error::Error::source(&cases[0]).is_some());
    }
}
