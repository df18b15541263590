//! Windows: no mode bits or owners to check (the cache lives in the user's profile, whose
//! ACL is the user's), readers that let a writer replace the file under them, and a
//! rename that retries while another program holds the target.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use super::refused::Why;
use std::time::{Duration, Instant};

const FILE_SHARE_READ: u32 = 0x1;
const FILE_SHARE_WRITE: u32 = 0x2;
const FILE_SHARE_DELETE: u32 = 0x4;
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;
const ERROR_ACCESS_DENIED: i32 = 5;
const ERROR_SHARING_VIOLATION: i32 = 32;
const ERROR_CANT_ACCESS_FILE: i32 = 1920;

/// Options that share delete access (so an atomic replace works while we read) and open a
/// symlink itself rather than its target.
pub fn open_options(_mode: u32) -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    options
}

pub(crate) fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(ERROR_CANT_ACCESS_FILE)
}

/// Refuses symlinks (reparse points); ownership is the profile directory's ACL.
pub(crate) fn owned(meta: &fs::Metadata) -> Result<(), Why> {
    if meta.file_type().is_symlink() || meta.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        return Err(Why::Symlink);
    }
    Ok(())
}

/// Windows: the profile's ACLs keep other users out; a regular file is all we check.
pub(crate) fn vet(meta: &fs::Metadata) -> Result<(), Why> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(Why::NotRegular)
    }
}

/// Permission bits as Unix would show them: Windows has only "read-only".
pub fn mode(meta: &fs::Metadata) -> u32 {
    if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

pub(crate) fn set_mode(_: &fs::File, _: u32) -> io::Result<()> {
    Ok(())
}

/// Windows files have ACLs, not a Unix owner to carry over.
pub type Owner = ();

pub fn owner(_: &fs::Metadata) -> Option<Owner> {
    None
}

pub fn is_root() -> bool {
    false
}

/// `rename` replaces the target (MoveFileEx with REPLACE_EXISTING), but fails with a
/// sharing violation while a reader holds it open without delete sharing (another
/// program, a virus scanner): retry for a short while.
pub(crate) fn replace(from: &Path, to: &Path) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match fs::rename(from, to) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(ERROR_SHARING_VIOLATION | ERROR_ACCESS_DENIED)
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Directory entries are durable once MoveFileEx returns on NTFS; a directory cannot be
/// opened for a flush without backup privileges.
pub(crate) fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

/// A directory by its path: Windows has no `*at` calls to hold one open by, and no
/// symlink a user may plant in a profile whose ACL is theirs.
pub(crate) struct Dir {
    path: std::path::PathBuf,
}

impl Dir {
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        if fs::metadata(path)?.is_dir() {
            Ok(Dir {
                path: path.to_path_buf(),
            })
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", path.display()),
            ))
        }
    }

    pub(crate) fn create_new(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<fs::File> {
        let mut options = open_options(mode);
        options.write(true).create_new(true);
        options.open(self.path.join(name))
    }

    pub(crate) fn open_read(&self, name: &std::ffi::OsStr) -> io::Result<fs::File> {
        let mut options = open_options(0);
        options.read(true);
        options.open(self.path.join(name))
    }

    pub(crate) fn rename(&self, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
        replace(&self.path.join(from), &self.path.join(to))
    }

    pub(crate) fn link(&self, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
        fs::hard_link(self.path.join(from), self.path.join(to))
    }

    pub(crate) fn unlink(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        fs::remove_file(self.path.join(name))
    }

    pub(crate) fn sync(&self) -> io::Result<()> {
        sync_dir(&self.path)
    }
}

pub(crate) fn create_dirs(path: &Path, _mode: u32) -> io::Result<()> {
    fs::create_dir_all(path)
}

pub(crate) fn open_nonblocking(path: &Path) -> io::Result<fs::File> {
    fs::File::open(path)
}

pub(crate) fn kind_of(meta: &fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}
