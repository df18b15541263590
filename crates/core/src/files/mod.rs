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

mod refused;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

pub(crate) use platform::vet;
pub use platform::{Owner, is_root, mode, open_options, owner};
pub use refused::{Refused, Why};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(unix)]
pub(crate) use unix::forget_euid;

pub(crate) const TEMP_PREFIX: &str = ".tmp-";

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
/// replaces the target: to check something about it (an error there leaves the target
/// untouched).
pub(crate) fn write_atomic_with<E: From<io::Error>>(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    before_rename: impl FnOnce(&File) -> Result<(), E>,
) -> Result<(), E> {
    let mut check = Some(before_rename);
    let mut refused = None;
    let result = via_temp(path, bytes, mode, |file, dir, tmp, name| {
        if let Err(e) = (check.take().expect("called once"))(&file) {
            refused = Some(e);
            return Err(io::Error::other("the check before the rename refused"));
        }
        // Closed before the rename: Windows will not replace a file that is open.
        drop(file);
        dir.rename(tmp, name)?;
        dir.sync()
    });
    match (result, refused) {
        (_, Some(e)) => Err(e),
        (r, None) => r.map_err(E::from),
    }
}

/// Replaces the file at `path` with `bytes` only if it still holds `expected` (`None`: only
/// if there is no file), atomically: `Ok(false)` when another program changed it since it
/// was read, and then nothing of ours is left in its place.
///
/// On Linux the compare and the replace are one step: the new file is swapped in with
/// `renameat2(RENAME_EXCHANGE)` and the file it displaced is compared afterwards; if that
/// was not `expected`, the swap is undone, so a write that landed between our read and
/// our rename (Docker Desktop starting, a `docker login`) is kept, never overwritten.
/// Elsewhere (and on filesystems without the exchange) the file is compared just before
/// a plain rename, which leaves a window of microseconds.
pub fn replace_if_unchanged(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    expected: Option<&[u8]>,
) -> io::Result<bool> {
    let mut replaced = false;
    via_temp(path, bytes, mode, |file, dir, tmp, name| {
        drop(file);
        crate::hooks::point("files.before_replace", path);
        replaced = swap_if(dir, tmp, name, expected)?;
        dir.sync()
    })?;
    Ok(replaced)
}

#[cfg(target_os = "linux")]
fn swap_if(
    dir: &platform::Dir,
    tmp: &std::ffi::OsStr,
    name: &std::ffi::OsStr,
    expected: Option<&[u8]>,
) -> io::Result<bool> {
    let outcome = match expected {
        None => dir.rename2(tmp, name, false),
        Some(_) => dir.rename2(tmp, name, true),
    };
    match outcome {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            return compare_then_rename(dir, tmp, name, expected);
        }
        // No file to exchange with (it was removed), or one where none was: changed.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::AlreadyExists
            ) =>
        {
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    let Some(expected) = expected else {
        return Ok(true);
    };
    // `tmp` now names the file we displaced.
    let displaced = read_open(dir.open_read(tmp)?, Path::new(tmp), u64::MAX)?;
    if displaced == expected {
        return Ok(true);
    }
    dir.rename2(tmp, name, true)?;
    Ok(false)
}

#[cfg(not(target_os = "linux"))]
fn swap_if(
    dir: &platform::Dir,
    tmp: &std::ffi::OsStr,
    name: &std::ffi::OsStr,
    expected: Option<&[u8]>,
) -> io::Result<bool> {
    compare_then_rename(dir, tmp, name, expected)
}

fn compare_then_rename(
    dir: &platform::Dir,
    tmp: &std::ffi::OsStr,
    name: &std::ffi::OsStr,
    expected: Option<&[u8]>,
) -> io::Result<bool> {
    let now = match dir.open_read(name) {
        Ok(file) => Some(read_open(file, Path::new(name), u64::MAX)?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if now.as_deref() != expected {
        return Ok(false);
    }
    dir.rename(tmp, name)?;
    Ok(true)
}

/// Writes `bytes` to a new temp file beside `path` (mode `mode`, synced), hands it to
/// `finish` (with the directory, held open, and the temp file's and the target's names) to
/// put in place, and removes whatever is left of the temp file.
fn via_temp(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    finish: impl FnOnce(File, &platform::Dir, &std::ffi::OsStr, &std::ffi::OsStr) -> io::Result<()>,
) -> io::Result<()> {
    let dir_path = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let dir = platform::Dir::open(dir_path)?;
    let tmp = temp_name(name);
    let result = (|| {
        let mut file = dir.create_new(&tmp, mode)?;
        platform::set_mode(&file, mode)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        finish(file, &dir, &tmp, name)
    })();
    // After a rename there is nothing left; after a link, or a failure, the temp name goes.
    let _ = dir.unlink(&tmp);
    result
}

fn temp_name(target: &std::ffi::OsStr) -> std::ffi::OsString {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = target.to_str().unwrap_or("file");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{TEMP_PREFIX}{name}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
    .into()
}

/// Creates a directory and its missing parents (`mode` for the new ones, less the umask)
/// through descriptors: a new directory is never looked up by path again, so one swapped
/// for a link while it was being made is refused, not followed. See `unix::create_dirs`.
pub fn create_dirs(path: &Path, mode: u32) -> io::Result<()> {
    platform::create_dirs(path, mode)
}

/// The most we read of a config file (ours, Docker's, the AWS ones, a session cache): 1 MiB.
pub const CONFIG_LIMIT: u64 = 1 << 20;

/// Reads a file a user or another program keeps (a config, a CA bundle, a session cache):
/// opened without blocking (a FIFO in its place never hangs us), checked with `fstat` to be
/// a regular file, and read up to `limit` bytes. Anything else is an error naming the file;
/// a missing file is `NotFound`, as from `fs::read`.
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_open(platform::open_nonblocking(path)?, path, limit)
}

/// [`read_limited`], as UTF-8 text.
pub fn read_text_limited(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_limited(path, limit)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not UTF-8 text", path.display()),
        )
    })
}

fn read_open(file: File, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file",
                path.display(),
                platform::kind_of(&meta)
            ),
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "{} is larger than {}; refusing to read it",
                path.display(),
                size(limit)
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // It may grow while we read: never past the bound.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
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
    via_temp(path, bytes, mode, |file, dir, tmp, name| {
        drop(file);
        dir.link(tmp, name)?;
        dir.sync()
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
    fn precious(dir: &Path, name: &str) -> std::path::PathBuf {
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
        let dir_fd = platform::Dir::open(dir.path()).unwrap();
        assert!(dir_fd.create_new(link.file_name().unwrap(), 0o600).is_err());
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
    }
}
