//! The background refresher: keeps every registry the user works with warm, so `get`
//! always hits a fresh entry and a push never waits for, or fails on, a token.
//!
//! It renews through the same path as `get` (`resolve::obtain`: per-entry lock, re-check,
//! atomic write), so a racing `get` never sees a partial entry and never makes a second
//! API call. The clock, the environment and the fetcher are parameters ([`Deps`]), and
//! the schedule is pure functions of `now` ([`schedule`]), so the loop is tested under
//! tokio's paused time with a fake fetcher. It wakes at least once a minute and decides
//! from the wall clock, so a laptop that slept through a renewal renews right after waking.

pub(crate) mod desktop;
pub(crate) mod notify;
pub(crate) mod schedule;
pub mod signals;
pub(crate) mod state;
pub(crate) mod warm;
pub(crate) mod watch;

use crate::error::CommandError;
use ecr_login_core::cache::{Cache, Entry};
use ecr_login_core::clock::Clock;
use ecr_login_core::config::Config;
use ecr_login_core::duration;
use ecr_login_core::env::Env;
use ecr_login_core::error::Error;
use ecr_login_core::fetch::{FetchError, Fetcher};
use ecr_login_core::policy::due_at;
use ecr_login_core::resolve::{self, Context, Target, Write};
use notify::Notifier;
use schedule::{backoff_ms, next_wake};
use state::State;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use warm::{Warm, warm_set};

/// What the daemon runs with: the system clock, the process environment and the AWS
/// fetcher in production; a clock that follows tokio's paused time and a fake fetcher in
/// tests.
#[derive(Clone)]
pub struct Deps {
    pub clock: Arc<dyn Clock>,
    pub env: Arc<dyn Env>,
    pub fetcher: Arc<dyn Fetcher>,
}

pub use signals::Reload;
use watch::stamp;

#[derive(Debug, Default)]
struct Failure {
    failures: u32,
    retry_at: i64,
    /// The last error's kind: a failure is logged when its kind changes, not on every
    /// retry (a clock-skew figure or a request id changes each time).
    kind: String,
}

/// The renewal loop. Returns when `shutdown` completes.
pub async fn run<S>(
    deps: Deps,
    config_path: Option<PathBuf>,
    config: Config,
    cache: Cache,
    shutdown: S,
    mut reload: Reload,
) -> Result<(), Error>
where
    S: Future<Output = ()>,
{
    let _claim = state::claim(cache.dir())?;
    // Shared with every renewal and look in flight, replaced whole on a reload.
    let mut config = Arc::new(config);
    let notifier = Notifier::from_env(deps.env.as_ref());
    let mut state = State {
        pid: std::process::id(),
        started_at_ms: deps.clock.now_ms(),
        ..State::default()
    };
    let mut failures: HashMap<String, Failure> = HashMap::new();
    let mut first = true;
    // The config file as last read: a change is reloaded at the next wake (Windows has no
    // SIGHUP; elsewhere it saves one).
    let mut config_seen = stamp(config_path.as_deref());
    // Docker's config, as `configure --store` set it up: kept pointing at us.
    let mut desktop = desktop::Watch::default();
    let mut docker_watch = watch::FileWatch::new(config.store.docker_config.as_deref());
    tracing::info!("renewing ECR tokens in {}", cache.dir().display());
    tokio::pin!(shutdown);
    loop {
        // A scan may be mid-request when SIGTERM comes: abandon it, its lock dies with us.
        let (changed, fresh) = tokio::select! {
            () = &mut shutdown => {
                notifier.stopping();
                tracing::info!("stopping");
                return Ok(());
            }
            scanned = scan(&deps, &config, &cache, &mut failures, &mut state) => scanned,
        };
        let now = deps.clock.now_ms();
        // As clients name them (an alias as host:port): what credHelpers must hold.
        let mut in_use: Vec<String> = fresh
            .iter()
            .map(|w| w.target.authority.to_string())
            .collect();
        in_use.sort();
        in_use.dedup();
        // Off the loop, under a deadline: SIGTERM and renewals never wait on a file.
        let repaired = tokio::select! {
            () = &mut shutdown => {
                notifier.stopping();
                tracing::info!("stopping");
                return Ok(());
            }
            repaired = look_at_docker_config(&mut desktop, &config, &in_use, now) => repaired,
        };
        if repaired {
            state.store = desktop.report.clone();
        }
        let changed = changed || first || repaired;

        let dues: Vec<i64> = fresh
            .iter()
            .map(|w| {
                let due = due_at(w.entry.as_ref(), config.daemon.renew_after, now);
                failures.get(&w.key).map_or(due, |f| due.max(f.retry_at))
            })
            .collect();
        let wake = next_wake(now, dues.iter().copied());
        let summary = summary(fresh.len(), dues.iter().copied().min(), failures.len(), now);
        state.warm = fresh.len();
        state.next_renewal_ms = dues.iter().copied().min();
        state.failing = failures
            .keys()
            .filter_map(|k| fresh.iter().find(|w| &w.key == k))
            .map(|w| w.target.registry.host().to_string())
            .collect();
        if changed {
            if let Err(e) = state.write(cache.dir()) {
                tracing::debug!("{e}");
            }
            notifier.status(&summary);
        }
        if first {
            notifier.ready(&summary);
            tracing::info!("{summary}");
            first = false;
        }
        notifier.watchdog();

        let wake = desktop.next_look().map_or(wake, |look| wake.min(look));
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
                config_seen = stamp(config_path.as_deref());
                reload_config(&mut config, config_path.as_deref());
                docker_watch = watch::FileWatch::new(config.store.docker_config.as_deref());
            }
            () = docker_watch.changed() => {}
            () = tokio::time::sleep(Duration::from_millis(sleep_ms)) => {
                let now_seen = stamp(config_path.as_deref());
                if now_seen != config_seen {
                    config_seen = now_seen;
                    reload_config(&mut config, config_path.as_deref());
                    docker_watch = watch::FileWatch::new(config.store.docker_config.as_deref());
                }
            }
        }
    }
}

/// The longest a look at Docker's config may take (a hung network filesystem) before the
/// loop goes on without it.
const DESKTOP_DEADLINE: Duration = Duration::from_secs(10);

/// Runs the Docker Desktop watch's check on a blocking thread, bounded by
/// [`DESKTOP_DEADLINE`]; whether it changed anything for `status`.
async fn look_at_docker_config(
    watch: &mut desktop::Watch,
    config: &Arc<Config>,
    in_use: &[String],
    now: i64,
) -> bool {
    use std::sync::atomic::{AtomicBool, Ordering};
    // One look at a time: one stuck on a hung filesystem is never joined by more.
    static LOOKING: AtomicBool = AtomicBool::new(false);
    if config.store.docker_config.is_none() || LOOKING.swap(true, Ordering::AcqRel) {
        return false;
    }
    let mut moved = std::mem::take(watch);
    let (config, in_use) = (Arc::clone(config), in_use.to_vec());
    let task = tokio::task::spawn_blocking(move || {
        let repaired = moved.check(&config, &in_use, now);
        LOOKING.store(false, Ordering::Release);
        (moved, repaired)
    });
    match tokio::time::timeout(DESKTOP_DEADLINE, task).await {
        Ok(Ok((back, repaired))) => {
            *watch = back;
            repaired
        }
        Ok(Err(e)) => {
            tracing::warn!("the Docker config check failed: {e}");
            false
        }
        Err(_) => {
            tracing::warn!(
                "looking at Docker's config took over {} s (a hung network filesystem?); renewals go on without it",
                DESKTOP_DEADLINE.as_secs()
            );
            false
        }
    }
}

fn reload_config(config: &mut Arc<Config>, path: Option<&std::path::Path>) {
    match Config::load_from(path) {
        Ok(c) => {
            tracing::info!("configuration reloaded");
            *config = Arc::new(c);
        }
        Err(e) => tracing::warn!("{e}; keeping the previous configuration"),
    }
}

/// Renews whatever is due. Returns whether anything was attempted, and what is warm now
/// (renewed entries in place of the ones they replaced).
async fn scan(
    deps: &Deps,
    config: &Arc<Config>,
    cache: &Cache,
    failures: &mut HashMap<String, Failure>,
    state: &mut State,
) -> (bool, Vec<Warm>) {
    let now = deps.clock.now_ms();
    // Recreates a deleted cache directory when it can; when it cannot (a file in its
    // place, a read-only or full disk), every renewal fails without calling AWS, and backs
    // off: a token that cannot be kept is not worth a request.
    let usable = Cache::open(cache.dir()).map(|_| ());
    if usable.is_ok() {
        cache.sweep(
            ecr_login_core::clock::system_time(now),
            config.daemon.forget_after,
        );
    }
    let mut warm = warm_set(config, cache, deps.env.as_ref(), now);
    let mut changed = false;
    for w in &mut warm {
        let key = w.key.clone();
        let due = due_at(w.entry.as_ref(), config.daemon.renew_after, now);
        let retry_at = failures.get(&key).map_or(i64::MIN, |f| f.retry_at);
        if now < due || now < retry_at {
            continue;
        }
        changed = true;
        let outcome = match &usable {
            Ok(()) => {
                renew(
                    deps,
                    w.target.clone(),
                    Arc::clone(config),
                    cache.clone(),
                    now,
                )
                .await
            }
            Err(e) => Err(CommandError::cache_unusable(e).into()),
        };
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
                        entry.signer,
                        duration::human(entry.expires_at_ms.saturating_sub(now))
                    );
                }
                state.last_renewal_ms = Some(now);
                w.entry = Some(entry);
            }
            Err(e) => record_failure(failures, &key, e, deps.clock.now_ms()),
        }
    }
    // Forget failures of registries that are no longer warm.
    failures.retain(|k, _| warm.iter().any(|w| &w.key == k));
    (changed, warm)
}

fn record_failure(failures: &mut HashMap<String, Failure>, key: &str, e: Error, now: i64) {
    let error = match &e {
        Error::Fetch { error, .. } => error.clone(),
        other => FetchError::Other {
            detail: other.to_string(),
        },
    };
    let message = e.to_string();
    let f = failures.entry(key.to_string()).or_default();
    f.failures += 1;
    f.retry_at = now.saturating_add(backoff_ms(f.failures, &error, key));
    if f.kind != error.kind() {
        tracing::warn!("{message}; retrying with backoff");
        f.kind = error.kind();
    } else {
        tracing::debug!("still failing: {message}");
    }
}

/// Renews one registry on a blocking thread, through the shared fetch path.
async fn renew(
    deps: &Deps,
    target: Target,
    config: Arc<Config>,
    cache: Cache,
    now: i64,
) -> Result<Entry, Error> {
    let fetcher = Arc::clone(&deps.fetcher);
    let env = Arc::clone(&deps.env);
    tokio::task::spawn_blocking(move || {
        let ctx = Context::new(&config, Some(&cache), env.as_ref());
        let renew_after = config.daemon.renew_after;
        resolve::obtain(
            &target,
            &ctx,
            fetcher.as_ref(),
            now,
            &|e| now < due_at(Some(e), renew_after, now),
            Write::Required,
        )
    })
    .await
    .map_err(CommandError::RenewalTask)?
    .map_err(Error::from)
}

fn summary(warm: usize, next: Option<i64>, failing: usize, now: i64) -> String {
    let mut s = format!("{warm} registr{} warm", if warm == 1 { "y" } else { "ies" });
    if let Some(next) = next {
        s.push_str(&format!(
            ", next renewal in {}",
            duration::human(next.saturating_sub(now).max(0))
        ));
    }
    if failing > 0 {
        s.push_str(&format!(", {failing} failing"));
    }
    s
}
