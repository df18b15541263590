//! How the config file fails: one line naming the file, then the line or the key where it
//! went wrong and why.

use crate::duration::DurationError;
use crate::token::host::HostError;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Why our config file cannot be used. Every command stops on it: a typo in `role_arn`
/// silently ignored would push with the wrong identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// Boxed: every front end's `Error` carries this one, and stays small.
    problem: Box<Problem>,
}

#[derive(Debug, Clone)]
enum Problem {
    /// Shared so that the error stays `Clone` (the front ends' `Error` is).
    Read(Arc<io::Error>),
    Invalid(Invalid),
}

impl PartialEq for Problem {
    fn eq(&self, other: &Problem) -> bool {
        match (self, other) {
            (Problem::Read(a), Problem::Read(b)) => a.kind() == b.kind(),
            (Problem::Invalid(a), Problem::Invalid(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Problem {}

impl ConfigError {
    pub(crate) fn read(path: PathBuf, source: io::Error) -> ConfigError {
        ConfigError {
            path,
            problem: Box::new(Problem::Read(Arc::new(source))),
        }
    }

    pub(super) fn invalid(path: PathBuf, invalid: Invalid) -> ConfigError {
        ConfigError {
            path,
            problem: Box::new(Problem::Invalid(invalid)),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &*self.problem {
            Problem::Read(e) => write!(f, "cannot read config file {path}: {e}"),
            Problem::Invalid(i) => write!(f, "config file {path}: {i}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.problem {
            Problem::Read(e) => e.source(),
            Problem::Invalid(i) => i.source(),
        }
    }
}

/// What is wrong in the file's text. Each variant prints its cause's words, so none returns
/// it from `source()`; the ones that are their cause forward (`transparent`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Invalid {
    /// Not TOML, or a key we do not know: toml's words (which name line and column), and
    /// the line where serde knows it. Its message only: toml's `Display` adds an excerpt of
    /// the file.
    #[error("{}{}", line.map(|l| format!("line {l}: ")).unwrap_or_default(), error.message().trim())]
    Syntax {
        line: Option<usize>,
        error: toml::de::Error,
    },
    /// A value that is wrong: its key (`registries."h".role_arn`) and why.
    #[error("{key}: {why}")]
    Value { key: String, why: BadValue },
}

impl Invalid {
    pub(super) fn value(key: impl Into<String>, why: impl Into<BadValue>) -> Invalid {
        Invalid::Value {
            key: key.into(),
            why: why.into(),
        }
    }
}

/// Why a value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadValue {
    /// A `[registries]` key that is not a host pattern.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("{0:?} is not an ECR registry host")]
    NotAnEcrHost(String),
    #[error("{0:?} is not an ARN")]
    NotAnArn(String),
    #[error(transparent)]
    MinRemaining(#[from] MinRemainingError),
    /// `daemon.renew_after` outside 0.05..0.95 (the number as written).
    #[error("{0} is outside 0.05..0.95 (a fraction of the token's life)")]
    RenewAfter(String),
    #[error(transparent)]
    Host(#[from] HostError),
    /// A `keep_warm` host that no token could be asked for.
    #[error("{0:?} is neither an ECR registry host nor an alias with `ecr = …` in [registries]")]
    NotEcrNorAlias(String),
    #[error(transparent)]
    Duration(#[from] DurationError),
    #[error(transparent)]
    HelperName(#[from] HelperNameError),
    #[error("{} is not an absolute path", .0.display())]
    NotAbsolute(PathBuf),
    /// The one that says only the host: why it is not one is its source.
    #[error("{host:?} is not a registry host")]
    NotARegistryHost { host: String, source: HostError },
    #[error("must be more than zero")]
    Zero,
    /// A `[kubelet] role_annotations` entry the kubelet would refuse as an annotation key.
    #[error("{0:?} is not an annotation key (a qualified name such as eks.amazonaws.com/role-arn)")]
    AnnotationKey(String),
    /// `[kubelet] retry_for` beyond what the kubelet waits for a provider.
    #[error("{0} is longer than the kubelet waits for a provider (one minute); at most 55s")]
    AboveKubeletTimeout(String),
}

/// Why a `[registries]` key is not a host pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatternError {
    #[error("empty registry key")]
    Empty,
    #[error(transparent)]
    Host(HostError),
    #[error("a registry key is a host or host:port, without a path")]
    WithPath,
}

/// Why a value is not a credential helper's name for Docker's `credsStore`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperNameError {
    /// `ecr-login` itself: other registries would come straight back to us.
    #[error(
        "\"ecr-login\" would hand other registries back to ecr-login itself; name another helper (pass, secretservice, osxkeychain, wincred, desktop), or remove the setting to keep logins in ecr-login's own store"
    )]
    Ourselves,
    #[error(
        "{0:?} is not a credential helper name (the part after docker-credential-, e.g. \"pass\")"
    )]
    NotAName(String),
}

/// Why a `min_remaining` is neither a percentage nor a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MinRemainingError {
    #[error("{0:?} is not a percentage")]
    NotAPercentage(String),
    #[error("{0:?} is not between 0% and 100%")]
    OutOfRange(String),
    #[error(transparent)]
    Duration(DurationError),
}
