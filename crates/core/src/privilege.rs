//! What the process may do, settled before anything else runs.
//!
//! - **Root with another user's home** (`sudo -E docker pull`, a provisioning script that
//!   runs `configure` with the user's `HOME`): everything we would read or write lives in
//!   that home (Docker's config, the AWS files, the cache, the login store), so we become
//!   that user for the whole run. Root then never follows a link the user planted to a
//!   file only root may write, and never leaves root-owned directories in the user's home
//!   that the user's own runs would refuse. When that is impossible, we stop.
//! - **No core dumps**: once a process holds a token, a core file would be a copy of it.

use std::fmt;
use std::io;
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The uid we switched to (`u32::MAX`: none).
static ACTING_AS: AtomicU32 = AtomicU32::new(u32::MAX);

/// Why the process cannot go on: it would act as root in another user's home.
#[derive(Debug)]
pub(crate) enum PrivilegeError {
    /// As root, `$HOME` could not be looked at, so whose it is is unknown (Unix: Windows
    /// has no root to look for).
    #[cfg(unix)]
    InspectHome { home: PathBuf, source: io::Error },
    /// As root with the home of `uid`, and becoming that user failed.
    BecomeUser { uid: u32, source: io::Error },
}

impl fmt::Display for PrivilegeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(unix)]
            PrivilegeError::InspectHome { home, source } => write!(
                f,
                "cannot inspect the home directory {}: {source}",
                home.display()
            ),
            PrivilegeError::BecomeUser { uid, source } => write!(
                f,
                "running as root with the home directory of uid {uid}, and cannot act as that user ({source}); run ecr-login as that user instead"
            ),
        }
    }
}

impl std::error::Error for PrivilegeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            #[cfg(unix)]
            PrivilegeError::InspectHome { source, .. } => Some(source),
            PrivilegeError::BecomeUser { source, .. } => Some(source),
        }
    }
}

/// Sets the process up as described above.
pub(crate) fn settle() -> Result<(), PrivilegeError> {
    platform::no_core_dumps();
    if let Some((uid, gid)) = platform::home_owner_if_root()? {
        platform::become_user(uid, gid)
            .map_err(|source| PrivilegeError::BecomeUser { uid, source })?;
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
    use super::PrivilegeError;
    use std::io;
    use std::os::unix::fs::MetadataExt;

    pub(crate) fn euid() -> Option<u32> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        Some(unsafe { libc::geteuid() })
    }

    pub(crate) fn no_core_dumps() {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit(2) with a valid struct; lowering a limit cannot fail for lack
        // of privilege, and a failure changes nothing.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    }

    /// As root, the owner of `$HOME` when that is another user.
    pub(crate) fn home_owner_if_root() -> Result<Option<(u32, u32)>, PrivilegeError> {
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
            Err(source) => Err(PrivilegeError::InspectHome {
                home: home.into(),
                source,
            }),
        }
    }

    /// Gives up root for good: supplementary groups, then the group, then the user.
    pub(crate) fn become_user(uid: u32, gid: u32) -> io::Result<()> {
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
    use super::PrivilegeError;

    pub(crate) fn euid() -> Option<u32> {
        None
    }

    pub(crate) fn no_core_dumps() {}

    /// Windows has no root acting in another user's profile through a variable.
    pub(crate) fn home_owner_if_root() -> Result<Option<(u32, u32)>, PrivilegeError> {
        Ok(None)
    }

    pub(crate) fn become_user(_: u32, _: u32) -> std::io::Result<()> {
        Ok(())
    }
}
