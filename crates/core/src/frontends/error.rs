//! The outcomes of a request that are not an answer, as every front end reports them.

use crate::token::fetch::FetchError;
use std::fmt;

/// The reply that tells docker/cli, containers/image and oras to go anonymous (SPEC Part B).
pub(crate) const NOT_FOUND: &str = "credentials not found in native keychain";

#[derive(Debug)]
pub enum Error {
    /// Not an ECR registry (nor an alias of one): the client goes anonymous.
    NotFound,
    /// The input was not something we can act on (bad stdin, bad JSON).
    Input(String),
    /// The config file is unreadable or malformed.
    Config(crate::token::config::ConfigError),
    /// An ECR registry whose token we could not get: the client aborts and shows this.
    Fetch { registry: String, error: FetchError },
    /// The cache, where a command cannot go on without it (the daemon, `login`, `store`).
    Cache(crate::token::cache::CacheError),
    /// An entry's lock, where a command cannot go on without it (a renewal).
    Lock(crate::token::lock::LockError),
    /// No key to fingerprint secrets under (the system gives no randomness).
    Key(crate::token::identity::KeyError),
    /// A login to a registry that is not ours could not be kept, found or handed over.
    Store(crate::frontends::store_error::StoreError),
    /// A command's own typed error (the full binary's: `login`, …), said by its `Display`.
    Command(Box<dyn std::error::Error + Send + Sync>),
    /// Anything else that stops a command (a file we cannot write, a daemon already running).
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str(NOT_FOUND),
            Error::Input(m) | Error::Other(m) => f.write_str(m),
            Error::Config(e) => e.fmt(f),
            Error::Cache(e) => e.fmt(f),
            Error::Lock(e) => e.fmt(f),
            Error::Key(e) => e.fmt(f),
            Error::Store(e) => e.fmt(f),
            Error::Command(e) => e.fmt(f),
            Error::Fetch { registry, error } => write!(f, "ECR token for {registry}: {error}"),
        }
    }
}

/// Each variant's line already is its cause's (or ends with it): the chain goes on from the
/// cause's own cause, so nothing that walks it says a message twice.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => e.source(),
            Error::Fetch { error, .. } => error.source(),
            Error::Cache(e) => e.source(),
            Error::Lock(e) => e.source(),
            Error::Key(e) => e.source(),
            Error::Store(e) => e.source(),
            Error::Command(e) => e.source(),
            Error::NotFound | Error::Input(_) | Error::Other(_) => None,
        }
    }
}

impl From<crate::frontends::store_error::StoreError> for Error {
    fn from(e: crate::frontends::store_error::StoreError) -> Error {
        Error::Store(e)
    }
}

impl From<crate::token::config::ConfigError> for Error {
    fn from(e: crate::token::config::ConfigError) -> Error {
        Error::Config(e)
    }
}

/// The cache's failures stop a command only where it cannot go on without the cache (the
/// daemon, `login`): its line is the whole message.
impl From<crate::token::cache::CacheError> for Error {
    fn from(e: crate::token::cache::CacheError) -> Error {
        Error::Cache(e)
    }
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

impl From<crate::token::identity::KeyError> for Error {
    fn from(e: crate::token::identity::KeyError) -> Error {
        Error::Key(e)
    }
}

/// Not being able to settle who we act as stops every command; its line is the message.
impl From<crate::privilege::PrivilegeError> for Error {
    fn from(e: crate::privilege::PrivilegeError) -> Error {
        Error::Other(e.to_string())
    }
}

impl From<String> for Error {
    fn from(m: String) -> Error {
        Error::Other(m)
    }
}
