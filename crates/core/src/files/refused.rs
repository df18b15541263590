//! Why a file or directory of ours is refused, and the line that says so: shared by the
//! platform checks (`unix.rs`, `windows.rs`) and everything that opens our files.

use std::path::PathBuf;

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
