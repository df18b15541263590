//! Private files: the one atomic write, opening without following symlinks, and the
//! ownership checks, with the platform differences in `unix.rs` and `windows.rs`.
//!
//! The cache's entries, `configure`'s edits of the Docker and ecr-login configs, and the
//! daemon's state all go through [`write_atomic`]: a temp file is created next to the
//! target (exclusively, never through a symlink, with the final mode from the start, so a
//! secret is never readable by others even for an instant), written, fsynced, renamed over
//! the target, and the directory fsynced, so after a crash the target holds either the old
//! bytes or the new ones, never a mix. Temp files start with [`TEMP_PREFIX`]; the cache
//! sweeps the ones a killed writer left.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

pub use platform::{Owner, is_root, mode, open_options, owner, set_owner, vet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Why a file or directory of ours is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    Symlink,
    Owner {
        uid: u32,
        me: u32,
    },
    WritableByOthers {
        mode: u32,
    },
    NotRegular,
    /// More than one link: a hard link to another file.
    Links(u64),
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Symlink => f.write_str("is a symbolic link"),
            Why::Owner { uid, me } => write!(f, "belongs to uid {uid}, not to you (uid {me})"),
            Why::WritableByOthers { mode } => {
                write!(f, "is writable by other users (mode {mode:o})")
            }
            Why::NotRegular => f.write_str("is not a regular file"),
            Why::Links(n) => write!(f, "has {n} links (a hard link to another file)"),
        }
    }
}

/// A file or directory of ours that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// What it was to be: "cache directory", "cache entry", "login file"…
    pub what: &'static str,
    pub path: PathBuf,
    pub why: Why,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        write!(f, "{} {path} {}", self.what, self.why)?;
        match self.why {
            Why::WritableByOthers { .. } => write!(f, "; run: chmod go-w {path}"),
            _ => f.write_str("; refusing to use it"),
        }
    }
}

impl std::error::Error for Refused {}

/// Refuses files and directories that are symlinks, someone else's, or writable by others.
pub fn check_owned(path: &Path, meta: &fs::Metadata, what: &'static str) -> Result<(), Refused> {
    platform::owned(meta).map_err(|why| Refused {
        what,
        path: path.to_path_buf(),
        why,
    })
}

/// Writes `bytes` to `path` atomically; a new file gets `mode` (Unix permission bits).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_with(path, bytes, mode, |_| Ok::<(), io::Error>(()))
}

/// [`write_atomic`], running `before_rename` on the written, synced temp file just before it
/// replaces the target: to give it the old file's owner, or to check that nobody changed
/// the target meanwhile (an error there leaves the target untouched).
pub fn write_atomic_with<E: From<io::Error>>(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    before_rename: impl FnOnce(&File) -> Result<(), E>,
) -> Result<(), E> {
    let mut check = Some(before_rename);
    let mut refused = None;
    let result = via_temp(path, bytes, mode, |file, tmp, dir| {
        if let Err(e) = (check.take().expect("called once"))(&file) {
            refused = Some(e);
            return Err(io::Error::other("the check before the rename refused"));
        }
        // Closed before the rename: Windows will not replace a file that is open.
        drop(file);
        platform::replace(tmp, path)?;
        platform::sync_dir(dir)
    });
    match (result, refused) {
        (_, Some(e)) => Err(e),
        (r, None) => r.map_err(E::from),
    }
}

/// Writes `bytes` to a new temp file beside `path` (mode `mode`, synced), hands it to
/// `finish` to put in place, and removes whatever is left of the temp file.
fn via_temp(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    finish: impl FnOnce(File, &Path, &Path) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = temp_path(dir, path);
    let result = (|| {
        let mut file = create_new(&tmp, mode)?;
        platform::set_mode(&file, mode)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        finish(file, &tmp, dir)
    })();
    // After a rename there is nothing left; after a link, or a failure, the temp name goes.
    let _ = fs::remove_file(&tmp);
    result
}

fn temp_path(dir: &Path, target: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!(
        "{TEMP_PREFIX}{name}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = open_options(mode);
    options.write(true).create_new(true);
    options.open(path)
}

/// Opens `path` with `options` (which should come from [`open_options`]: never through a
/// symlink), then checks the open file itself with `fstat`: a regular file, ours, with one
/// link. A lock file hard-linked to another of the user's files would otherwise be
/// truncated when we write our pid into it.
pub fn open_vetted(options: &fs::OpenOptions, path: &Path) -> io::Result<File> {
    let file = options.open(path)?;
    platform::vet(&file.metadata()?).map_err(|why| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} {why}; refusing to use it", path.display()),
        )
    })?;
    Ok(file)
}

/// Creates `path` holding `bytes` (mode `mode`) only if it does not exist, and whole: the
/// bytes go to a temp file that is then hard-linked into place, so nobody ever reads a
/// partial file, and a second creator gets `AlreadyExists` and the first one's bytes.
pub(crate) fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    via_temp(path, bytes, mode, |file, tmp, dir| {
        drop(file);
        fs::hard_link(tmp, path)?;
        platform::sync_dir(dir)
    })
}

/// Whether an open error means "that path is a symbolic link" (refused, not followed).
pub(crate) fn is_symlink_error(e: &io::Error) -> bool {
    platform::is_symlink_error(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"one", 0o600).unwrap();
        write_atomic(&path, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["f.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn a_failing_check_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"old", 0o644).unwrap();
        let err = write_atomic_with(&path, b"new", 0o644, |_| {
            Err::<(), io::Error>(io::Error::other("changed"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "changed");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["f"]);
    }

    /// A file in `dir` holding "keep": what an attack must leave alone.
    #[cfg(unix)]
    fn precious(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, b"keep").unwrap();
        path
    }

    /// Issue 22: a hard-linked lock file had its target truncated.
    #[cfg(unix)]
    #[test]
    fn a_hard_linked_or_foreign_file_is_refused_after_open() {
        let dir = tempfile::tempdir().unwrap();
        let precious = precious(dir.path(), "precious");
        let lock = dir.path().join("k.lock");
        fs::hard_link(&precious, &lock).unwrap();
        let mut options = open_options(0o600);
        options.read(true).write(true).create(true);
        let err = open_vetted(&options, &lock).unwrap_err();
        assert!(err.to_string().contains("2 links"), "{err}");
        assert_eq!(fs::read(&precious).unwrap(), b"keep");
        fs::remove_file(&lock).unwrap();
        assert!(open_vetted(&options, &lock).is_ok());
        let d = dir.path().join("d");
        fs::create_dir(&d).unwrap();
        let mut read = open_options(0o600);
        read.read(true);
        assert!(open_vetted(&read, &d).is_err(), "a directory");
    }

    #[cfg(unix)]
    #[test]
    fn never_writes_through_a_planted_temp_symlink() {
        // create_new refuses an existing path, symlink or not.
        let dir = tempfile::tempdir().unwrap();
        let victim = precious(dir.path(), "victim");
        let link = dir.path().join(".tmp-x");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(create_new(&link, 0o600).is_err());
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
    }
}
