//! Unix: permission bits, owners, `O_NOFOLLOW`, and a directory fsync.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use super::refused::Why;

/// Our effective uid, once asked (`u32::MAX`, which no uid can be, until then).
static EUID: AtomicU32 = AtomicU32::new(u32::MAX);

/// Our effective uid. Every ownership check asks it (a hit made five `geteuid` calls); it
/// changes only when `privilege` becomes another user, which then calls [`forget_euid`].
pub(crate) fn euid() -> u32 {
    match EUID.load(Ordering::Relaxed) {
        u32::MAX => {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            EUID.store(me, Ordering::Relaxed);
            me
        }
        me => me,
    }
}

/// After `setuid`: the next [`euid`] asks the kernel again.
pub(crate) fn forget_euid() {
    EUID.store(u32::MAX, Ordering::Relaxed);
}

/// Options that create with `mode` and never follow a symlink at the last component.
pub fn open_options(mode: u32) -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    options
}

pub(crate) fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Why a file or directory that is a symlink, someone else's, or writable by others is
/// refused, if it is.
pub(crate) fn owned(meta: &fs::Metadata) -> Result<(), Why> {
    let me = euid();
    if meta.file_type().is_symlink() {
        return Err(Why::Symlink);
    }
    if meta.uid() != me {
        return Err(Why::Owner {
            uid: meta.uid(),
            me,
        });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Why::WritableByOthers {
            mode: meta.mode() & 0o777,
        });
    }
    Ok(())
}

/// Whether an open file is one we may use in our private directories: a regular file that
/// is ours and has one link. `Err` says what it is instead.
pub(crate) fn vet(meta: &fs::Metadata) -> Result<(), Why> {
    let me = euid();
    if !meta.is_file() {
        return Err(Why::NotRegular);
    }
    if meta.uid() != me {
        return Err(Why::Owner {
            uid: meta.uid(),
            me,
        });
    }
    if meta.nlink() != 1 {
        return Err(Why::Links(meta.nlink()));
    }
    Ok(())
}

/// The permission bits of a file.
pub fn mode(meta: &fs::Metadata) -> u32 {
    meta.mode() & 0o7777
}

/// Sets the exact permission bits, whatever the umask made of them at creation.
pub(crate) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Who owns a file: (uid, gid).
pub type Owner = (u32, u32);

pub fn owner(meta: &fs::Metadata) -> Option<Owner> {
    Some((meta.uid(), meta.gid()))
}

/// Whether we act as root (then we may, and must, give files back to their owners).
pub fn is_root() -> bool {
    euid() == 0
}

/// A directory held open, so that the files of one write are created, renamed and linked
/// in the directory that was opened, never in whatever a path names a moment later.
pub(crate) struct Dir {
    fd: std::os::fd::OwnedFd,
}

fn c_name(name: &std::ffi::OsStr) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a file name"))
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Dir {
    /// Opens the directory `path` names (through links the user keeps, as any path).
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Dir { fd: file.into() })
    }

    fn raw(&self) -> libc::c_int {
        use std::os::fd::AsRawFd;
        self.fd.as_raw_fd()
    }

    fn openat(&self, name: &std::ffi::OsStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
        use std::os::fd::FromRawFd;
        let name = c_name(name)?;
        // SAFETY: a valid directory descriptor and a NUL-terminated name; the descriptor
        // returned is fresh and owned by the File from here on.
        let fd = check(unsafe {
            libc::openat(
                self.raw(),
                name.as_ptr(),
                flags | libc::O_CLOEXEC,
                mode as libc::c_uint,
            )
        })?;
        // SAFETY: as above.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Creates `name` for writing, failing if anything (a symlink included) is there.
    pub(crate) fn create_new(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<File> {
        self.openat(
            name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
            mode,
        )
    }

    /// Opens `name` for reading, never through a link and never blocking.
    pub(crate) fn open_read(&self, name: &std::ffi::OsStr) -> io::Result<File> {
        self.openat(
            name,
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
            0,
        )
    }

    pub(crate) fn rename(&self, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        // SAFETY: a valid directory descriptor and NUL-terminated names.
        check(unsafe { libc::renameat(self.raw(), from.as_ptr(), self.raw(), to.as_ptr()) })
            .map(drop)
    }

    /// Swaps two names atomically (Linux `renameat2(RENAME_EXCHANGE)`), or with
    /// `RENAME_NOREPLACE` renames only if `to` does not exist. `Unsupported` where the
    /// kernel or filesystem has neither.
    #[cfg(target_os = "linux")]
    pub(crate) fn rename2(
        &self,
        from: &std::ffi::OsStr,
        to: &std::ffi::OsStr,
        exchange: bool,
    ) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        let flags = if exchange {
            libc::RENAME_EXCHANGE
        } else {
            libc::RENAME_NOREPLACE
        };
        // SAFETY: the raw system call (libc wrappers differ between glibc and musl) with a
        // valid directory descriptor, NUL-terminated names and a flag the kernel checks.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                self.raw(),
                from.as_ptr(),
                self.raw(),
                to.as_ptr(),
                flags,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {
                Err(io::Error::new(io::ErrorKind::Unsupported, e))
            }
            _ => Err(e),
        }
    }

    pub(crate) fn link(&self, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        // SAFETY: a valid directory descriptor and NUL-terminated names.
        check(unsafe { libc::linkat(self.raw(), from.as_ptr(), self.raw(), to.as_ptr(), 0) })
            .map(drop)
    }

    pub(crate) fn unlink(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        let name = c_name(name)?;
        // SAFETY: a valid directory descriptor and a NUL-terminated name.
        check(unsafe { libc::unlinkat(self.raw(), name.as_ptr(), 0) }).map(drop)
    }

    pub(crate) fn sync(&self) -> io::Result<()> {
        // SAFETY: a valid descriptor.
        check(unsafe { libc::fsync(self.raw()) }).map(drop)
    }
}

/// Creates the missing directories of `path` (`mode`, less the umask) without ever
/// resolving a new one by path: each is made with `mkdirat` in its parent's descriptor and
/// opened from it with `O_NOFOLLOW`, then checked by `fstat` to be ours. A directory
/// swapped for a link, or for someone else's, between the two steps is refused. The part
/// that exists is used as named (links a user keeps, `/home -> /usr/home`, are theirs).
pub(crate) fn create_dirs(path: &Path, mode: u32) -> io::Result<()> {
    let mut existing = path;
    let mut missing = Vec::new();
    loop {
        match fs::metadata(existing) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{} is not a directory", existing.display()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(e);
                };
                missing.push(name);
                existing = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
            }
            Err(e) => return Err(e),
        }
    }
    let mut dir = Dir::open(existing)?;
    let mut made = existing.to_path_buf();
    let me = euid();
    for name in missing.into_iter().rev() {
        made.push(name);
        let c = c_name(name)?;
        // SAFETY: a valid directory descriptor and a NUL-terminated name.
        let r = unsafe { libc::mkdirat(dir.raw(), c.as_ptr(), mode as libc::mode_t) };
        if r < 0 {
            let e = io::Error::last_os_error();
            // Made meanwhile by another run of ours, or by someone else: fstat tells.
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(e);
            }
        }
        crate::hooks::point("files.mkdir", &made);
        let opened = dir
            .openat(name, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW, 0)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP | libc::ENOTDIR) => io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "{} was replaced by a link or a file while it was being created; refusing to use it",
                        made.display()
                    ),
                ),
                _ => e,
            })?;
        let meta = opened.metadata()?;
        if meta.uid() != me {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} belongs to uid {}, not to us (uid {me}); refusing to use it",
                    made.display(),
                    meta.uid()
                ),
            ));
        }
        dir = Dir { fd: opened.into() };
    }
    Ok(())
}

/// Opens a file to read it without blocking: a FIFO or a device opens at once, and the
/// caller's `fstat` then refuses it.
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// What a file that is not a regular one is, for the error.
pub(crate) fn kind_of(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}
