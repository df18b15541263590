//! Unix: permission bits, owners, `O_NOFOLLOW`, and a directory fsync.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use super::Why;

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
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
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
pub fn vet(meta: &fs::Metadata) -> Result<(), Why> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
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
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Gives an open file to `owner`.
pub fn set_owner(file: &File, owner: Owner) -> io::Result<()> {
    std::os::unix::fs::fchown(file, Some(owner.0), Some(owner.1))
}

pub(crate) fn replace(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
