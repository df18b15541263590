//! How the cache fails: each case says which file or directory, and none stops a `get`
//! (the caller warns and goes on without the cache, or treats the entry as a miss).

use crate::files::Refused;
use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum CacheError {
    /// No home directory to put the default cache in.
    NoHome,
    /// `AWS_ECR_CACHE_DIR` starts with `~` and there is no home to expand it with.
    TildeWithoutHome,
    /// The directory (or its parent) could not be created.
    Create {
        dir: PathBuf,
        source: io::Error,
    },
    /// The directory could not be looked at.
    Unusable {
        dir: PathBuf,
        source: io::Error,
    },
    /// A symlink, someone else's, writable by others, a hard link…
    Refused(Refused),
    NotADirectory(PathBuf),
    /// An entry that could not be read.
    Read {
        path: PathBuf,
        source: io::Error,
    },
    /// Not an entry: too large, or not a regular file.
    NotAnEntry(PathBuf),
    /// An entry that does not parse (the serde message, values left out).
    Corrupt {
        path: PathBuf,
        detail: String,
    },
    /// An entry whose content belongs to another key.
    Misnamed(PathBuf),
    Write {
        path: PathBuf,
        source: io::Error,
    },
    /// No randomness to make the fingerprint key of a new cache: the cache is not used,
    /// rather than keyed with something guessable.
    NoKey {
        dir: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::NoHome => {
                f.write_str("no home directory to put the cache in (set HOME or AWS_ECR_CACHE_DIR)")
            }
            CacheError::TildeWithoutHome => {
                f.write_str("AWS_ECR_CACHE_DIR starts with ~ but no home directory is set (HOME)")
            }
            CacheError::Create { dir, source } => {
                write!(
                    f,
                    "cannot create cache directory {}: {source}",
                    dir.display()
                )
            }
            CacheError::Unusable { dir, source } => {
                write!(f, "cannot use cache directory {}: {source}", dir.display())
            }
            CacheError::Refused(r) => r.fmt(f),
            CacheError::NotADirectory(dir) => {
                write!(f, "cache directory {} is not a directory", dir.display())
            }
            CacheError::Read { path, source } => {
                write!(f, "cannot read cache entry {}: {source}", path.display())
            }
            CacheError::NotAnEntry(path) => write!(
                f,
                "cache entry {} is not a cache entry; ignoring it",
                path.display()
            ),
            CacheError::Corrupt { path, detail } => write!(
                f,
                "cache entry {} is corrupt ({detail}); it will be replaced",
                path.display()
            ),
            CacheError::Misnamed(path) => write!(
                f,
                "cache entry {} does not match its name; ignoring it",
                path.display()
            ),
            CacheError::Write { path, source } => {
                write!(f, "cannot write cache entry {}: {source}", path.display())
            }
            CacheError::NoKey { dir, source } => write!(
                f,
                "no randomness from the system to make the fingerprint key of cache directory {} ({source}); the cache is not used without one",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for CacheError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CacheError::Create { source, .. }
            | CacheError::Unusable { source, .. }
            | CacheError::Read { source, .. }
            | CacheError::Write { source, .. }
            | CacheError::NoKey { source, .. } => source.source(),
            CacheError::Refused(r) => r.source(),
            _ => None,
        }
    }
}

impl From<Refused> for CacheError {
    fn from(r: Refused) -> CacheError {
        CacheError::Refused(r)
    }
}
