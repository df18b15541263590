//! The one place that takes file locks, in the manner of cargo's `util/flock.rs`.
//!
//! Try first; on contention say who we wait for, then block. The kernel drops the lock
//! when its holder exits, even by SIGKILL, so a crashed helper never wedges the cache.

use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;

/// An exclusive lock on a file, released on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
#[derive(Debug)]
pub struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    crate::files::open_options(0o600)
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

fn describe(path: &Path, e: io::Error) -> String {
    format!("cannot lock {}: {e}", path.display())
}

/// Blocks until the exclusive lock on `path` is ours. `what` names the waiting, as in
/// "waiting for lock on <what>" when another process holds it.
pub fn exclusive(path: &Path, what: &str) -> Result<LockGuard, String> {
    let file = open_lock_file(path).map_err(|e| describe(path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            tracing::debug!("waiting for lock on {what} ({})", path.display());
            file.lock().map_err(|e| describe(path, e))?;
        }
        Err(TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {
            // A filesystem without locks: proceed unlocked, as cargo does.
            tracing::debug!("file locks are not supported for {}", path.display());
        }
        Err(TryLockError::Error(e)) => return Err(describe(path, e)),
    }
    Ok(LockGuard { file })
}

/// Takes the exclusive lock only if nobody holds it. `Ok(None)` means someone does.
pub fn try_exclusive(path: &Path) -> Result<Option<LockGuard>, String> {
    let file = open_lock_file(path).map_err(|e| describe(path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(LockGuard { file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(describe(path, e)),
    }
}

/// Whether someone holds the lock on `path`, without taking it for long.
pub fn is_held(path: &Path) -> bool {
    matches!(try_exclusive(path), Ok(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_sees_the_lock_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let guard = exclusive(&path, "x").unwrap();
        assert!(try_exclusive(&path).unwrap().is_none());
        assert!(is_held(&path));
        drop(guard);
        assert!(try_exclusive(&path).unwrap().is_some());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlinked_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        let link = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = exclusive(&link, "x").unwrap_err();
        assert!(err.contains("x.lock"), "{err}");
    }
}
