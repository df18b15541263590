//! Rewriting a file that belongs to the user and to other programs (Docker's config, our
//! TOML): atomically, through the user's own symlinks (dotfile managers) even dangling
//! ones, with the file's own mode, and without losing a change another program made while
//! we edited: the new file replaces the old one only if the old one is still what we read
//! (`files::replace_if_unchanged`), and otherwise we read and edit again.
//!
//! As root this never edits another user's file: root's privilege decision
//! (`ecr_login_core::privilege`) made us that user first, so nothing here changes owners.
//! Reads are bounded and never block (a FIFO in the file's place is an error, not a hang).

use ecr_login_core::files;
use ecr_login_core::printable;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Read-edit-write rounds before giving up on a file that keeps changing.
const ATTEMPTS: usize = 5;
/// Symlinks followed before giving up (as the kernel does).
const MAX_LINKS: usize = 40;

/// An edit's outcome: the new text (`None`: no change) and a line per change; or why the
/// content cannot be edited (the edit's own error: Docker's config that is not JSON, a
/// result our config would not load).
pub(crate) type Edited<E> = Result<(Option<String>, Vec<String>), E>;

/// Why a file was left as it was; `E` is why its edit refused the content. Each variant
/// prints its cause's words, so none returns it from `source()`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EditError<E> {
    /// The edit refused the content.
    #[error("{why}")]
    Content { path: PathBuf, why: E },
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
    #[error("cannot create {}: {error}", dir.display())]
    CreateDir { dir: PathBuf, error: io::Error },
    #[error(
        "{} is read-only (mode {mode:o}); make it writable or add the entries by hand",
        path.display()
    )]
    ReadOnly { path: PathBuf, mode: u32 },
    /// A link that leads out of its owner's files (to a file, or through a directory, of
    /// another user's): not followed. (Unix's: Windows has no root acting for users.)
    #[cfg(unix)]
    #[error(
        "{} is a link of uid {owner}'s to {}, which leads to files of uid {uid}; not following it (edit the file it points at directly, or replace the link)",
        link.display(),
        target.display()
    )]
    Link {
        link: PathBuf,
        target: PathBuf,
        owner: u32,
        uid: u32,
    },
    /// Another program kept rewriting it.
    #[error(
        "{} kept changing while we edited it (another program is writing it); try again",
        .0.display()
    )]
    KeptChanging(PathBuf),
}

impl<E: std::fmt::Display + std::fmt::Debug + Send + Sync + 'static> From<EditError<E>>
    for ecr_login_core::error::Error
{
    fn from(e: EditError<E>) -> Self {
        ecr_login_core::error::Error::Command(Box::new(e))
    }
}

/// An edit: the file's text (`None`: no file) to its outcome.
pub(crate) type Edit<'a, E> = dyn Fn(Option<&str>) -> Edited<E> + 'a;

/// What an update did.
#[derive(Debug)]
pub(crate) struct Updated {
    /// The file written (the symlink's target).
    pub(crate) path: PathBuf,
    /// The new text, if anything changed.
    pub(crate) text: Option<String>,
    pub(crate) changes: Vec<String>,
}

impl Updated {
    /// What changed, for people: the file, then a line per change as the edit named it.
    /// Paths and values are the user's: shown through [`printable::line`], never as
    /// terminal escapes or extra lines.
    pub(crate) fn describe(&self, out: &mut String, dry_run: bool) {
        let path = printable::line(&self.path.display().to_string());
        if self.changes.is_empty() {
            let _ = writeln!(out, "{path}: already configured, nothing changed");
            return;
        }
        let verb = if dry_run {
            "would change (dry run)"
        } else {
            "changed"
        };
        let _ = writeln!(out, "{path}: {verb}:");
        // The members the edit changed, as it names them, and never a line of the file: a
        // one-line config.json holds logins, proxy passwords and HttpHeaders beside them (issue
        // 27), and dry runs get pasted into tickets and CI logs.
        for c in &self.changes {
            let _ = writeln!(out, "  {}", printable::line(c));
        }
    }
}

/// Applies `edit` to the file at `path` (written unless `dry_run`).
pub(crate) fn update<E>(
    path: &Path,
    dry_run: bool,
    edit: &Edit<E>,
) -> Result<Updated, EditError<E>> {
    let path = follow_links(path)?;
    for _ in 0..ATTEMPTS {
        let before = match files::read_text_limited(&path, files::CONFIG_LIMIT) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(EditError::Read { path, error }),
        };
        let (text, changes) = edit(before.as_deref()).map_err(|why| EditError::Content {
            path: path.clone(),
            why,
        })?;
        let done = |text| Updated {
            path: path.clone(),
            text,
            changes: changes.clone(),
        };
        let Some(text) = text else {
            return Ok(done(None));
        };
        if dry_run {
            return Ok(done(Some(text)));
        }
        match write(&path, &text, before.as_deref()) {
            Ok(true) => return Ok(done(Some(text))),
            Ok(false) => tracing::debug!("{} changed while we edited it; again", path.display()),
            Err(e) => return Err(e),
        }
    }
    Err(EditError::KeptChanging(path))
}

/// The file a path names, through symlinks, even when the last one points nowhere yet.
/// A link is followed only within its owner's files: the link, the directory holding it,
/// and every existing directory and file on the way to its target belong to the same
/// user (or to root, for the system directories above a home).
fn follow_links<E>(path: &Path) -> Result<PathBuf, EditError<E>> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let Ok(target) = fs::read_link(&path) else {
            break;
        };
        let target = match path.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
        check_link(&path, &target)?;
        path = target;
    }
    Ok(path)
}

#[cfg(unix)]
fn check_link<E>(link: &Path, target: &Path) -> Result<(), EditError<E>> {
    use std::os::unix::fs::MetadataExt;
    let uid_of = |p: &Path| fs::symlink_metadata(p).ok().map(|m| m.uid());
    let dir = link.parent().filter(|d| !d.as_os_str().is_empty());
    let owner = dir
        .and_then(|d| fs::metadata(d).ok())
        .map_or_else(|| uid_of(link).unwrap_or(0), |m| m.uid());
    let refuse = |uid| EditError::Link {
        link: link.to_path_buf(),
        target: target.to_path_buf(),
        owner,
        uid,
    };
    if let Some(uid) = uid_of(link).filter(|&u| u != owner && u != 0) {
        return Err(refuse(uid));
    }
    // The target itself must be the owner's; the directories above it may be root's.
    if let Some(uid) = uid_of(target).filter(|&u| u != owner) {
        return Err(refuse(uid));
    }
    for p in target.ancestors().skip(1) {
        if let Some(uid) = uid_of(p).filter(|&u| u != owner && u != 0) {
            return Err(refuse(uid));
        }
    }
    Ok(())
}

/// Windows: a profile's links are its owner's, as its ACL is.
#[cfg(windows)]
fn check_link<E>(_: &Path, _: &Path) -> Result<(), EditError<E>> {
    Ok(())
}

/// Writes `text` unless the file no longer holds `before`: `Ok(false)` then.
fn write<E>(path: &Path, text: &str, before: Option<&str>) -> Result<bool, EditError<E>> {
    let fail = |source: io::Error| EditError::Write {
        path: path.to_path_buf(),
        error: source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mode = match fs::symlink_metadata(path) {
        // Replaced by a link since we read it: read (and check) again.
        Ok(m) if m.file_type().is_symlink() => return Ok(false),
        Ok(m) if m.permissions().readonly() => {
            return Err(EditError::ReadOnly {
                path: path.to_path_buf(),
                mode: files::mode(&m),
            });
        }
        Ok(m) => files::mode(&m),
        Err(_) => {
            files::create_dirs(dir, 0o777).map_err(|source| EditError::CreateDir {
                dir: dir.to_path_buf(),
                error: source,
            })?;
            0o600
        }
    };
    files::replace_if_unchanged(path, text.as_bytes(), mode, before.map(str::as_bytes))
        .map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add_line(line: &'static str) -> impl Fn(Option<&str>) -> Edited<std::convert::Infallible> {
        move |before| {
            let before = before.unwrap_or_default();
            Ok((
                Some(format!("{before}{line}\n")),
                vec![format!("added {line}")],
            ))
        }
    }

    /// Issue 13: a concurrent `docker login` writing the same file lost its change.
    #[test]
    fn a_change_made_while_we_edit_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, "theirs-1\n").unwrap();
        let round = std::cell::Cell::new(0);
        let edit = |before: Option<&str>| {
            round.set(round.get() + 1);
            if round.get() == 1 {
                // Another program writes between our read and our rename.
                fs::write(&path, "theirs-1\ntheirs-2\n").unwrap();
            }
            add_line("ours")(before)
        };
        let updated = update(&path, false, &edit).unwrap();
        assert_eq!(round.get(), 2);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "theirs-1\ntheirs-2\nours\n"
        );
        assert_eq!(updated.changes, ["added ours"]);
    }

    #[cfg(unix)]
    #[test]
    fn writes_through_a_dangling_symlink_to_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("dotfiles/docker.json");
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink("dotfiles/docker.json", &link).unwrap();
        let updated = update(&link, false, &add_line("x")).unwrap();
        assert_eq!(updated.path, target);
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&link).unwrap(), "x\n");
    }

    #[test]
    fn a_dry_run_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        let updated = update(&path, true, &add_line("x")).unwrap();
        assert_eq!(updated.text.as_deref(), Some("x\n"));
        assert!(!path.exists());
    }
}
