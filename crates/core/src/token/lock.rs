//! The one place that takes file locks, in the manner of cargo's `util/flock.rs` and uv's
//! `locked_file.rs`.
//!
//! Try first; on contention wait, but never longer than the caller's budget: a process
//! stuck while holding a lock (stopped, hung on a dead disk) must not hang every `get`
//! behind it. The holder writes its pid into the lock file, so a waiter that gives up can
//! say whom it waited for. The kernel drops the lock when its holder exits, even by
//! SIGKILL, so a crashed helper never wedges the cache.

use std::fs::{File, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

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

/// Why a lock was not taken within the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTimeout {
    pub path: PathBuf,
    pub waited: Duration,
    /// The holder's pid, when it wrote one (ours do) or the kernel says.
    pub holder: Option<u32>,
}

impl std::fmt::Display for LockTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let holder = self.holder.map_or_else(
            || "another process".to_string(),
            |pid| format!("process {pid}"),
        );
        write!(
            f,
            "gave up after {:.1}s waiting for {holder} to release {}; if it is stuck, stop it",
            self.waited.as_secs_f32(),
            self.path.display()
        )
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = crate::files::open_options(0o600);
    options.read(true).write(true).create(true).truncate(false);
    crate::files::open_vetted(&options, path)
}

fn describe(path: &Path, e: io::Error) -> String {
    format!("cannot lock {}: {e}", path.display())
}

/// Records our pid in the lock we hold, for waiters' messages. Best effort.
fn mark_holder(file: &mut File) {
    let pid = std::process::id().to_string();
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(pid.as_bytes()));
}

fn recorded_holder(path: &Path) -> Option<u32> {
    let mut text = String::new();
    let mut options = crate::files::open_options(0o600);
    options.read(true);
    crate::files::open_vetted(&options, path)
        .ok()?
        .take(32)
        .read_to_string(&mut text)
        .ok()?;
    text.trim().parse().ok()
}

/// Takes the exclusive lock on `path`, waiting at most `budget`. `Ok(Err(timeout))` when
/// someone else held it all that time.
pub fn exclusive(path: &Path, budget: Duration) -> Result<Result<LockGuard, LockTimeout>, String> {
    let mut file = open_lock_file(path).map_err(|e| describe(path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            tracing::debug!("waiting for the lock on {}", path.display());
            // Block on another thread so we can stop waiting. If we give up, the thread
            // still gets the lock eventually and drops it at once (the receiver is gone).
            let (tx, rx) = mpsc::channel();
            let waiter = file.try_clone().map_err(|e| describe(path, e))?;
            std::thread::spawn(move || {
                let _ = tx.send(waiter.lock().map(|()| waiter));
            });
            match rx.recv_timeout(budget) {
                // Keep the handle that took the lock: on Windows a lock belongs to its
                // handle (on Unix both share one open file description).
                Ok(Ok(locked)) => file = locked,
                Ok(Err(e)) => return Err(describe(path, e)),
                Err(_) => {
                    return Ok(Err(LockTimeout {
                        path: path.to_path_buf(),
                        waited: budget,
                        holder: platform_holder(path).or_else(|| recorded_holder(path)),
                    }));
                }
            }
        }
        Err(TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {
            // A filesystem without locks: proceed unlocked, as cargo does.
            tracing::debug!("file locks are not supported for {}", path.display());
        }
        Err(TryLockError::Error(e)) => return Err(describe(path, e)),
    }
    mark_holder(&mut file);
    Ok(Ok(LockGuard { file }))
}

/// Takes the exclusive lock only if nobody holds it. `Ok(None)` means someone does.
pub fn try_exclusive(path: &Path) -> Result<Option<LockGuard>, String> {
    let mut file = open_lock_file(path).map_err(|e| describe(path, e))?;
    match file.try_lock() {
        Ok(()) => {
            mark_holder(&mut file);
            Ok(Some(LockGuard { file }))
        }
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(describe(path, e)),
    }
}

/// Whether someone holds the lock on `path`, without taking it for long.
pub fn is_held(path: &Path) -> bool {
    let Ok(file) = open_lock_file(path) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    }
}

/// Linux: who holds a `flock` on the file, from `/proc/locks` (a holder that did not write
/// its pid, such as `flock(1)`).
#[cfg(target_os = "linux")]
fn platform_holder(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        // "1: FLOCK  ADVISORY  WRITE 12345 fd:01:6029314 0 EOF"
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (pid, dev_inode) = (fields.get(4)?, fields.get(5)?);
        let this_inode: u64 = dev_inode.rsplit(':').next()?.parse().ok()?;
        (fields.get(1) == Some(&"FLOCK") && this_inode == inode)
            .then(|| pid.parse().ok())
            .flatten()
    })
}

#[cfg(not(target_os = "linux"))]
fn platform_holder(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_sees_the_lock_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let guard = exclusive(&path, Duration::ZERO).unwrap().unwrap();
        assert!(try_exclusive(&path).unwrap().is_none());
        assert!(is_held(&path));
        drop(guard);
        assert!(!is_held(&path));
        assert!(try_exclusive(&path).unwrap().is_some());
    }

    #[test]
    fn a_wait_ends_at_the_budget_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let _held = exclusive(&path, Duration::ZERO).unwrap().unwrap();
        let timeout = exclusive(&path, Duration::from_millis(50))
            .unwrap()
            .unwrap_err();
        assert_eq!(timeout.holder, Some(std::process::id()));
        let text = timeout.to_string();
        assert!(
            text.contains("x.lock") && text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
    }

    #[test]
    fn a_waiter_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = exclusive(&path, Duration::ZERO).unwrap().unwrap();
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let waiter = std::thread::spawn(move || {
            tx.send(()).unwrap();
            exclusive(&p, Duration::from_secs(30)).unwrap().is_ok()
        });
        rx.recv().unwrap();
        drop(held);
        assert!(waiter.join().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlinked_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        let link = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = exclusive(&link, Duration::ZERO).unwrap_err();
        assert!(err.contains("x.lock"), "{err}");
    }
}
