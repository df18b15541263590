//! Waking the daemon when a file changes: inotify on Linux (the directory, since editors
//! and Docker replace the file by renaming over it); elsewhere nothing, and the daemon
//! looks at each wake, at most a minute apart.

use std::path::Path;

/// Resolves when something in the watched file's directory changed.
pub struct FileWatch {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl FileWatch {
    /// Watches `path` (`None`: nothing to watch, or the platform has no cheap way).
    pub fn new(path: Option<&Path>) -> FileWatch {
        #[cfg(target_os = "linux")]
        {
            let fd = path.and_then(|p| match linux::watch(p) {
                Ok(fd) => Some(fd),
                Err(e) => {
                    tracing::debug!("not watching {}: {e}; looking each minute", p.display());
                    None
                }
            });
            FileWatch { fd }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = path;
            FileWatch {}
        }
    }

    /// Waits for the next change (forever when nothing is watched).
    pub async fn changed(&self) {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            return linux::next(fd).await;
        }
        std::future::pending::<()>().await
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use tokio::io::unix::AsyncFd;

    pub fn watch(path: &Path) -> io::Result<AsyncFd<OwnedFd>> {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::other("a NUL in the path"))?;
        // SAFETY: inotify_init1 has no preconditions; the fd it returns is ours to own.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mask = libc::IN_CLOSE_WRITE
            | libc::IN_MOVED_TO
            | libc::IN_CREATE
            | libc::IN_DELETE
            | libc::IN_ATTRIB;
        // SAFETY: a valid inotify descriptor and a NUL-terminated path.
        if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), mask) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the descriptor is ours alone (owned here, never shared), and stays
        // open for as long as the registration: it lives inside the AsyncFd.
        unsafe { AsyncFd::register(fd) }.map_err(|e| io::Error::other(e.to_string()))
    }

    pub async fn next(fd: &AsyncFd<OwnedFd>) {
        let mut buf = [0u8; 4096];
        loop {
            let Ok(mut guard) = fd.readable().await else {
                return std::future::pending().await;
            };
            // SAFETY: reading into a buffer we own, of its own length.
            let n =
                unsafe { libc::read(fd.get_ref().as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                // Drain whatever else queued up, then report one change.
                // SAFETY: as above.
                while unsafe {
                    libc::read(fd.get_ref().as_raw_fd(), buf.as_mut_ptr().cast(), buf.len())
                } > 0
                {}
                guard.clear_ready();
                return;
            }
            guard.clear_ready();
        }
    }
}
