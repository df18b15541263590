//! The background refresher: keeps every registry the user works with warm, so `get`
//! always hits a fresh entry and a push never waits for, or fails on, a token.
//!
//! It renews through the same path as `get` (`resolve::obtain`: per-entry lock, re-check,
//! atomic write), so a racing `get` never sees a partial entry and never makes a second
//! API call. Scheduling is a set of pure functions of `now`, tested without sleeping; the
//! loop wakes at least once a minute and decides from the wall clock, so a laptop that
//! slept through a renewal renews right after waking.

use crate::cache::{Cache, Entry, Source};
use crate::config::Config;
use crate::error::Error;
use crate::identity::{Env, ProcessEnv};
use crate::lock::{self, LockGuard};
use crate::policy;
use crate::resolve::{self, Context, Target};
use crate::systemd::Notifier;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The loop never sleeps longer than this: the wall-clock check interval.
pub const MAX_SLEEP_MS: i64 = 60_000;
const BACKOFF_FIRST_MS: i64 = 1_000;
const BACKOFF_CAP_MS: i64 = 300_000;
/// Renewal jitter: up to this share of the token's lifetime, at most [`JITTER_CAP_MS`].
const JITTER_SHARE: f64 = 0.05;
const JITTER_CAP_MS: i64 = 10 * 60_000;

pub const LOCK_FILE: &str = "daemon.lock";
pub const STATE_FILE: &str = "daemon.json";

/// A number in `[0, max)` derived from `seed`: jitter that spreads renewals of many
/// registries and many machines, yet is stable across scans and testable.
pub fn jitter(seed: &str, max: i64) -> i64 {
    if max <= 0 {
        return 0;
    }
    let digest = Sha256::digest(seed.as_bytes());
    let n = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    (n % max as u64) as i64
}

/// When the daemon should renew an entry (`None` entry: now).
pub fn due_at(entry: Option<&Entry>, renew_after: f64, now: i64) -> i64 {
    let Some(e) = entry else { return now };
    let lifetime = e.expires_at_ms.saturating_sub(e.issued_at_ms).max(0);
    let max_jitter = ((lifetime as f64 * JITTER_SHARE) as i64).min(JITTER_CAP_MS);
    policy::renew_at(e, renew_after).saturating_add(jitter(
        &format!("{}{}", e.key(), e.fetched_at_ms),
        max_jitter,
    ))
}

/// Delay before retry number `failures` (1-based): 1 s doubling to 5 min, with equal jitter
/// (half fixed, half spread), so a fleet that failed together does not retry together.
pub fn backoff_ms(failures: u32, seed: &str) -> i64 {
    let exp = failures.saturating_sub(1).min(20);
    let base = (BACKOFF_FIRST_MS << exp).min(BACKOFF_CAP_MS);
    base / 2 + jitter(&format!("{seed}/{failures}"), base / 2 + 1)
}

/// Whether a registry has gone unused long enough to stop renewing it.
pub fn forgotten(last_used_ms: i64, now: i64, forget_after: Duration) -> bool {
    now.saturating_sub(last_used_ms) > forget_after.as_millis() as i64
}

/// When to wake next: the earliest due time, but never more than a minute away, and
/// never in the past.
pub fn next_wake(now: i64, dues: impl IntoIterator<Item = i64>) -> i64 {
    dues.into_iter().fold(now + MAX_SLEEP_MS, i64::min).max(now)
}

/// Environment as `get` saw it when it fetched an entry: the daemon's own, with
/// `AWS_PROFILE` as recorded in the entry.
struct EntryEnv<'a> {
    profile: Option<&'a str>,
}

impl Env for EntryEnv<'_> {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "AWS_PROFILE" => self.profile.map(str::to_string),
            "AWS_DEFAULT_PROFILE" => None,
            _ => ProcessEnv.var(name),
        }
    }
}

/// A registry to keep warm, as `get` would resolve it, with its current entry.
#[derive(Debug, Clone)]
pub struct Warm {
    pub target: Target,
    pub entry: Option<Entry>,
}

/// Everything to keep warm: the config's `keep_warm` plus every fetched entry `get` used
/// within `forget_after`, re-resolved as `get` would now. Entries whose identity the
/// daemon cannot reproduce (environment keys it does not have, a changed config) are
/// left to expire.
pub fn warm_set(config: &Config, cache: &Cache, now: i64) -> Vec<Warm> {
    let mut warm: HashMap<String, Warm> = HashMap::new();
    for host in &config.daemon.keep_warm {
        match Target::resolve(host, config, &ProcessEnv) {
            Ok(target) => {
                let entry = cache.read(&target.key()).ok().flatten();
                warm.insert(target.key(), Warm { target, entry });
            }
            Err(e) => tracing::warn!("daemon.keep_warm: {host}: {e}"),
        }
    }
    let (entries, problems) = cache.entries();
    for p in problems {
        tracing::debug!("{p}");
    }
    for entry in entries {
        if entry.source != Source::Fetched || warm.contains_key(&entry.key()) {
            continue;
        }
        let used = cache
            .last_used(&entry.key())
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(entry.fetched_at_ms, |d| d.as_millis() as i64);
        if forgotten(used, now, config.daemon.forget_after) {
            continue;
        }
        let env = EntryEnv {
            profile: entry.env_profile.as_deref(),
        };
        match Target::resolve(&entry.server, config, &env) {
            Ok(target) if target.key() == entry.key() => {
                warm.insert(
                    entry.key(),
                    Warm {
                        target,
                        entry: Some(entry),
                    },
                );
            }
            _ => tracing::debug!(
                "not renewing {} for {}: the daemon cannot act as that identity",
                entry.registry,
                entry.identity
            ),
        }
    }
    let mut list: Vec<Warm> = warm.into_values().collect();
    list.sort_by(|a, b| a.target.registry.host().cmp(b.target.registry.host()));
    list
}

/// What `status` shows about a running daemon.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub pid: u32,
    pub started_at_ms: i64,
    pub last_renewal_ms: Option<i64>,
    pub warm: usize,
    pub next_renewal_ms: Option<i64>,
    pub failing: Vec<String>,
}

impl State {
    pub fn read(cache_dir: &Path) -> Option<State> {
        let text = std::fs::read(cache_dir.join(STATE_FILE)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    fn write(&self, cache_dir: &Path) {
        let path = cache_dir.join(STATE_FILE);
        let tmp = cache_dir.join(format!(".tmp-daemon-{}", std::process::id()));
        let body = serde_json::to_vec_pretty(self).unwrap_or_default();
        if let Err(e) = std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, &path)) {
            tracing::debug!("cannot write {}: {e}", path.display());
        }
    }
}

/// Whether a daemon holds the lock for this cache dir.
pub fn is_running(cache_dir: &Path) -> bool {
    lock::is_held(&cache_dir.join(LOCK_FILE))
}

/// Takes the one-daemon-per-cache-dir lock, or says who has it.
pub fn claim(cache_dir: &Path) -> Result<LockGuard, Error> {
    match lock::try_exclusive(&cache_dir.join(LOCK_FILE)).map_err(Error::Other)? {
        Some(guard) => Ok(guard),
        None => {
            let pid = State::read(cache_dir).map_or_else(|| "?".into(), |s| s.pid.to_string());
            Err(Error::Other(format!(
                "another daemon (pid {pid}) is already renewing tokens for {}; stop it first (systemctl --user stop docker-credential-ecr-login)",
                cache_dir.display()
            )))
        }
    }
}

#[derive(Debug, Default)]
struct Failure {
    failures: u32,
    retry_at: i64,
    message: String,
}

/// The renewal loop. Returns when `shutdown` completes; `reload` yields on each request to
/// re-read the config (SIGHUP in production).
pub async fn run<R, S>(
    config_path: Option<PathBuf>,
    mut config: Config,
    cache: Cache,
    shutdown: S,
    mut reload: R,
) -> Result<(), Error>
where
    S: Future<Output = ()>,
    R: FnMut() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
{
    let _claim = claim(cache.dir())?;
    let notifier = Notifier::from_env();
    let mut state = State {
        pid: std::process::id(),
        started_at_ms: policy::now_ms(),
        ..State::default()
    };
    let mut failures: HashMap<String, Failure> = HashMap::new();
    let mut first = true;
    tracing::info!("renewing ECR tokens in {}", cache.dir().display());
    tokio::pin!(shutdown);
    loop {
        // A scan may be mid-request when SIGTERM comes: abandon it, its lock dies with us.
        let changed = tokio::select! {
            () = &mut shutdown => {
                notifier.stopping();
                tracing::info!("stopping");
                return Ok(());
            }
            renewed = scan(&config, &cache, &mut failures, &mut state) => renewed || first,
        };

        let now = policy::now_ms();
        let fresh = warm_set(&config, &cache, now);
        let dues: Vec<i64> = fresh
            .iter()
            .map(|w| {
                let due = due_at(w.entry.as_ref(), config.daemon.renew_after, now);
                failures
                    .get(&w.target.key())
                    .map_or(due, |f| due.max(f.retry_at))
            })
            .collect();
        let wake = next_wake(now, dues.iter().copied());
        let summary = summary(fresh.len(), dues.iter().copied().min(), failures.len(), now);
        state.warm = fresh.len();
        state.next_renewal_ms = dues.iter().copied().min();
        state.failing = failures
            .keys()
            .filter_map(|k| fresh.iter().find(|w| &w.target.key() == k))
            .map(|w| w.target.registry.host().to_string())
            .collect();
        if changed {
            state.write(cache.dir());
            notifier.status(&summary);
        }
        if first {
            notifier.ready(&summary);
            tracing::info!("{summary}");
            first = false;
        }
        notifier.watchdog();

        let mut sleep_ms = (wake - now).max(0) as u64;
        if let Some(w) = notifier.watchdog_interval {
            sleep_ms = sleep_ms.min(w.as_millis() as u64);
        }
        tokio::select! {
            () = &mut shutdown => {
                notifier.stopping();
                tracing::info!("stopping");
                return Ok(());
            }
            () = reload() => {
                match Config::load_from(config_path.as_deref()) {
                    Ok(c) => {
                        tracing::info!("configuration reloaded");
                        config = c;
                    }
                    Err(e) => tracing::warn!("{e}; keeping the previous configuration"),
                }
            }
            () = tokio::time::sleep(Duration::from_millis(sleep_ms)) => {}
        }
    }
}

/// Renews whatever is due. Returns whether anything was attempted.
async fn scan(
    config: &Config,
    cache: &Cache,
    failures: &mut HashMap<String, Failure>,
    state: &mut State,
) -> bool {
    let now = policy::now_ms();
    cache.sweep_temp_files(SystemTime::now());
    let warm = warm_set(config, cache, now);
    let mut changed = false;
    for w in &warm {
        let key = w.target.key();
        let due = due_at(w.entry.as_ref(), config.daemon.renew_after, now);
        let retry_at = failures.get(&key).map_or(i64::MIN, |f| f.retry_at);
        if now < due || now < retry_at {
            continue;
        }
        changed = true;
        let outcome = renew(w.target.clone(), config.clone(), cache.clone(), now).await;
        let registry = w.target.registry.host().to_string();
        match outcome {
            Ok(entry) => {
                if let Some(f) = failures.remove(&key) {
                    tracing::info!(
                        "renewed {registry} again after {} failed attempts",
                        f.failures
                    );
                } else {
                    tracing::info!(
                        "renewed {registry} for {}; valid {}",
                        entry.identity,
                        crate::status::human_duration(entry.expires_at_ms.saturating_sub(now))
                    );
                }
                state.last_renewal_ms = Some(now);
            }
            Err(e) => {
                let f = failures.entry(key.clone()).or_default();
                f.failures += 1;
                f.retry_at = policy::now_ms() + backoff_ms(f.failures, &key);
                let message = e.to_string();
                // Log once per state change, not on every retry.
                if message != f.message {
                    tracing::warn!("{message}; retrying with backoff");
                    f.message = message;
                } else {
                    tracing::debug!("still failing: {message}");
                }
            }
        }
    }
    // Forget failures of registries that are no longer warm.
    failures.retain(|k, _| warm.iter().any(|w| &w.target.key() == k));
    changed
}

/// Renews one registry on a blocking thread, through the shared fetch path.
async fn renew(target: Target, config: Config, cache: Cache, now: i64) -> Result<Entry, Error> {
    tokio::task::spawn_blocking(move || {
        let ctx = Context {
            config: &config,
            cache: Some(&cache),
        };
        let renew_after = config.daemon.renew_after;
        resolve::obtain(&target, &ctx, now, &|e| {
            now < due_at(Some(e), renew_after, now)
        })
    })
    .await
    .map_err(|e| Error::Other(format!("renewal task failed: {e}")))?
}

fn summary(warm: usize, next: Option<i64>, failing: usize, now: i64) -> String {
    let mut s = format!("{warm} registr{} warm", if warm == 1 { "y" } else { "ies" });
    if let Some(next) = next {
        s.push_str(&format!(
            ", next renewal in {}",
            crate::status::human_duration(next.saturating_sub(now).max(0))
        ));
    }
    if failing > 0 {
        s.push_str(&format!(", {failing} failing"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn entry(issued: i64, expires: i64) -> Entry {
        Entry::sample(Source::Fetched, issued, expires)
    }

    #[test]
    fn renewal_is_due_at_40_percent_plus_bounded_jitter() {
        let e = entry(0, 12 * H);
        let due = due_at(Some(&e), 0.4, 0);
        let base = 12 * H * 4 / 10;
        assert!(due >= base && due < base + 10 * 60_000, "due {due}");
        // Before the serving threshold, so `get` never sees a stale entry.
        assert!(due < policy::serve_until(&e, crate::config::MinRemaining::Fraction(0.5)));
        // Missing entries are due now.
        assert_eq!(due_at(None, 0.4, 77), 77);
    }

    #[test]
    fn jitter_is_bounded_and_spread() {
        let values: Vec<i64> = (0..200).map(|i| jitter(&format!("k{i}"), 1000)).collect();
        assert!(values.iter().all(|v| (0..1000).contains(v)));
        let distinct: std::collections::HashSet<_> = values.iter().collect();
        assert!(
            distinct.len() > 150,
            "jitter is not spread: {}",
            distinct.len()
        );
        assert_eq!(jitter("k", 0), 0);
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let delays: Vec<i64> = (1..=12).map(|n| backoff_ms(n, "k")).collect();
        for (i, d) in delays.iter().enumerate() {
            let base = (1000i64 << i).min(300_000);
            assert!(
                *d >= base / 2 && *d <= base,
                "retry {}: {d} not in [{}, {base}]",
                i + 1,
                base / 2
            );
        }
        assert!(delays[11] <= 300_000);
        assert!(backoff_ms(u32::MAX, "k") <= 300_000);
    }

    #[test]
    fn wakes_at_least_once_a_minute_and_never_in_the_past() {
        assert_eq!(next_wake(1000, []), 1000 + MAX_SLEEP_MS);
        assert_eq!(next_wake(1000, [5000, 3000]), 3000);
        assert_eq!(next_wake(1000, [500]), 1000);
        assert_eq!(next_wake(1000, [10 * H]), 1000 + MAX_SLEEP_MS);
    }

    /// A laptop asleep past the renewal time: the first wake after resume finds it due.
    #[test]
    fn a_wall_clock_jump_makes_renewal_due_at_once() {
        let e = entry(0, 12 * H);
        let due = due_at(Some(&e), 0.4, 0);
        let before_sleep = H;
        assert!(before_sleep < due);
        let after_resume = 8 * H;
        assert!(after_resume >= due);
        assert_eq!(next_wake(after_resume, [due]), after_resume);
    }

    #[test]
    fn idle_registries_are_forgotten() {
        let week = Duration::from_secs(7 * 86400);
        assert!(!forgotten(0, 7 * 24 * H, week));
        assert!(forgotten(0, 7 * 24 * H + 1, week));
    }
}
