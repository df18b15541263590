//! The one place that takes file locks, in the manner of cargo's `util/flock.rs` and uv's
//! `locked_file.rs`.
//!
//! Try first; on contention wait, but never longer than the caller's budget: a process
//! stuck while holding a lock (stopped, hung on a dead disk) must not hang every `get`
//! behind it. The first try is bounded too: on NFS and some FUSE filesystems the lock call
//! itself can hang, so where the filesystem is NFS, where locks are unsupported, or where a
//! first try does not return at once, we proceed without cross-process locking and say so
//! once, as cargo does. The holder writes its pid into the lock file, so a waiter that gives
//! up can say whom it waited for. The kernel drops the lock when its holder exits, even by
//! SIGKILL, so a crashed helper never wedges the cache.

use std::fs::{File, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How long a first, uncontended try may take, at least, before we decide locking hangs
/// here. A local `flock` answers in microseconds.
const FIRST_TRY_LIMIT: Duration = Duration::from_millis(1500);

/// An exclusive lock on a file, released on drop; or, where the filesystem cannot lock,
/// no lock at all (the work goes on, without cross-process exclusion).
#[must_use = "the lock is released as soon as the guard is dropped"]
#[derive(Debug)]
pub struct LockGuard {
    file: Option<File>,
}

impl LockGuard {
    /// Whether it holds a real lock (`false`: the filesystem cannot lock).
    #[cfg(test)]
    fn is_locked(&self) -> bool {
        self.file.is_some()
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            let _ = file.unlock();
        }
    }
}

/// Why a lock was not taken. Each prints its cause's words, so none returns it.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be opened, or locking it failed.
    #[error("cannot lock {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    /// Someone else held it for the whole budget.
    #[error("{0}")]
    Timeout(LockTimeout),
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

fn describe(path: &Path, error: io::Error) -> LockError {
    LockError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Says once per process that locking is off, and why.
fn unlocked(path: &Path, why: &str) -> LockGuard {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        let dir = path.parent().unwrap_or(path);
        tracing::warn!(
            "file locks do not work in {} ({why}); going on without cross-process locking, so parallel requests may each fetch a token",
            dir.display()
        );
    }
    LockGuard { file: None }
}

/// What a locking thread tells the waiter.
enum Step {
    /// The first try found someone holding it: now waiting.
    Contended,
    Locked(File),
    Unsupported,
    Failed(io::Error),
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

/// Takes the exclusive lock on `path`, waiting at most `budget` for a holder, and at most
/// [`FIRST_TRY_LIMIT`] for the lock call itself.
pub(crate) fn exclusive(path: &Path, budget: Duration) -> Result<LockGuard, LockError> {
    let file = open_lock_file(path).map_err(|e| describe(path, e))?;
    if let Some(fs) = platform_unlockable_fs(path) {
        return Ok(unlocked(path, &format!("a {fs} filesystem")));
    }
    acquire(file, path, budget, File::try_lock, File::lock)
}

/// [`exclusive`] with the lock calls as parameters: the tests pass one that hangs.
fn acquire(
    file: File,
    path: &Path,
    budget: Duration,
    try_lock: fn(&File) -> Result<(), TryLockError>,
    lock: fn(&File) -> io::Result<()>,
) -> Result<LockGuard, LockError> {
    let (tx, rx) = mpsc::channel();
    // The calls run on another thread, so that we can stop waiting. If we give up, the
    // thread still gets the lock eventually and drops it at once (the receiver is gone).
    std::thread::spawn(move || {
        let step = match try_lock(&file) {
            Ok(()) => Step::Locked(file),
            Err(TryLockError::WouldBlock) => {
                let _ = tx.send(Step::Contended);
                match lock(&file) {
                    Ok(()) => Step::Locked(file),
                    Err(e) => Step::Failed(e),
                }
            }
            Err(TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {
                Step::Unsupported
            }
            Err(TryLockError::Error(e)) => Step::Failed(e),
        };
        let _ = tx.send(step);
    });
    // A loaded machine can be slow to run the thread at all: the first try gets the whole
    // budget if that is longer, and is given up only after it.
    let outcome = match rx.recv_timeout(budget.max(FIRST_TRY_LIMIT)) {
        Ok(Step::Contended) => {
            tracing::debug!("waiting for the lock on {}", path.display());
            match rx.recv_timeout(budget) {
                Ok(step) => step,
                Err(_) => {
                    return Err(LockError::Timeout(LockTimeout {
                        path: path.to_path_buf(),
                        waited: budget,
                        holder: platform_holder(path).or_else(|| recorded_holder(path)),
                    }));
                }
            }
        }
        Ok(step) => step,
        // Not even the first try came back: this filesystem hangs on locks.
        Err(_) => return Ok(unlocked(path, "a lock call did not return")),
    };
    match outcome {
        // Keep the handle that took the lock: on Windows a lock belongs to its handle.
        Step::Locked(mut file) => {
            mark_holder(&mut file);
            Ok(LockGuard { file: Some(file) })
        }
        Step::Unsupported => Ok(unlocked(path, "locks are not supported")),
        Step::Failed(e) => Err(describe(path, e)),
        Step::Contended => unreachable!("sent once, before the result"),
    }
}

/// Takes the exclusive lock only if nobody holds it. `Ok(None)` means someone does.
pub fn try_exclusive(path: &Path) -> Result<Option<LockGuard>, LockError> {
    let mut file = open_lock_file(path).map_err(|e| describe(path, e))?;
    match file.try_lock() {
        Ok(()) => {
            mark_holder(&mut file);
            Ok(Some(LockGuard { file: Some(file) }))
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

/// Linux: the filesystem, when it is one whose locks cannot be trusted not to hang (NFS,
/// where cargo skips locking for the same reason).
#[cfg(target_os = "linux")]
fn platform_unlockable_fs(path: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;
    const NFS_SUPER_MAGIC: i64 = 0x6969;
    let dir = path.parent()?;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statfs(2) fills the struct we own; the path is NUL-terminated.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    (st.f_type as i64 == NFS_SUPER_MAGIC).then_some("NFS")
}

#[cfg(not(target_os = "linux"))]
fn platform_unlockable_fs(_: &Path) -> Option<&'static str> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_sees_the_lock_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let guard = exclusive(&path, Duration::ZERO).unwrap();
        assert!(guard.is_locked());
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
        let _held = exclusive(&path, Duration::ZERO).unwrap();
        let Err(LockError::Timeout(timeout)) = exclusive(&path, Duration::from_millis(50)) else {
            panic!("no timeout");
        };
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
        let held = exclusive(&path, Duration::ZERO).unwrap();
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let waiter = std::thread::spawn(move || {
            tx.send(()).unwrap();
            exclusive(&p, Duration::from_secs(30)).is_ok_and(|g| g.is_locked())
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
        assert!(err.to_string().contains("x.lock"), "{err}");
    }

    /// Issue 19: on NFS or some FUSE mounts the lock call itself can hang; the first try
    /// used to run on the caller's thread, unbounded. A lock that never returns now costs
    /// at most the first-try limit, and the request goes on unlocked.
    #[test]
    fn a_lock_call_that_hangs_is_given_up_and_work_goes_on_unlocked() {
        fn hangs(_: &File) -> Result<(), TryLockError> {
            loop {
                std::thread::park();
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let file = open_lock_file(&path).unwrap();
        let started = std::time::Instant::now();
        let guard = acquire(file, &path, Duration::from_millis(200), hangs, File::lock).unwrap();
        assert!(!guard.is_locked());
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited for the hung call"
        );
    }

    #[test]
    fn a_filesystem_without_locks_goes_on_unlocked() {
        fn unsupported(_: &File) -> Result<(), TryLockError> {
            Err(TryLockError::Error(io::Error::from(
                io::ErrorKind::Unsupported,
            )))
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let file = open_lock_file(&path).unwrap();
        let guard = acquire(file, &path, Duration::ZERO, unsupported, File::lock).unwrap();
        assert!(!guard.is_locked());
    }
}
