//! Finding a program to run, without trusting what another user can write: `PATH` entries
//! that are empty or relative (a trailing `:`, `./node_modules/.bin`) are skipped, as Go's
//! `exec.LookPath` refuses them since Go 1.19 and Docker with it; only a regular,
//! executable file counts; the answer is always an absolute path; and a program we are
//! about to hand secrets to must belong to root or to us and be writable by nobody else.
//! The service managers (`systemctl`, `launchctl`, `schtasks`) are run from their system
//! directories, never looked up.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `file` in the first absolute `PATH` directory that holds it as an executable file.
pub fn find_on_path(file: &str) -> Option<PathBuf> {
    find_in(&std::env::var_os("PATH")?, file)
}

/// [`find_on_path`] over a given `PATH` value.
pub(crate) fn find_in(path: &OsStr, file: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(file))
        .find(|p| is_executable_file(p))
}

/// A regular file (through symlinks) that this user may execute.
pub fn is_executable_file(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    meta.is_file() && platform_executable(path, &meta)
}

#[cfg(unix)]
fn platform_executable(path: &Path, _: &std::fs::Metadata) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access(2) with a NUL-terminated path we own; it only reads it.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

#[cfg(windows)]
fn platform_executable(path: &Path, _: &std::fs::Metadata) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("exe") || e.eq_ignore_ascii_case("com"))
}

/// Why a program is not trusted to receive secrets.
#[derive(Debug)]
pub(crate) enum Untrusted {
    /// It (or its directory) could not be looked at.
    #[cfg(unix)]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Owned by someone who is neither root nor us.
    #[cfg(unix)]
    Owner {
        path: PathBuf,
        what: &'static str,
        uid: u32,
        me: u32,
    },
    /// Writable by group or others.
    #[cfg(unix)]
    Writable {
        path: PathBuf,
        what: &'static str,
        mode: u32,
    },
    /// Not an executable file (Windows: the only rule that applies).
    #[cfg(windows)]
    NotExecutable(PathBuf),
}

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(unix)]
            Untrusted::Io { path, source } => write!(f, "{}: {source}", path.display()),
            #[cfg(unix)]
            Untrusted::Owner {
                path,
                what,
                uid,
                me,
            } => write!(
                f,
                "{} ({what}) belongs to uid {uid}, neither root nor you (uid {me})",
                path.display()
            ),
            #[cfg(unix)]
            Untrusted::Writable { path, what, mode } => write!(
                f,
                "{} ({what}) is writable by other users (mode {mode:o}); run: chmod go-w {}",
                path.display(),
                path.display()
            ),
            #[cfg(windows)]
            Untrusted::NotExecutable(path) => {
                write!(f, "{} is not an executable file", path.display())
            }
        }
    }
}

impl std::error::Error for Untrusted {}

/// The program to run in place of `path`, after refusing one that another user could
/// have written or swapped: the file itself, the directory it was found in, and every
/// directory from `/` down to both (through the links on the way, then along its real
/// path) must belong to root or to us, and be writable by nobody else. A directory others
/// may write in counts only when it is sticky (`/tmp`) and the entry below it is root's or
/// ours; the program's own directory never. The answer is the real path, checked: exec
/// that, never the name again, so a link flipped after the check changes nothing.
#[cfg(unix)]
pub(crate) fn check_trusted(path: &Path) -> Result<PathBuf, Untrusted> {
    let io = |p: &Path| {
        let path = p.to_path_buf();
        move |source| Untrusted::Io { path, source }
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    // As found: the links on the way are checked as links.
    check_chain(path, me)?;
    let real = std::fs::canonicalize(path).map_err(io(path))?;
    check_chain(&real, me)?;
    Ok(real)
}

/// Checks every component of `path`, from `/` down, as [`check_trusted`] says.
#[cfg(unix)]
fn check_chain(path: &Path, me: u32) -> Result<(), Untrusted> {
    use std::os::unix::fs::MetadataExt;
    let chain: Vec<&Path> = path.ancestors().collect();
    // Top down: "/", then each directory, then the program.
    let mut above: Option<(PathBuf, u32)> = None;
    for (depth, p) in chain.iter().rev().enumerate() {
        let meta = std::fs::symlink_metadata(p).map_err(|source| Untrusted::Io {
            path: p.to_path_buf(),
            source,
        })?;
        let last = depth + 1 == chain.len();
        let what = if last {
            "program"
        } else if depth + 2 == chain.len() {
            "its directory"
        } else {
            "a directory above it"
        };
        if meta.uid() != 0 && meta.uid() != me {
            return Err(Untrusted::Owner {
                path: p.to_path_buf(),
                what,
                uid: meta.uid(),
                me,
            });
        }
        // The directory above lets others in: only its sticky bit protects this entry.
        if let Some((dir, mode)) = above.take() {
            let sticky = mode & 0o1000 != 0;
            if !sticky || last {
                return Err(Untrusted::Writable {
                    path: dir,
                    what: if last {
                        "its directory"
                    } else {
                        "a directory above it"
                    },
                    mode,
                });
            }
        }
        let mode = meta.mode() & 0o7777;
        if meta.file_type().is_symlink() {
            continue;
        }
        if mode & 0o022 != 0 {
            if last {
                return Err(Untrusted::Writable {
                    path: p.to_path_buf(),
                    what,
                    mode,
                });
            }
            above = Some((p.to_path_buf(), mode));
        }
    }
    Ok(())
}

/// Windows: the ACLs of Program Files and the user's profile are the system's to keep;
/// only the absolute, regular-file rules apply.
#[cfg(windows)]
pub(crate) fn check_trusted(path: &Path) -> Result<PathBuf, Untrusted> {
    if path.is_absolute() && is_executable_file(path) {
        Ok(path.to_path_buf())
    } else {
        Err(Untrusted::NotExecutable(path.to_path_buf()))
    }
}

/// A system program (a service manager) by its absolute path: the first of the system
/// directories that holds it, else the usual one (the error then names a real path).
pub fn system_program(name: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = if cfg!(windows) {
        let root = std::env::var_os("SystemRoot").unwrap_or_else(|| r"C:\Windows".into());
        vec![PathBuf::from(root).join("System32")]
    } else {
        ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
            .iter()
            .map(PathBuf::from)
            .collect()
    };
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    dirs.iter()
        .map(|d| d.join(&file))
        .find(|p| is_executable_file(p))
        .unwrap_or_else(|| dirs[0].join(&file))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn program(dir: &Path, name: &str, mode: u32) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    /// Issue 22: `PATH=./node_modules/.bin:$PATH`, or a trailing `:`, ran a
    /// `docker-credential-desktop` from the repository being built, with every password.
    #[test]
    fn relative_and_empty_path_entries_are_never_searched() {
        let cwd = tempfile::tempdir().unwrap();
        let bin = cwd.path().join("node_modules/.bin");
        program(&bin, "docker-credential-desktop", 0o755);
        let _in = CwdGuard::enter(cwd.path());
        for path in ["./node_modules/.bin", "node_modules/.bin:", ":", "", ".:"] {
            assert_eq!(
                find_in(OsStr::new(path), "docker-credential-desktop"),
                None,
                "PATH={path:?}"
            );
        }
        let absolute = std::env::join_paths([bin.clone()]).unwrap();
        assert_eq!(
            find_in(&absolute, "docker-credential-desktop"),
            Some(bin.join("docker-credential-desktop"))
        );
    }

    #[test]
    fn only_executable_regular_files_count() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a");
        let second = dir.path().join("b");
        program(&first, "tool", 0o644);
        std::fs::create_dir_all(second.join("tool")).unwrap();
        let third = dir.path().join("c");
        let real = program(&third, "tool", 0o755);
        let path = std::env::join_paths([first, second, third]).unwrap();
        assert_eq!(find_in(&path, "tool"), Some(real));
    }

    #[test]
    fn a_program_others_can_write_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let ok = program(&bin, "ok", 0o755);
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_trusted(&ok).is_ok());
        let open = program(&bin, "open", 0o777);
        let err = check_trusted(&open).unwrap_err().to_string();
        assert!(err.contains("writable by other users"), "{err}");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = check_trusted(&ok).unwrap_err().to_string();
        assert!(err.contains("its directory"), "{err}");
    }

    #[test]
    fn service_managers_have_absolute_paths() {
        for name in ["systemctl", "launchctl"] {
            assert!(system_program(name).is_absolute());
        }
        assert!(is_executable_file(&system_program("sh")));
    }

    /// The process's working directory, restored on drop (tests that use it hold the lock).
    struct CwdGuard {
        before: PathBuf,
        _lock: std::sync::MutexGuard<'static, ()>,
    }

    impl CwdGuard {
        fn enter(dir: &Path) -> CwdGuard {
            static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
            let before = std::env::current_dir().unwrap();
            std::env::set_current_dir(dir).unwrap();
            CwdGuard {
                before,
                _lock: lock,
            }
        }
    }

    impl Drop for CwdGuard {
        fn drop(&mut self) {
            let _ = std::env::set_current_dir(&self.before);
        }
    }
}
