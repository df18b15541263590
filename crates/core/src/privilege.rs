//! What the process may do, settled before anything else runs.
//!
//! - **Root with another user's home** (`sudo -E docker pull`, a provisioning script that
//!   runs `configure` with the user's `HOME`): everything we would read or write lives in
//!   that home (Docker's config, the AWS files, the cache, the login store), so we become
//!   that user for the whole run. Root then never follows a link the user planted to a
//!   file only root may write, and never leaves root-owned directories in the user's home
//!   that the user's own runs would refuse. When that is impossible, we stop.
//! - **No core dumps**: once a process holds a token, a core file would be a copy of it.

use std::sync::atomic::{AtomicU32, Ordering};

/// The uid we switched to (`u32::MAX`: none).
static ACTING_AS: AtomicU32 = AtomicU32::new(u32::MAX);

/// Sets the process up as described above. An error is the one line to show.
pub fn settle() -> Result<(), String> {
    platform::no_core_dumps();
    if let Some((uid, gid)) = platform::home_owner_if_root()? {
        platform::become_user(uid, gid).map_err(|e| {
            format!(
                "running as root with the home directory of uid {uid}, and cannot act as that user ({e}); run ecr-login as that user instead"
            )
        })?;
        ACTING_AS.store(uid, Ordering::Relaxed);
    }
    Ok(())
}

/// Carries [`acting_as`] to the full binary when the front one hands over (it starts as
/// the user already, and would not know it was root).
pub const ACTING_AS_ENV: &str = "ECR_LOGIN_ACTING_AS";

/// The uid whose home we act in, when we started as root and switched to it (in this
/// process, or in the front binary that handed over to us).
pub fn acting_as() -> Option<u32> {
    let uid = ACTING_AS.load(Ordering::Relaxed);
    if uid != u32::MAX {
        return Some(uid);
    }
    let inherited: u32 = std::env::var(ACTING_AS_ENV).ok()?.parse().ok()?;
    (platform::euid() == Some(inherited)).then_some(inherited)
}

#[cfg(unix)]
mod platform {
    use std::io;
    use std::os::unix::fs::MetadataExt;

    pub fn euid() -> Option<u32> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        Some(unsafe { libc::geteuid() })
    }

    pub fn no_core_dumps() {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit(2) with a valid struct; lowering a limit cannot fail for lack
        // of privilege, and a failure changes nothing.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    }

    /// As root, the owner of `$HOME` when that is another user.
    pub fn home_owner_if_root() -> Result<Option<(u32, u32)>, String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(None);
        }
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            return Ok(None);
        };
        // The home itself may be a link (/home -> /usr/home); its target's owner counts.
        match std::fs::metadata(&home) {
            Ok(meta) if meta.uid() != 0 => Ok(Some((meta.uid(), meta.gid()))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "cannot inspect the home directory {}: {e}",
                std::path::Path::new(&home).display()
            )),
        }
    }

    /// Gives up root for good: supplementary groups, then the group, then the user.
    pub fn become_user(uid: u32, gid: u32) -> io::Result<()> {
        let check = |r: libc::c_int| {
            if r == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        };
        let groups = [gid as libc::gid_t];
        // SAFETY: plain system calls with valid arguments; the order (groups, gid, uid)
        // is the one that leaves no root privilege behind.
        unsafe {
            check(libc::setgroups(1 as _, groups.as_ptr()))?;
            check(libc::setgid(gid as libc::gid_t))?;
            check(libc::setuid(uid as libc::uid_t))?;
        }
        // SAFETY: as above.
        if unsafe { libc::setuid(0) } == 0 {
            return Err(io::Error::other("root could be regained"));
        }
        Ok(())
    }
}

#[cfg(windows)]
mod platform {
    pub fn euid() -> Option<u32> {
        None
    }

    pub fn no_core_dumps() {}

    /// Windows has no root acting in another user's profile through a variable.
    pub fn home_owner_if_root() -> Result<Option<(u32, u32)>, String> {
        Ok(None)
    }

    pub fn become_user(_: u32, _: u32) -> std::io::Result<()> {
        Ok(())
    }
}
