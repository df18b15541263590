//! What the process may do, settled before anything else runs.
//!
//! **Root never acts through a path that another user can change.** Before touching
//! anything, root looks at every path a command may use ([`touched`]: the home, Docker's
//! config, ours, the cache, the login store, the AWS files, the CA bundle), each component
//! from `/` down and through every link, without following anything it has not looked at:
//! - if they all belong to root and none is writable by another user (OpenSSH's
//!   `secure_path` rule; a sticky directory such as `/tmp` counts when the entry in it is
//!   root's), root goes on as root: nobody else can swap a link or a directory under it;
//! - if any belongs to one other user (`sudo -E`, `DOCKER_CONFIG=/home/bob/.docker`, a
//!   provisioning script), the process becomes that user for the whole run, so the kernel
//!   refuses whatever that user could not do themselves;
//! - if they belong to two other users, or a root-owned directory on the way is writable by
//!   others, it refuses, naming the path.
//!
//! Becoming the user leaves nothing of root's behind: root's secret AWS variables are
//! removed first (a token they signed would land in the user's cache), and the process is
//! not dumpable, so the user cannot read root's environment from `/proc`. The front binary
//! never switches itself: it hands over to the full binary first, since a process that
//! switched and then execs is dumpable again.
//!
//! No core dumps either: once a process holds a token, a core file would be a copy of it.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The uid we switched to (`u32::MAX`: none).
static ACTING_AS: AtomicU32 = AtomicU32::new(u32::MAX);
/// The uid whose files we could not act on (`u32::MAX`: none): see [`Settled`].
static CANNOT_ACT_AS: AtomicU32 = AtomicU32::new(u32::MAX);

/// Why the process cannot go on. Each prints its cause's words, so none returns it from
/// `source()`.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// As root, a path could not be looked at, so whose it is is unknown.
    #[cfg(unix)]
    #[error("running as root, and cannot look at {}: {error}", path.display())]
    Inspect { path: PathBuf, error: io::Error },
    /// As root with paths of `uid` (`path` names one, `what` says which), and becoming
    /// that user failed.
    #[error(
        "running as root with {what} {} of uid {uid}, and cannot act as that user ({error}); run ecr-login as that user instead",
        path.display()
    )]
    BecomeUser {
        uid: u32,
        path: PathBuf,
        what: &'static str,
        error: io::Error,
    },
    /// As root, with paths of two other users.
    #[cfg(unix)]
    #[error(
        "running as root with the files of two users: {} (uid {}) and {} (uid {}); run ecr-login as one of them, with that user's paths only",
        first.1.display(),
        first.0,
        second.1.display(),
        second.0
    )]
    TwoUsers {
        first: (u32, PathBuf),
        second: (u32, PathBuf),
    },
    /// As root, going on as root, a path learnt later (`what`) names a file of `uid`'s.
    #[cfg(unix)]
    #[error(
        "running as root, and {what} {} belongs to uid {uid}: root never acts on another user's files; run this as that user",
        path.display()
    )]
    NotRoots {
        uid: u32,
        path: PathBuf,
        what: &'static str,
    },
    /// As root, a root-owned directory on the way to `path` is writable by others.
    #[cfg(unix)]
    #[error(
        "running as root, and {} (on the way to {what}) is writable by other users (mode {mode:o}), who could swap what root reads or writes there; make it writable by root alone (chmod go-w), or run ecr-login as the user whose files these are",
        dir.display()
    )]
    OpenToOthers {
        dir: PathBuf,
        mode: u32,
        what: &'static str,
    },
    /// As root, the files of `uid` could not be acted on as that user: only the protocol
    /// actions go on (without the cache), never a command that writes.
    #[error(
        "running as root with the files of uid {uid}, and cannot act as that user (a user namespace where that uid is not mapped?); this command would write there as root, so it does not run: run it as that user"
    )]
    Unswitchable { uid: u32 },
}

/// What [`settle`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Windows has no root to decide for: only `Ready` is made there.
#[cfg_attr(windows, allow(dead_code))]
pub(crate) enum Settled {
    /// Go on: as ourselves, as root over root's own paths, or as the user we became.
    Ready,
    /// Root must become another user, and this binary may not switch (the front one): hand
    /// the whole command to the full binary, which switches itself.
    HandOff,
    /// Root with another user's files, and switching is impossible here (a user namespace
    /// where that user is not mapped): go on as root without the cache, and only for
    /// requests that write nothing in those files. Said once on stderr.
    Limited,
}

/// Sets the process up as described above. `may_switch`: whether this binary may become
/// another user (the full one), or must hand over when that is needed (the front one).
/// `say` gets what the user is to be told once (on stderr, by the caller).
pub(crate) fn settle(
    may_switch: bool,
    say: &mut dyn FnMut(String),
) -> Result<Settled, PrivilegeError> {
    platform::no_core_dumps();
    if !platform::is_root() {
        return Ok(Settled::Ready);
    }
    platform::settle_root(may_switch, say)
}

/// The uid we act as, when we started as root with another user's files and switched.
pub fn acting_as() -> Option<u32> {
    let uid = ACTING_AS.load(Ordering::Relaxed);
    (uid != u32::MAX).then_some(uid)
}

/// The uid whose files we are near but could not become ([`Settled::Limited`]): the cache
/// and the login store stay off.
pub(crate) fn cannot_act_as() -> Option<u32> {
    let uid = CANNOT_ACT_AS.load(Ordering::Relaxed);
    (uid != u32::MAX).then_some(uid)
}

/// The error for a write that [`Settled::Limited`] forbids.
pub(crate) fn limited_error(uid: u32) -> PrivilegeError {
    PrivilegeError::Unswitchable { uid }
}

/// What [`touched`] calls the home directory.
#[cfg(unix)]
const HOME: &str = "the home directory";

/// The paths a command may read or write, from the environment alone, each with what it
/// is: what root's decision is taken from.
#[cfg(unix)]
pub(crate) fn touched() -> Vec<(&'static str, PathBuf)> {
    let env = crate::env::ProcessEnv;
    let var = |name: &str| crate::env::Env::var(&env, name);
    let home = crate::paths::home_dir(&env);
    let mut paths = Vec::new();
    if let Some(home) = &home {
        paths.push((HOME, home.clone()));
    }
    if let Ok(p) = crate::paths::docker_config() {
        paths.push(("Docker's config", p));
    }
    if let Some(p) = crate::paths::config_file() {
        paths.push(("ecr-login's config", p));
    }
    if let Ok(Some(p)) = crate::paths::cache_dir() {
        paths.push(("the cache directory", p));
    }
    if let Ok(p) = crate::paths::store_dir() {
        paths.push(("the login store", p));
    }
    for (var_name, default, what) in [
        ("AWS_CONFIG_FILE", "~/.aws/config", "the AWS config file"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "~/.aws/credentials",
            "the AWS credentials file",
        ),
    ] {
        let raw = var(var_name).unwrap_or_else(|| default.to_string());
        if let Some(p) = crate::token::identity::source::expand_home(&raw, home.as_deref()) {
            paths.push((what, p));
        }
    }
    for (var_name, what) in [
        ("AWS_CA_BUNDLE", "AWS_CA_BUNDLE"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE"),
    ] {
        if let Some(p) = var(var_name) {
            paths.push((what, PathBuf::from(p)));
        }
    }
    paths
}

/// As root (not acting for another user), whether `path` is one root may use: every
/// component root's and writable by root alone. For a path learnt after [`settle`] (the
/// Docker config that our config records, for the daemon). `Ok` for anyone but root.
pub fn check_root_path(path: &std::path::Path, what: &'static str) -> Result<(), PrivilegeError> {
    if !platform::is_root() || acting_as().is_some() {
        return Ok(());
    }
    platform::check_root_path(path, what)
}

#[cfg(unix)]
mod platform {
    use super::{ACTING_AS, CANNOT_ACT_AS, PrivilegeError, Settled, touched};
    use std::collections::VecDeque;
    use std::ffi::OsString;
    use std::io;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::{Component, Path, PathBuf};
    use std::sync::atomic::Ordering;

    /// Links followed in one path before giving up, as the kernel does.
    const MAX_LINKS: usize = 40;

    pub(crate) fn is_root() -> bool {
        crate::files::is_root()
    }

    pub(crate) fn no_core_dumps() {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit(2) with a valid struct; lowering a limit cannot fail for lack
        // of privilege, and a failure changes nothing.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    }

    /// What the components of the paths say.
    #[derive(Default)]
    struct Survey {
        /// Every non-root owner met, with the first path of theirs and what it was for.
        owners: Vec<(u32, u32, PathBuf, &'static str)>,
        /// A root-owned directory writable by others, and the path it was on the way to.
        open: Option<(PathBuf, u32, &'static str)>,
        /// What each path looked at was (or the error it gave): the paths share their
        /// first components (`/`, the home), and one look at each is one answer for all.
        /// A dozen paths at most: a list, found by the paths' bytes (comparing `Path`s
        /// parses their components each time).
        seen: Vec<(OsString, Result<std::fs::Metadata, i32>)>,
    }

    impl Survey {
        /// `lstat(path)`, once per survey.
        fn lstat(&mut self, path: &Path) -> io::Result<std::fs::Metadata> {
            if let Some((_, seen)) = self.seen.iter().find(|(p, _)| p == path.as_os_str()) {
                return seen.clone().map_err(io::Error::from_raw_os_error);
            }
            let result = std::fs::symlink_metadata(path);
            let kept = match &result {
                Ok(meta) => Ok(meta.clone()),
                Err(e) => match e.raw_os_error() {
                    Some(errno) => Err(errno),
                    None => return result,
                },
            };
            self.seen.push((path.as_os_str().to_owned(), kept));
            result
        }

        fn owner(&mut self, meta: &std::fs::Metadata, path: &Path, what: &'static str) {
            if meta.uid() != 0 && !self.owners.iter().any(|o| o.0 == meta.uid()) {
                self.owners
                    .push((meta.uid(), meta.gid(), path.to_path_buf(), what));
            }
        }
    }

    /// Walks `path` from `/`, as the kernel resolves it, looking at (never following
    /// blindly) every component and every link on the way. `true` when it met a link.
    fn walk(path: &Path, what: &'static str, survey: &mut Survey) -> Result<bool, PrivilegeError> {
        let inspect = |p: &Path| {
            let path = p.to_path_buf();
            move |error| PrivilegeError::Inspect { path, error }
        };
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().map_err(inspect(path))?.join(path)
        };
        let mut todo: VecDeque<OsString> = VecDeque::new();
        push_front(&mut todo, &absolute);
        let mut at = PathBuf::from("/");
        let root = survey.lstat(&at).map_err(inspect(&at))?;
        // The directory we are in, when others may write in it: (sticky, mode).
        let mut open_dir = open_to_others(&root);
        let mut links = 0;
        while let Some(name) = todo.pop_front() {
            if name == ".." {
                at.pop();
                let meta = survey.lstat(&at).map_err(inspect(&at))?;
                open_dir = open_to_others(&meta);
                continue;
            }
            let next = at.join(&name);
            let meta = match survey.lstat(&next) {
                Ok(meta) => meta,
                // What does not exist yet will be made inside what we looked at: in a
                // directory others may write in, only a sticky one keeps it ours.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if let Some((false, mode)) = open_dir {
                        survey.open.get_or_insert((at.clone(), mode, what));
                    }
                    break;
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => break,
                Err(e) => return Err(inspect(&next)(e)),
            };
            survey.owner(&meta, &next, what);
            // In a sticky directory only an entry's owner may replace it, so a root entry
            // there is as safe as anywhere; elsewhere anyone may replace it. (An entry of
            // another user's makes that user the owner above.)
            if let Some((false, mode)) = open_dir
                && meta.uid() == 0
            {
                survey.open.get_or_insert((at.clone(), mode, what));
            }
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_LINKS {
                    return Err(inspect(&next)(io::Error::from_raw_os_error(libc::ELOOP)));
                }
                let target = std::fs::read_link(&next).map_err(inspect(&next))?;
                if target.is_absolute() {
                    at = PathBuf::from("/");
                }
                push_front(&mut todo, &target);
                let here = survey.lstat(&at).map_err(inspect(&at))?;
                open_dir = open_to_others(&here);
                continue;
            }
            at = next;
            open_dir = open_to_others(&meta);
            if !meta.is_dir() && meta.uid() == 0 && meta.mode() & 0o022 != 0 {
                survey
                    .open
                    .get_or_insert((at.clone(), meta.mode() & 0o7777, what));
            }
        }
        Ok(links > 0)
    }

    /// A directory others may write in, as (sticky, mode); `None` for anything else.
    fn open_to_others(meta: &std::fs::Metadata) -> Option<(bool, u32)> {
        let mode = meta.permissions().mode();
        (meta.is_dir() && mode & 0o022 != 0).then_some((mode & 0o1000 != 0, mode & 0o7777))
    }

    fn push_front(todo: &mut VecDeque<OsString>, path: &Path) {
        let names: Vec<OsString> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect();
        for n in names.into_iter().rev() {
            todo.push_front(n);
        }
    }

    pub(crate) fn check_root_path(path: &Path, what: &'static str) -> Result<(), PrivilegeError> {
        let mut survey = Survey::default();
        walk(path, what, &mut survey)?;
        if let Some((uid, _, path, what)) = survey.owners.first() {
            return Err(PrivilegeError::NotRoots {
                uid: *uid,
                path: path.clone(),
                what,
            });
        }
        match survey.open {
            Some((dir, mode, what)) => Err(PrivilegeError::OpenToOthers { dir, mode, what }),
            None => Ok(()),
        }
    }

    pub(crate) fn settle_root(
        may_switch: bool,
        say: &mut dyn FnMut(String),
    ) -> Result<Settled, PrivilegeError> {
        let mut survey = Survey::default();
        // The home, when it was walked without meeting a link.
        let mut plain_home = None;
        // The paths as given, links and all: a link the user owns makes them the owner.
        for (what, path) in touched() {
            let linked = walk(&path, what, &mut survey)?;
            if what == super::HOME && !linked {
                plain_home = Some(path);
            }
        }
        if !may_switch && survey.owners.len() == 1 {
            // Handed over as it came: the full binary looks again, and decides the same.
            return Ok(Settled::HandOff);
        }
        // From here on, the home looked at, whatever its links point at later.
        resolve_home(plain_home.as_deref());
        match survey.owners.as_slice() {
            [] => match survey.open {
                Some((dir, mode, what)) => Err(PrivilegeError::OpenToOthers { dir, mode, what }),
                None => Ok(Settled::Ready),
            },
            [(uid, gid, path, what)] => {
                let gid = primary_gid(*uid).unwrap_or(*gid);
                match become_user(*uid, gid) {
                    Ok(()) => {
                        ACTING_AS.store(*uid, Ordering::Relaxed);
                        drop_root_secrets(*uid, say);
                        Ok(Settled::Ready)
                    }
                    // Not permitted here (a user namespace where the uid is unmapped, no
                    // CAP_SETUID): go on without writing in their files.
                    Err(source)
                        if matches!(source.raw_os_error(), Some(libc::EPERM | libc::EINVAL)) =>
                    {
                        CANNOT_ACT_AS.store(*uid, Ordering::Relaxed);
                        // SAFETY: start-up, before any thread exists (as in `resolve_home`).
                        unsafe { std::env::set_var("AWS_ECR_DISABLE_CACHE", "1") };
                        say(format!(
                            "running as root with {what} {} of uid {uid}, and cannot act as that user ({source}); going on as root without the token cache, writing nothing there",
                            path.display()
                        ));
                        Ok(Settled::Limited)
                    }
                    Err(source) => Err(PrivilegeError::BecomeUser {
                        uid: *uid,
                        path: path.clone(),
                        what,
                        error: source,
                    }),
                }
            }
            [first, second, ..] => Err(PrivilegeError::TwoUsers {
                first: (first.0, first.2.clone()),
                second: (second.0, second.2.clone()),
            }),
        }
    }

    /// `HOME` resolved once, through its links, and exported so: every later access uses
    /// the directory looked at, even if a link on the way is flipped meanwhile. `plain`:
    /// the home as [`walk`] found it with no link on the way; when `HOME` is that path,
    /// absolute and already in its normal form, it is its own real path (the walk looked
    /// at every component, or stopped where `canonicalize` would fail), and is kept as is.
    fn resolve_home(plain: Option<&Path>) {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            return;
        };
        if plain.is_some_and(|p| p.as_os_str() == home && is_normal(p)) {
            return;
        }
        if let Ok(real) = std::fs::canonicalize(&home)
            && real.as_os_str() != home
        {
            // SAFETY: called once at start-up, before any thread exists (settle runs first
            // thing in main), so nothing reads the environment concurrently.
            unsafe { std::env::set_var("HOME", real) };
        }
    }

    /// An absolute path written as `canonicalize` writes one: no `.` or `..`, no doubled
    /// or trailing `/`.
    fn is_normal(path: &Path) -> bool {
        let rebuilt: PathBuf = path.components().collect();
        path.is_absolute()
            && rebuilt.as_os_str() == path.as_os_str()
            && !path.components().any(|c| c == Component::ParentDir)
    }

    /// Root's AWS secrets (keys, session tokens, anything an `AWS_*` variable may hold that
    /// is not a known setting) go once we act as another user: a token they signed would
    /// land in that user's cache, and programs we start as that user would inherit them.
    /// (The process is no longer dumpable, so its original environment stays unreadable.)
    fn drop_root_secrets(uid: u32, say: &mut dyn FnMut(String)) {
        let mut secret: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| crate::env::is_aws_var(k) && crate::env::is_secret_var(k))
            .collect();
        secret.sort();
        if secret.is_empty() {
            return;
        }
        for name in &secret {
            // SAFETY: as in `resolve_home`: start-up, a single thread.
            unsafe { std::env::remove_var(name) };
        }
        say(format!(
            "acting as uid {uid} (the owner of the files in use), so root's {} {} not used: that user's own AWS credentials sign",
            secret.join(", "),
            if secret.len() == 1 { "is" } else { "are" }
        ));
    }

    /// The user's primary group, from the user database.
    fn primary_gid(uid: u32) -> Option<u32> {
        let mut buf = vec![0u8; 16 * 1024];
        // SAFETY: an all-zero passwd is a valid out-parameter for getpwuid_r.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: valid pointers to a passwd, a buffer of the given length and a result.
        let r = unsafe {
            libc::getpwuid_r(
                uid as libc::uid_t,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        (r == 0 && !result.is_null()).then_some(pwd.pw_gid)
    }

    /// Gives up root for good: supplementary groups, then the group, then the user; then
    /// makes sure the process is not dumpable (the kernel does so on the switch, and an
    /// explicit call keeps it so on every kernel).
    fn become_user(uid: u32, gid: u32) -> io::Result<()> {
        let check = |r: libc::c_int| {
            if r == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        };
        let groups = [gid as libc::gid_t];
        // SAFETY: plain system calls with valid arguments; the order (groups, gid, uid)
        // is the one that leaves no root privilege behind.
        let switched = unsafe {
            check(libc::setgroups(1 as _, groups.as_ptr()))
                .and_then(|()| check(libc::setgid(gid as libc::gid_t)))
                .and_then(|()| check(libc::setuid(uid as libc::uid_t)))
        };
        // Whatever came of it, the ownership checks ask the kernel who we are again.
        crate::files::forget_euid();
        switched?;
        // SAFETY: as above.
        if unsafe { libc::setuid(0) } == 0 {
            crate::files::forget_euid();
            return Err(io::Error::other("root could be regained"));
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: prctl with PR_SET_DUMPABLE and a plain integer argument.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Issue 31: root keeps `HOME` as written, with no `canonicalize`, only when that
        /// would give it back unchanged.
        #[test]
        fn a_normal_path_is_one_canonicalize_writes() {
            for (path, normal) in [
                ("/", true),
                ("/home/u", true),
                ("/home/u/", false),
                ("/home//u", false),
                ("/home/./u", false),
                ("/home/u/.", false),
                ("/home/../u", false),
                ("home/u", false),
                ("./u", false),
            ] {
                assert_eq!(is_normal(Path::new(path)), normal, "{path}");
            }
        }

        /// The walk says when it met a link (then `canonicalize` resolves the home), and
        /// looks at each path once however many walks share it.
        #[test]
        fn the_walk_tells_links_and_looks_once() {
            let dir = tempfile::tempdir().unwrap();
            let real = std::fs::canonicalize(dir.path()).unwrap();
            std::fs::create_dir(real.join("home")).unwrap();
            std::os::unix::fs::symlink("home", real.join("link")).unwrap();
            let mut survey = Survey::default();
            assert!(!walk(&real.join("home"), "a", &mut survey).unwrap());
            let seen = survey.seen.len();
            assert!(!walk(&real.join("home"), "a", &mut survey).unwrap());
            assert_eq!(survey.seen.len(), seen, "nothing new to look at");
            assert!(walk(&real.join("link"), "b", &mut survey).unwrap());
            assert!(!walk(&real.join("missing/x"), "c", &mut survey).unwrap());
            // A missing path is remembered as missing.
            assert_eq!(
                survey
                    .lstat(&real.join("missing"))
                    .unwrap_err()
                    .raw_os_error(),
                Some(libc::ENOENT)
            );
        }
    }
}

#[cfg(windows)]
mod platform {
    use super::{PrivilegeError, Settled};

    pub(crate) fn is_root() -> bool {
        false
    }

    pub(crate) fn no_core_dumps() {}

    /// Windows has no root acting in another user's profile through a variable.
    pub(crate) fn settle_root(
        _: bool,
        _: &mut dyn FnMut(String),
    ) -> Result<Settled, PrivilegeError> {
        Ok(Settled::Ready)
    }

    pub(crate) fn check_root_path(
        _: &std::path::Path,
        _: &'static str,
    ) -> Result<(), PrivilegeError> {
        Ok(())
    }
}
