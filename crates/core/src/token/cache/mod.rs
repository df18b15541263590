//! The on-disk token cache: one small JSON file per (registry, identity).
//!
//! Readers never lock and never see a partial entry: writers write a temp file in the same
//! directory, fsync it and rename it over the entry. Misses serialise on a per-entry lock
//! file so N parallel cold `get`s make one API call (the Go helper made N, and lost
//! entries to its single shared file). Everything is created 0700/0600 and a directory or
//! file that someone else could have planted is refused.

mod entry;
mod error;
mod housekeeping;

pub use entry::{Entry, Source, key};
pub use error::CacheError;

use crate::files::{self, check_owned};
use crate::token::fetch::FetchError;
use crate::token::identity::Key;
use crate::token::lock::{self, LockError, LockGuard};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The identity under which `docker login` credentials are kept.
pub(crate) const STORED_IDENTITY: &str = "docker-login";

/// Usage markers are rewritten at most this often, so a hit costs one `stat`, not a write.
const USED_GRANULARITY: Duration = Duration::from_secs(3600);

/// Entry files larger than this are not ours.
const MAX_ENTRY_BYTES: u64 = 256 * 1024;

/// The files that belong to one key, by suffix: the entry, its usage marker, its lock and
/// the record of the last failed fetch.
const KEY_FILES: [&str; 4] = ["json", "used", "lock", "fail"];

/// Whether `name` is a key ([`key`]: 32 lower-case hex digits); other files in the
/// directory (the daemon's state, temp files) are not entries.
fn is_key(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A failed fetch, kept beside the lock so that whoever waited on it gets the same answer
/// at once instead of repeating the attempt. No secret: the error's message and kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FailureRecord {
    at_ms: i64,
    pid: u32,
    error: FetchError,
}

/// Where the cache lives, or `None` when it is disabled (`AWS_ECR_DISABLE_CACHE`).
pub fn default_dir() -> Result<Option<PathBuf>, CacheError> {
    crate::paths::cache_dir().map_err(|e| match e {
        crate::paths::PathError::TildeWithoutHome { .. } => CacheError::TildeWithoutHome,
        crate::paths::PathError::NoHome { .. } => CacheError::NoHome,
    })
}

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    /// What the identities of its entries fingerprint secrets under.
    key: Key,
}

impl Cache {
    /// The user's cache ([`default_dir`]): `Ok(None)` when it is disabled, `Err` with the
    /// reason when it cannot be used.
    pub fn from_env() -> Result<Option<Cache>, CacheError> {
        match default_dir()? {
            Some(dir) => Cache::open(&dir).map(Some),
            None => Ok(None),
        }
    }

    /// [`Cache::from_env`], or `None` with a warning saying why the request goes on
    /// without the cache.
    pub fn from_env_or_warn() -> Option<Cache> {
        Cache::from_env()
            .map_err(|e| tracing::warn!("{e}; continuing without the cache"))
            .ok()
            .flatten()
    }

    /// Opens (creating 0700 if needed) and vets the cache directory.
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        let unusable = |source: io::Error| CacheError::Unusable {
            dir: dir.to_path_buf(),
            error: source,
        };
        // One stat on the hit path; a second only after creating the directory.
        let meta = match fs::symlink_metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(parent) = dir.parent() {
                    fs::create_dir_all(parent).map_err(|source| CacheError::Create {
                        dir: parent.to_path_buf(),
                        error: source,
                    })?;
                }
                match create_private_dir(dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(source) => {
                        return Err(CacheError::Create {
                            dir: dir.to_path_buf(),
                            error: source,
                        });
                    }
                }
                fs::symlink_metadata(dir).map_err(unusable)?
            }
            Err(e) => return Err(unusable(e)),
        };
        check_owned(dir, &meta, "cache directory")?;
        if !meta.is_dir() {
            return Err(CacheError::NotADirectory(dir.to_path_buf()));
        }
        let key = Key::of_cache(dir).map_err(|source| CacheError::NoKey {
            dir: dir.to_path_buf(),
            error: source,
        })?;
        Ok(Cache {
            dir: dir.to_path_buf(),
            key,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key the identities of this cache's entries fingerprint secrets under: pass it to
    /// [`Identity::new`](crate::token::identity::Identity::new).
    pub fn key(&self) -> &Key {
        &self.key
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    fn used_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.used"))
    }

    fn failure_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.fail"))
    }

    /// Reads an entry. Missing is `Ok(None)`; unreadable, unsafe or corrupt is `Err` with a
    /// message for a warning: the caller treats it as a miss that the next write repairs.
    pub fn read(&self, key: &str) -> Result<Option<Entry>, CacheError> {
        let path = self.entry_path(key);
        let read = |source: io::Error| CacheError::Read {
            path: path.clone(),
            error: source,
        };
        let refused = |why: files::Why| {
            CacheError::Refused(files::Refused {
                what: "cache entry",
                path: path.clone(),
                why,
            })
        };
        let file = match files::open_options(0o600).read(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if files::is_symlink_error(&e) => return Err(refused(files::Why::Symlink)),
            Err(e) => return Err(read(e)),
        };
        let meta = file.metadata().map_err(read)?;
        check_owned(&path, &meta, "cache entry")?;
        files::vet(&meta).map_err(refused)?;
        if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
            return Err(CacheError::NotAnEntry(path));
        }
        let mut text = Vec::with_capacity(meta.len() as usize);
        file.take(MAX_ENTRY_BYTES)
            .read_to_end(&mut text)
            .map_err(read)?;
        let entry: Entry = serde_json::from_slice(&text).map_err(|e| CacheError::Corrupt {
            path: path.clone(),
            detail: crate::redact::serde_message(&e),
        })?;
        if entry.key() != key {
            return Err(CacheError::Misnamed(path));
        }
        Ok(Some(entry))
    }

    /// Writes an entry atomically (0600).
    pub(crate) fn write(&self, entry: &Entry) -> Result<(), CacheError> {
        let path = self.entry_path(&entry.key());
        let fail = |source: io::Error| CacheError::Write {
            path: path.clone(),
            error: source,
        };
        let mut bytes = serde_json::to_vec_pretty(entry).map_err(|e| fail(io::Error::other(e)))?;
        bytes.push(b'\n');
        files::write_atomic(&path, &bytes, 0o600).map_err(fail)
    }

    /// Takes the per-entry lock that serialises fetches for one (registry, identity),
    /// waiting at most `budget` for another process's fetch.
    pub(crate) fn lock(&self, key: &str, budget: Duration) -> Result<LockGuard, LockError> {
        lock::exclusive(&self.dir.join(format!("{key}.lock")), budget)
    }

    /// Records that fetching `key` failed at `at_ms` (while holding its lock).
    pub(crate) fn record_failure(&self, key: &str, error: &FetchError, at_ms: i64) {
        let record = FailureRecord {
            at_ms,
            pid: std::process::id(),
            error: error.clone(),
        };
        let path = self.failure_path(key);
        let written = serde_json::to_vec(&record)
            .map_err(io::Error::other)
            .and_then(|bytes| files::write_atomic(&path, &bytes, 0o600));
        if let Err(e) = written {
            tracing::debug!("cannot record the failure in {}: {e}", path.display());
        }
    }

    /// The failure recorded for `key` at or after `since_ms`: what the holder we waited
    /// for ran into.
    pub fn failure_since(&self, key: &str, since_ms: i64) -> Option<FetchError> {
        let mut text = Vec::new();
        let mut options = files::open_options(0o600);
        options.read(true);
        files::open_vetted(&options, &self.failure_path(key))
            .ok()?
            .take(64 * 1024)
            .read_to_end(&mut text)
            .ok()?;
        let record: FailureRecord = serde_json::from_slice(&text).ok()?;
        (record.at_ms >= since_ms).then_some(record.error)
    }

    /// Forgets the failure record of `key` (after a success).
    pub(crate) fn clear_failure(&self, key: &str) {
        let _ = fs::remove_file(self.failure_path(key));
    }

    /// Every entry in the cache, with the problems met on the way (as warnings).
    pub fn entries(&self) -> (Vec<Entry>, Vec<String>) {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        let dir = match fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!(
                    "cannot list cache directory {}: {e}",
                    self.dir.display()
                ));
                return (entries, problems);
            }
        };
        for item in dir.flatten() {
            let name = item.file_name();
            let Some(key) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|k| is_key(k))
            else {
                continue;
            };
            match self.read(key) {
                Ok(Some(entry)) => entries.push(entry),
                Ok(None) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
        entries.sort_by(|a, b| (&a.registry, &a.identity).cmp(&(&b.registry, &b.identity)));
        (entries, problems)
    }

    /// Removes every entry for any of these registry hosts (all identities, fetched and
    /// stored), in one pass over the cache, and returns how many went.
    pub(crate) fn remove_registries(&self, registries: &[&str]) -> usize {
        let (entries, _) = self.entries();
        entries
            .iter()
            .filter(|e| registries.contains(&e.registry.as_str()))
            .filter(|e| self.remove(&e.key()).is_ok())
            .count()
    }

    /// Removes an entry and every file beside it (usage marker, lock, failure record).
    pub(crate) fn remove(&self, key: &str) -> io::Result<()> {
        for suffix in &KEY_FILES[1..] {
            let _ = fs::remove_file(self.dir.join(format!("{key}.{suffix}")));
        }
        fs::remove_file(self.entry_path(key))
    }

    /// Records that `key` was served at `now`, writing only when the record is older than
    /// [`USED_GRANULARITY`]: the cache-hit path pays one `stat`.
    pub(crate) fn mark_used(&self, key: &str, now: SystemTime) {
        if let Err(e) = touch_unless_fresh(&self.used_path(key), now, USED_GRANULARITY) {
            tracing::debug!("cannot record use of cache entry {key}: {e}");
        }
    }

    /// When `key` was last served (to within [`USED_GRANULARITY`]).
    pub fn last_used(&self, key: &str) -> Option<SystemTime> {
        fs::symlink_metadata(self.used_path(key))
            .and_then(|m| m.modified())
            .ok()
    }
}

/// Sets a marker file's time to `now`, creating it (0600), unless it was set less than
/// `fresh_for` ago: then it costs one `stat`. `Ok(true)` when it was set.
fn touch_unless_fresh(path: &Path, now: SystemTime, fresh_for: Duration) -> io::Result<bool> {
    let fresh = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age < fresh_for));
    if fresh {
        return Ok(false);
    }
    let mut options = files::open_options(0o600);
    options.write(true).create(true).truncate(false);
    files::open_vetted(&options, path)
        .and_then(|f| f.set_modified(now))
        .map(|()| true)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().mode(0o700).create(dir)
}

#[cfg(windows)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir(dir)
}

/// Mode bits of a path.
#[cfg(all(test, unix))]
pub(crate) fn mode_of(path: &Path) -> io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    Ok(fs::symlink_metadata(path)?.mode() & 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(registry: &str, identity: &str) -> Entry {
        Entry {
            registry: registry.into(),
            server: registry.into(),
            identity: identity.into(),
            ..Entry::sample(Source::Fetched, 1, 2)
        }
    }

    #[cfg(unix)]
    #[test]
    fn write_read_remove_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        let cache = Cache::open(&dir).unwrap();
        assert_eq!(mode_of(&dir).unwrap(), 0o700);
        let e = entry("r1", "profile:a");
        cache.write(&e).unwrap();
        assert_eq!(
            mode_of(&dir.join(format!("{}.json", e.key()))).unwrap(),
            0o600
        );
        assert_eq!(cache.read(&e.key()).unwrap(), Some(e.clone()));
        cache.write(&entry("r1", "profile:b")).unwrap();
        cache.write(&entry("r2", "profile:a")).unwrap();
        assert_eq!(cache.remove_registries(&["r1", "r3"]), 2);
        assert_eq!(cache.entries().0.len(), 1);
        // No temp files left behind.
        assert!(
            fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .all(|f| !f.file_name().to_string_lossy().starts_with(".tmp"))
        );
    }

    #[test]
    fn corrupt_and_mismatched_entries_are_errors_not_panics() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(tmp.path()).unwrap();
        let k = key("r", "i");
        fs::write(tmp.path().join(format!("{k}.json")), "{not json").unwrap();
        assert!(cache.read(&k).unwrap_err().to_string().contains("corrupt"));
        // A valid entry under another entry's name is not served for it.
        let other = entry("r", "other");
        fs::write(
            tmp.path().join(format!("{k}.json")),
            serde_json::to_vec(&other).unwrap(),
        )
        .unwrap();
        assert!(
            cache
                .read(&k)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
        assert_eq!(cache.read("missing").unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_unsafe_dirs_and_entries() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let open = tmp.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(
            Cache::open(&open)
                .unwrap_err()
                .to_string()
                .contains("writable by other users")
        );
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
        assert!(
            Cache::open(&link)
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );

        let cache = Cache::open(&tmp.path().join("ok")).unwrap();
        let e = entry("r", "i");
        let target = tmp.path().join("planted");
        fs::write(&target, serde_json::to_vec(&e).unwrap()).unwrap();
        std::os::unix::fs::symlink(&target, cache.dir().join(format!("{}.json", e.key()))).unwrap();
        assert!(
            cache
                .read(&e.key())
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
    }

    #[test]
    fn usage_is_recorded_at_most_hourly() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(tmp.path()).unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        cache.mark_used("k", t0);
        assert_eq!(cache.last_used("k"), Some(t0));
        cache.mark_used("k", t0 + Duration::from_secs(60));
        assert_eq!(cache.last_used("k"), Some(t0), "rewritten within the hour");
        cache.mark_used("k", t0 + Duration::from_secs(3601));
        assert_eq!(cache.last_used("k"), Some(t0 + Duration::from_secs(3601)));
    }
}
