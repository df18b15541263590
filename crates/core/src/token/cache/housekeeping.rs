//! Keeping the cache directory small and free of secrets nobody will use: temp files a
//! killed writer left (they hold tokens), and entries, locks, usage markers and failure
//! records of identities unused for longer than `forget_after`. The daemon sweeps on every
//! scan; a `get` that misses sweeps now and then.

use super::{Cache, KEY_FILES, is_key, touch_unless_fresh};
use crate::files;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Temp files older than this are a dead writer's.
const TEMP_GRACE: Duration = Duration::from_secs(60);
/// How often a `get` sweeps: the stamp file's age.
const GET_SWEEP_EVERY: Duration = Duration::from_secs(6 * 3600);
const STAMP: &str = ".swept";

impl Cache {
    /// Sweeps if the last sweep was long enough ago (what a `get` that fetched does).
    pub(crate) fn sweep_now_and_then(&self, now: SystemTime, forget_after: Duration) {
        if let Ok(true) = touch_unless_fresh(&self.dir.join(STAMP), now, GET_SWEEP_EVERY) {
            self.sweep(now, forget_after);
        }
    }

    /// Removes stale temp files, and everything of keys unused for `forget_after` whose
    /// entry can no longer be served (expired, or gone).
    pub fn sweep(&self, now: SystemTime, forget_after: Duration) {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return;
        };
        let now_ms = crate::clock::epoch_ms(now);
        for item in dir.flatten() {
            let Some(name) = item.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.starts_with(files::TEMP_PREFIX) {
                if older_than(&item.path(), now, TEMP_GRACE) {
                    let _ = fs::remove_file(item.path());
                }
                continue;
            }
            let Some((key, suffix)) = name.split_once('.') else {
                continue;
            };
            if !is_key(key) || !KEY_FILES.contains(&suffix) {
                continue;
            }
            // Decide once per key, from its entry's file.
            if suffix != "json" && self.entry_path(key).exists() {
                continue;
            }
            let expired = match self.read(key) {
                Ok(Some(entry)) => entry.expires_at_ms <= now_ms,
                Ok(None) | Err(_) => true,
            };
            let last_touch = [self.used_path(key), self.entry_path(key), item.path()]
                .iter()
                .filter_map(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
                .max();
            let idle = last_touch
                .is_none_or(|t| now.duration_since(t).is_ok_and(|age| age > forget_after));
            if expired && idle {
                tracing::debug!("forgetting cache key {key}: unused for over {forget_after:?}");
                let _ = self.remove(key);
            }
        }
    }
}

fn older_than(path: &Path, now: SystemTime, age: Duration) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).is_ok_and(|a| a > age))
}

#[cfg(test)]
mod tests {
    use super::super::{Entry, Source};
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn names(cache: &Cache) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(cache.dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn age(path: &Path, t: SystemTime) {
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn forgets_idle_expired_keys_and_dead_temp_files_only() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(tmp.path()).unwrap();
        let now = SystemTime::now();
        let long_ago = now - 8 * DAY;
        let now_ms = crate::clock::epoch_ms(now);
        let entry = |identity: &str, expires: i64| Entry {
            identity: identity.into(),
            ..Entry::sample(Source::Fetched, 0, expires)
        };
        // Idle and expired: goes, with its lock and marker.
        let old = entry("old", now_ms - 1000);
        cache.write(&old).unwrap();
        cache.mark_used(&old.key(), long_ago);
        let _ = cache.lock(&old.key(), Duration::ZERO).unwrap();
        for suffix in ["json", "lock"] {
            age(
                &tmp.path().join(format!("{}.{suffix}", old.key())),
                long_ago,
            );
        }
        // Expired but used recently: stays.
        let recent = entry("recent", now_ms - 1000);
        cache.write(&recent).unwrap();
        cache.mark_used(&recent.key(), now);
        // Valid and idle: stays (it can still be served).
        let valid = entry("valid", now_ms + 3_600_000);
        cache.write(&valid).unwrap();
        age(&tmp.path().join(format!("{}.json", valid.key())), long_ago);
        // A lone lock of a key never written, long ago: goes.
        let orphan = tmp.path().join(format!("{}.lock", "a".repeat(32)));
        fs::write(&orphan, "").unwrap();
        age(&orphan, long_ago);
        // Temp files: a dead writer's goes, a live one's stays; others are not ours.
        for (name, t) in [
            (".tmp-dead", now - Duration::from_secs(120)),
            (".tmp-live", now),
        ] {
            fs::write(tmp.path().join(name), "token").unwrap();
            age(&tmp.path().join(name), t);
        }
        fs::write(tmp.path().join("daemon.json"), "{}").unwrap();
        // The fingerprint key is made by the first cache this test process opens: this
        // one, or another test's. Where it is here, it stays.
        let key_file = tmp.path().join(".fingerprint-key").exists();
        cache.sweep(now, 7 * DAY);
        let mut want = vec![
            ".tmp-live".to_string(),
            "daemon.json".into(),
            format!("{}.json", recent.key()),
            format!("{}.used", recent.key()),
            format!("{}.json", valid.key()),
        ];
        if key_file {
            want.push(".fingerprint-key".into());
        }
        want.sort();
        assert_eq!(names(&cache), want);
    }
}
