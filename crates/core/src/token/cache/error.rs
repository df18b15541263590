//! How the cache fails: each case says which file or directory, and none stops a `get`
//! (the caller warns and goes on without the cache, or treats the entry as a miss).

use crate::files::Refused;
use std::io;
use std::path::PathBuf;

/// Each variant prints its cause's words, so none returns it from `source()` (but a refusal,
/// which is its cause).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// No home directory to put the default cache in.
    #[error("no home directory to put the cache in (set HOME or AWS_ECR_CACHE_DIR)")]
    NoHome,
    /// `AWS_ECR_CACHE_DIR` starts with `~` and there is no home to expand it with.
    #[error("AWS_ECR_CACHE_DIR starts with ~ but no home directory is set (HOME)")]
    TildeWithoutHome,
    /// The directory (or its parent) could not be created.
    #[error("cannot create cache directory {}: {error}", dir.display())]
    Create { dir: PathBuf, error: io::Error },
    /// The directory could not be looked at.
    #[error("cannot use cache directory {}: {error}", dir.display())]
    Unusable { dir: PathBuf, error: io::Error },
    /// A symlink, someone else's, writable by others, a hard link…
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("cache directory {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// An entry that could not be read.
    #[error("cannot read cache entry {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    /// Not an entry: too large, or not a regular file.
    #[error("cache entry {} is not a cache entry; ignoring it", .0.display())]
    NotAnEntry(PathBuf),
    /// An entry that does not parse (the serde message, values left out).
    #[error("cache entry {} is corrupt ({detail}); it will be replaced", path.display())]
    Corrupt { path: PathBuf, detail: String },
    /// An entry whose content belongs to another key.
    #[error("cache entry {} does not match its name; ignoring it", .0.display())]
    Misnamed(PathBuf),
    #[error("cannot write cache entry {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
    /// No randomness to make the fingerprint key of a new cache: the cache is not used,
    /// rather than keyed with something guessable.
    #[error(
        "no randomness from the system to make the fingerprint key of cache directory {} ({error}); the cache is not used without one",
        dir.display()
    )]
    NoKey { dir: PathBuf, error: io::Error },
}
