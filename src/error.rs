//! The outcomes of a request that are not a token, as the protocol tells them to clients.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not an ECR registry (nor an alias of one): the client goes anonymous.
    NotFound,
    /// The input was not something we can act on (bad stdin, hostile host, bad JSON).
    Input(String),
    /// The config file is unreadable or malformed.
    Config(String),
    /// An ECR registry whose token we could not get: the client aborts and shows this.
    Fetch { registry: String, message: String },
    /// Anything else that stops a command (a file we cannot write, a daemon already running).
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str(crate::protocol::NOT_FOUND),
            Error::Input(m) | Error::Config(m) | Error::Other(m) => f.write_str(m),
            Error::Fetch { registry, message } => write!(f, "ECR token for {registry}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(m: String) -> Error {
        Error::Other(m)
    }
}
