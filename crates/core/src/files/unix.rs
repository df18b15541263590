//! Unix: permission bits, owners, `O_NOFOLLOW`, and a directory fsync.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Options that create with `mode` and never follow a symlink at the last component.
pub fn open_options(mode: u32) -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    options
}

pub fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Refuses files and directories that are symlinks, someone else's, or writable by others.
pub fn check_owned(path: &Path, meta: &fs::Metadata, what: &str) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{what} {} is a symbolic link; refusing to use it",
            path.display()
        ));
    }
    if meta.uid() != uid {
        return Err(format!(
            "{what} {} belongs to uid {}, not to you (uid {uid}); refusing to use it",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{what} {} is writable by other users (mode {:o}); run: chmod go-w {}",
            path.display(),
            meta.mode() & 0o777,
            path.display()
        ));
    }
    Ok(())
}

/// Whether an open file is one we may use in our private directories: a regular file that
/// is ours and has one link. `Err` says what it is instead.
pub fn vet(meta: &fs::Metadata) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    if meta.uid() != uid {
        return Err(format!(
            "belongs to uid {}, not to you (uid {uid})",
            meta.uid()
        ));
    }
    if meta.nlink() != 1 {
        return Err(format!(
            "has {} links (a hard link to another file)",
            meta.nlink()
        ));
    }
    Ok(())
}

/// The permission bits of a file.
pub fn mode(meta: &fs::Metadata) -> u32 {
    meta.mode() & 0o7777
}

/// Sets the exact permission bits, whatever the umask made of them at creation.
pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
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

pub fn replace(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
