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

/// What is wrong in the file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Not TOML, or a key we do not know: toml's words (which name line and column), and
    /// the line where serde knows it.
    Syntax {
        line: Option<usize>,
        source: toml::de::Error,
    },
    /// A value that is wrong: its key (`registries."h".role_arn`) and why.
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

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Syntax { line, source } => {
                let msg = source.message().trim();
                match line {
                    Some(line) => write!(f, "line {line}: {msg}"),
                    None => f.write_str(msg),
                }
            }
            Invalid::Value { key, why } => write!(f, "{key}: {why}"),
        }
    }
}

impl std::error::Error for Invalid {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Its words are toml's message, without the excerpt of the file toml's
            // `Display` adds: that excerpt is what the source would say again.
            Invalid::Syntax { .. } => None,
            Invalid::Value { why, .. } => why.source(),
        }
    }
}

/// Why a value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadValue {
    /// A `[registries]` key that is not a host pattern.
    Pattern(PatternError),
    NotAnEcrHost(String),
    NotAnArn(String),
    MinRemaining(MinRemainingError),
    /// `daemon.renew_after` outside 0.05..0.95 (the number as written).
    RenewAfter(String),
    Host(HostError),
    /// A `keep_warm` host that no token could be asked for.
    NotEcrNorAlias(String),
    Duration(DurationError),
    HelperName(HelperNameError),
    NotAbsolute(PathBuf),
    NotARegistryHost {
        host: String,
        source: HostError,
    },
    Zero,
    /// A `[kubelet] role_annotations` entry the kubelet would refuse as an annotation key.
    AnnotationKey(String),
    /// `[kubelet] retry_for` beyond what the kubelet waits for a provider.
    AboveKubeletTimeout(String),
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadValue::Pattern(e) => e.fmt(f),
            BadValue::NotAnEcrHost(v) => write!(f, "{v:?} is not an ECR registry host"),
            BadValue::NotAnArn(v) => write!(f, "{v:?} is not an ARN"),
            BadValue::MinRemaining(e) => e.fmt(f),
            BadValue::RenewAfter(v) => write!(
                f,
                "{v} is outside 0.05..0.95 (a fraction of the token's life)"
            ),
            BadValue::Host(e) => e.fmt(f),
            BadValue::NotEcrNorAlias(host) => write!(
                f,
                "{host:?} is neither an ECR registry host nor an alias with `ecr = …` in [registries]"
            ),
            BadValue::Duration(e) => e.fmt(f),
            BadValue::HelperName(e) => e.fmt(f),
            BadValue::NotAbsolute(p) => write!(f, "{} is not an absolute path", p.display()),
            BadValue::NotARegistryHost { host, .. } => {
                write!(f, "{host:?} is not a registry host")
            }
            BadValue::Zero => f.write_str("must be more than zero"),
            BadValue::AboveKubeletTimeout(v) => write!(
                f,
                "{v} is longer than the kubelet waits for a provider (one minute); at most 55s"
            ),
            BadValue::AnnotationKey(k) => write!(
                f,
                "{k:?} is not an annotation key (a qualified name such as eks.amazonaws.com/role-arn)"
            ),
        }
    }
}

impl std::error::Error for BadValue {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BadValue::Pattern(e) => e.source(),
            BadValue::MinRemaining(e) => e.source(),
            BadValue::Host(e) => e.source(),
            // The one that says only the host: why it is not one is its source.
            BadValue::NotARegistryHost { source: e, .. } => Some(e),
            BadValue::Duration(e) => e.source(),
            BadValue::HelperName(e) => e.source(),
            _ => None,
        }
    }
}

/// Each check's own error is a [`BadValue`] of its kind.
macro_rules! bad_value_from {
    ($($error:ty => $variant:ident),* $(,)?) => {
        $(impl From<$error> for BadValue {
            fn from(e: $error) -> BadValue {
                BadValue::$variant(e)
            }
        })*
    };
}

bad_value_from! {
    PatternError => Pattern,
    MinRemainingError => MinRemaining,
    HostError => Host,
    DurationError => Duration,
    HelperNameError => HelperName,
}

/// Why a `[registries]` key is not a host pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PatternError {
    Empty,
    Host(HostError),
    WithPath,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Empty => f.write_str("empty registry key"),
            PatternError::Host(e) => e.fmt(f),
            PatternError::WithPath => {
                f.write_str("a registry key is a host or host:port, without a path")
            }
        }
    }
}

impl std::error::Error for PatternError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PatternError::Host(e) => e.source(),
            _ => None,
        }
    }
}

/// Why a value is not a credential helper's name for Docker's `credsStore`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperNameError {
    /// `ecr-login` itself: other registries would come straight back to us.
    Ourselves,
    NotAName(String),
}

impl fmt::Display for HelperNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperNameError::Ourselves => f.write_str(
                "\"ecr-login\" would hand other registries back to ecr-login itself; name another helper (pass, secretservice, osxkeychain, wincred, desktop), or remove the setting to keep logins in ecr-login's own store",
            ),
            HelperNameError::NotAName(name) => write!(
                f,
                "{name:?} is not a credential helper name (the part after docker-credential-, e.g. \"pass\")"
            ),
        }
    }
}

impl std::error::Error for HelperNameError {}

/// Why a `min_remaining` is neither a percentage nor a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MinRemainingError {
    NotAPercentage(String),
    OutOfRange(String),
    Duration(DurationError),
}

impl fmt::Display for MinRemainingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinRemainingError::NotAPercentage(v) => write!(f, "{v:?} is not a percentage"),
            MinRemainingError::OutOfRange(v) => write!(f, "{v:?} is not between 0% and 100%"),
            MinRemainingError::Duration(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for MinRemainingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MinRemainingError::Duration(e) => e.source(),
            _ => None,
        }
    }
}
