//! Waking the daemon when Docker's config changes, on every platform: the `notify` crate
//! (inotify on Linux, kqueue on macOS, `ReadDirectoryChangesW` on Windows) watches the
//! file's directory, since editors, Docker and Docker Desktop replace the file by renaming
//! over it. Docker Desktop resets `credsStore` mostly on macOS and Windows, where the daemon
//! otherwise looked only once a minute. Where a watch cannot be set up (a network
//! filesystem, a missing directory), that once-a-minute look remains.
//!
//! The watch runs on `notify`'s own thread and only raises a flag; the loop does the rest.

use notify::{RecursiveMode, Watcher};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Notify;

/// Resolves when the watched file may have changed.
pub(crate) struct FileWatch {
    /// Kept alive for as long as the watch: dropping it stops its thread.
    _watcher: Option<notify::RecommendedWatcher>,
    changed: Arc<Notify>,
}

impl FileWatch {
    /// Watches `path` (`None`: nothing to watch).
    pub(crate) fn new(path: Option<&Path>) -> FileWatch {
        let changed = Arc::new(Notify::new());
        let watcher = path.and_then(|p| match watch(p, Arc::clone(&changed)) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::debug!("not watching {}: {e}; looking each minute", p.display());
                None
            }
        });
        FileWatch {
            _watcher: watcher,
            changed,
        }
    }

    /// Waits for the next change (forever when nothing is watched). Changes that came while
    /// nobody waited are one change.
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }
}

fn watch(path: &Path, changed: Arc<Notify>) -> notify::Result<notify::RecommendedWatcher> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_os_string());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Only our file's events, or any when the backend names no path (an overflow).
        let ours = match &event {
            Ok(e) => e.paths.is_empty() || e.paths.iter().any(|p| p.file_name() == name.as_deref()),
            Err(_) => true,
        };
        if ours {
            changed.notify_one();
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

/// What tells a file changed: its modification time and size (`None`: no file). For our
/// config here, and Docker's in the Desktop repair.
pub(crate) fn stamp(path: Option<&std::path::Path>) -> Stamp {
    let meta = std::fs::metadata(path?).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// See [`stamp`].
pub(crate) type Stamp = Option<(std::time::SystemTime, u64)>;
