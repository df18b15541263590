//! Rewriting a file that belongs to the user and to other programs (Docker's config, our
//! TOML): atomically, through symlinks (dotfile managers) even dangling ones, with the
//! file's own mode and owner (`sudo configure` must not hand a user's file to root), and
//! without losing a change another program made while we edited (we compare just before
//! the rename and start over if it moved).

use ecr_login_core::files;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Read-edit-write rounds before giving up on a file that keeps changing.
const ATTEMPTS: usize = 5;
/// Symlinks followed before giving up (as the kernel does).
const MAX_LINKS: usize = 40;

/// An edit's outcome: the new text (`None`: no change) and a line per change.
pub type Edited = Result<(Option<String>, Vec<String>), String>;

/// An edit: the file's text (`None`: no file) to its outcome.
pub type Edit<'a> = dyn Fn(Option<&str>) -> Edited + 'a;

/// What an update did.
#[derive(Debug)]
pub struct Updated {
    /// The file written (the symlink's target).
    pub path: PathBuf,
    /// The text before (`None`: no file).
    pub before: Option<String>,
    /// The new text, if anything changed.
    pub text: Option<String>,
    pub changes: Vec<String>,
}

/// Applies `edit` to the file at `path` (written unless `dry_run`).
pub fn update(path: &Path, dry_run: bool, edit: &Edit) -> Result<Updated, String> {
    let path = follow_links(path);
    for _ in 0..ATTEMPTS {
        let before = match fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let (text, changes) = edit(before.as_deref())?;
        let done = |text| Updated {
            path: path.clone(),
            before: before.clone(),
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
    Err(format!(
        "{} kept changing while we edited it (another program is writing it); try again",
        path.display()
    ))
}

/// The file a path names, through symlinks, even when the last one points nowhere yet.
fn follow_links(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::read_link(&path) {
            Ok(target) => {
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                }
            }
            Err(_) => break,
        }
    }
    path
}

/// Writes `text` unless the file no longer holds `before`: `Ok(false)` then.
fn write(path: &Path, text: &str, before: Option<&str>) -> Result<bool, String> {
    let fail = |e: io::Error| format!("cannot write {}: {e}", path.display());
    let dir = path.parent().ok_or("the config path has no directory")?;
    let (mode, owner) = match fs::metadata(path) {
        Ok(m) if m.permissions().readonly() => {
            return Err(format!(
                "{} is read-only (mode {:o}); make it writable or add the entries by hand",
                path.display(),
                files::mode(&m)
            ));
        }
        Ok(m) => (files::mode(&m), files::owner(&m)),
        Err(_) => {
            create_dirs(dir)?;
            (0o600, nearest_owner(dir))
        }
    };
    // As root (sudo), give the file back to whoever owns it, or owns its directory.
    let owner = owner.filter(|_| files::is_root());
    let changed = std::cell::Cell::new(false);
    let result = files::write_atomic_with(path, text.as_bytes(), mode, |tmp| {
        if let Some(owner) = owner {
            files::set_owner(tmp, owner)?;
        }
        let now = match fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if now.as_deref() != before {
            changed.set(true);
            return Err(io::Error::other("changed meanwhile"));
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(true),
        Err(_) if changed.get() => Ok(false),
        Err(e) => Err(fail(e)),
    }
}

/// Creates missing directories, as root giving them to the owner of the nearest existing
/// one (a user's home when run with sudo).
fn create_dirs(dir: &Path) -> Result<(), String> {
    let owner = nearest_owner(dir).filter(|_| files::is_root());
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| !p.exists()) {
        missing.push(p.to_path_buf());
        d = p.parent();
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if let Some(owner) = owner {
        for p in missing {
            if let Ok(f) = fs::File::open(&p) {
                let _ = files::set_owner(&f, owner);
            }
        }
    }
    Ok(())
}

fn nearest_owner(dir: &Path) -> Option<files::Owner> {
    dir.ancestors()
        .find_map(|p| fs::metadata(p).ok())
        .and_then(|m| files::owner(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add_line(line: &'static str) -> impl Fn(Option<&str>) -> Edited {
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
