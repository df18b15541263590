//! The renewal daemon's loop under tokio's paused time, with a fake fetcher and a clock
//! that follows the paused time (and can jump, like a laptop waking from sleep): hours of
//! schedule, backoff and outage in milliseconds of real time. The real-process contract
//! (READY, SIGTERM, SIGHUP, one daemon per cache dir) is in `daemon.rs`.

use ecr_login::renew::{self, Deps, Reload};
use ecr_login_core::cache::Cache;
use ecr_login_core::clock::Clock;
use ecr_login_core::config::Config;
use ecr_login_core::env::MapEnv;
use ecr_login_core::fetch::{FetchError, FetchRequest, Fetched, Fetcher};
use ecr_login_core::policy;
use ecr_login_core::resolve::{Context, Route, Target};
use ecr_login_core::secret::Secret;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const S: i64 = 1000;
const H: i64 = 3600 * S;

/// Wall-clock time that moves with tokio's (paused) clock, plus jumps.
struct PausedClock {
    wall_start: i64,
    start: tokio::time::Instant,
    jump: AtomicI64,
}

impl PausedClock {
    fn new() -> Arc<PausedClock> {
        Arc::new(PausedClock {
            wall_start: 1_800_000_000_000,
            start: tokio::time::Instant::now(),
            jump: AtomicI64::new(0),
        })
    }

    /// Milliseconds since the daemon started, by the wall clock.
    fn elapsed(&self) -> i64 {
        self.now_ms() - self.wall_start
    }

    /// The wall clock leaps ahead while tokio's clock does not: a suspended laptop.
    fn suspend(&self, ms: i64) {
        self.jump.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for PausedClock {
    fn now_ms(&self) -> i64 {
        self.wall_start + self.start.elapsed().as_millis() as i64 + self.jump.load(Ordering::SeqCst)
    }
}

/// Answers with tokens of a fixed lifetime, or with the error `outcome` returns for the
/// call's time (elapsed ms); records when each call came.
struct FakeFetcher {
    clock: Arc<PausedClock>,
    lifetime_ms: i64,
    outcome: Box<dyn Fn(i64) -> Option<FetchError> + Send + Sync>,
    calls: Mutex<Vec<(i64, bool)>>,
}

impl FakeFetcher {
    fn new(clock: &Arc<PausedClock>, lifetime_ms: i64) -> FakeFetcher {
        FakeFetcher {
            clock: Arc::clone(clock),
            lifetime_ms,
            outcome: Box::new(|_| None),
            calls: Mutex::new(Vec::new()),
        }
    }

    fn failing(
        mut self,
        outcome: impl Fn(i64) -> Option<FetchError> + Send + Sync + 'static,
    ) -> Self {
        self.outcome = Box::new(outcome);
        self
    }

    /// (elapsed ms, succeeded) of every call.
    fn calls(&self) -> Vec<(i64, bool)> {
        self.calls.lock().unwrap().clone()
    }

    fn times(&self) -> Vec<i64> {
        self.calls().into_iter().map(|(t, _)| t).collect()
    }
}

impl Fetcher for FakeFetcher {
    fn fetch(&self, _: &FetchRequest) -> Result<Fetched, FetchError> {
        let now = self.clock.now_ms();
        let at = now - self.clock.wall_start;
        let error = (self.outcome)(at);
        self.calls.lock().unwrap().push((at, error.is_none()));
        match error {
            Some(e) => Err(e),
            None => Ok(Fetched {
                username: "AWS".into(),
                secret: Secret::new(format!("pw-{at}")),
                token_expires_at_ms: now + self.lifetime_ms,
                credentials_expire_at_ms: None,
                proxy_endpoint: None,
                signer: None,
                requires: Vec::new(),
            }),
        }
    }
}

struct World {
    _dir: tempfile::TempDir,
    cache: Cache,
    clock: Arc<PausedClock>,
    fetcher: Arc<FakeFetcher>,
    config: Config,
}

impl World {
    fn new(config: &str, fetcher: impl FnOnce(&Arc<PausedClock>) -> FakeFetcher) -> World {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("cache")).unwrap();
        let config = Config::parse(config, Path::new("config.toml")).unwrap();
        let clock = PausedClock::new();
        let fetcher = Arc::new(fetcher(&clock));
        World {
            _dir: dir,
            cache,
            clock,
            fetcher,
            config,
        }
    }

    /// Runs the daemon until `stop` completes.
    async fn run_until(&self, stop: impl Future<Output = ()>) {
        self.run_with(None, stop).await;
    }

    /// Runs the daemon, with its config read from `config_path`, until `stop` completes.
    async fn run_with(
        &self,
        config_path: Option<std::path::PathBuf>,
        stop: impl Future<Output = ()>,
    ) {
        let deps = Deps {
            clock: self.clock.clone(),
            env: Arc::new(MapEnv::default()),
            fetcher: self.fetcher.clone(),
        };
        let never: Reload = Box::new(|| {
            Box::pin(std::future::pending()) as Pin<Box<dyn Future<Output = ()> + Send>>
        });
        let config = match &config_path {
            Some(path) => Config::load_from(Some(path)).unwrap(),
            None => self.config.clone(),
        };
        renew::run(deps, config_path, config, self.cache.clone(), stop, never)
            .await
            .unwrap();
    }

    async fn run_for(&self, virtual_time: Duration) {
        self.run_until(tokio::time::sleep(virtual_time)).await;
    }

    fn target(&self) -> Target {
        Route::of(REGISTRY, &self.config)
            .map(|r| r.target(&MapEnv::default(), self.cache.key()))
            .unwrap()
    }

    /// The registry's entry as `get` would find it now, if it would serve it.
    fn servable_now(&self) -> Option<String> {
        let entry = self.cache.read(&self.target().key()).unwrap()?;
        policy::servable(&entry, self.clock.now_ms(), self.config.cache.min_remaining)
            .then(|| entry.secret.expose().to_string())
    }
}

fn keep_warm(extra: &str) -> String {
    format!("[daemon]\nkeep_warm = [\"{REGISTRY}\"]\n{extra}")
}

fn gaps(times: &[i64]) -> Vec<i64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// While the daemon runs, a token is renewed at 30% of its life (plus at most 5% jitter),
/// so `get` always finds one with more than half its life left, across many lifetimes.
/// (Ten-minute tokens: the daemon never renews one entry twice within a minute.)
#[tokio::test(start_paused = true)]
async fn renews_at_the_configured_point_of_every_lifetime() {
    const M: i64 = 60 * S;
    let w = World::new(&keep_warm("renew_after = 0.3\n"), |c| {
        FakeFetcher::new(c, 10 * M)
    });
    let probe = async {
        // Every virtual 15 s for 100 min, `get` finds a servable token.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..400 {
            assert!(
                w.servable_now().is_some(),
                "no servable token at {}",
                w.clock.elapsed()
            );
            tokio::time::sleep(Duration::from_secs(15)).await;
        }
    };
    w.run_until(probe).await;
    let times = w.fetcher.times();
    assert_eq!(times[0], 0, "the first scan warms the registry");
    for gap in gaps(&times) {
        assert!(
            (3 * M..=3 * M + 30 * S).contains(&gap),
            "renewal gap {gap} ms: {times:?}"
        );
    }
    assert!(
        (28..=34).contains(&times.len()),
        "{} renewals in 100 min",
        times.len()
    );
}

/// During an outage the daemon retries with growing gaps (1 s doubling, jittered), keeps the
/// still-valid token in place for `get`, and renews as soon as ECR answers again.
#[tokio::test(start_paused = true)]
async fn an_outage_backs_off_keeps_the_valid_token_and_recovers() {
    // Due at 2 min (10% of 20 min) plus jitter; ECR fails from 1 min on, for five attempts.
    let failed_so_far = Arc::new(AtomicI64::new(0));
    let counter = Arc::clone(&failed_so_far);
    let w = World::new(&keep_warm("renew_after = 0.1\n"), |c| {
        FakeFetcher::new(c, 20 * 60 * S).failing(move |at| {
            (at >= 60 * S && counter.fetch_add(1, Ordering::SeqCst) < 5).then(|| {
                FetchError::ServerError {
                    detail: "Internal service error".into(),
                }
            })
        })
    });
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    w.run_until(async {
        // Once the outage has begun, `get` still gets the first token.
        while failed_so_far.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(w.servable_now().as_deref(), Some("pw-0"));
        tokio::time::sleep(Duration::from_secs(70)).await;
    })
    .await;
    let calls = w.fetcher.calls();
    let failed: Vec<i64> = calls.iter().filter(|c| !c.1).map(|c| c.0).collect();
    // Five attempts, each gap at least half the doubling step (1, 2, 4, 8 s).
    assert_eq!(failed.len(), 5, "{calls:?}");
    for (i, gap) in gaps(&failed).iter().enumerate() {
        let step = S << i;
        assert!(
            *gap >= step / 2 && *gap <= step + 100,
            "gap {i}: {gap} ms in {calls:?}"
        );
    }
    let last_failure = *failed.last().unwrap();
    let recovered = calls
        .iter()
        .find(|c| c.1 && c.0 > 0)
        .expect("renewed after the outage");
    assert!(
        recovered.0 > last_failure && recovered.0 <= last_failure + 17 * S,
        "{calls:?}"
    );
    assert!(w.servable_now().is_some());
    // Logged once when it started failing and once when it recovered, not per retry.
    let text = logs.text();
    assert_eq!(text.matches("internal error").count(), 1, "{text}");
    assert_eq!(text.matches("again after").count(), 1, "{text}");
}

/// Issue 22: a fetcher whose tokens have already expired by our clock (a clock 12 h
/// ahead, a test double answering 2015) made the daemon renew in a tight loop: 637 calls
/// in 5 s. Now that is a failure that backs off, logged once.
#[tokio::test(start_paused = true)]
async fn expired_tokens_back_off_instead_of_spinning() {
    let w = World::new(&keep_warm(""), |c| FakeFetcher::new(c, -13 * H));
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    w.run_for(Duration::from_secs(3600)).await;
    let calls = w.fetcher.times().len();
    // 1 s doubling to a 5 min cap: about 20 attempts in an hour, never hundreds.
    assert!((5..=25).contains(&calls), "{calls} calls in an hour");
    assert!(w.servable_now().is_none(), "an expired token was cached");
    let text = logs.text();
    assert_eq!(text.matches("clock is probably wrong").count(), 1, "{text}");
}

/// Issue 22: credentials that expire seconds after they are issued (a credential_process
/// near its expiry) give tokens that live seconds; the daemon still renews each entry at
/// most once a minute.
#[tokio::test(start_paused = true)]
async fn short_lived_tokens_are_renewed_at_most_once_a_minute() {
    let w = World::new(&keep_warm(""), |c| FakeFetcher::new(c, 2 * S));
    w.run_for(Duration::from_secs(3600)).await;
    let times = w.fetcher.times();
    assert!(
        (55..=61).contains(&times.len()),
        "{} calls in an hour",
        times.len()
    );
    for gap in gaps(&times) {
        assert!(gap >= 60 * S, "renewals {gap} ms apart: {times:?}");
    }
}

/// The daemon's log lines, for asserting what it says and how often.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let sink = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Throttling means the account's quota is spent: the daemon waits at least 30 s between
/// attempts (other failures start at 1 s).
#[tokio::test(start_paused = true)]
async fn throttling_backs_off_at_least_30_seconds() {
    let w = World::new(&keep_warm(""), |c| {
        FakeFetcher::new(c, 12 * H).failing(|_| {
            Some(FetchError::Throttled {
                detail: "Rate exceeded".into(),
            })
        })
    });
    w.run_for(Duration::from_secs(600)).await;
    let times = w.fetcher.times();
    assert!(times.len() >= 4, "{times:?}");
    for gap in gaps(&times) {
        assert!(
            gap >= 30 * S,
            "retried after {gap} ms while throttled: {times:?}"
        );
    }
    assert!(times.len() <= 1 + 600 / 30, "{times:?}");

    // The same outage as a server error retries within seconds.
    let w = World::new(&keep_warm(""), |c| {
        FakeFetcher::new(c, 12 * H)
            .failing(|_| Some(FetchError::ServerError { detail: "x".into() }))
    });
    w.run_for(Duration::from_secs(600)).await;
    let times = w.fetcher.times();
    assert!(gaps(&times)[0] <= S, "{times:?}");
}

/// A laptop asleep past the renewal time renews within a minute of waking: the daemon
/// sleeps at most a minute at a time and decides by the wall clock.
#[tokio::test(start_paused = true)]
async fn renews_right_after_a_suspend_past_the_renewal_time() {
    let w = World::new(&keep_warm(""), |c| FakeFetcher::new(c, 12 * H));
    w.run_until(async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(w.fetcher.times().len(), 1, "nothing due in the first hour");
        // Asleep for 8 h: renewal was due at 4.8 h.
        w.clock.suspend(8 * H);
        tokio::time::sleep(Duration::from_secs(61)).await;
    })
    .await;
    let times = w.fetcher.times();
    assert_eq!(times.len(), 2, "{times:?}");
    assert!(
        (9 * H..=9 * H + 60 * S).contains(&times[1]),
        "renewed {} ms after waking",
        times[1] - 9 * H
    );
}

/// Registries `get` used are kept warm without being listed; ones unused for longer than
/// `forget_after` are left to expire.
#[tokio::test(start_paused = true)]
async fn used_registries_are_kept_warm_and_idle_ones_forgotten() {
    let w = World::new(
        "[daemon]\nrenew_after = 0.5\nforget_after = \"90m\"\n",
        |c| FakeFetcher::new(c, 2 * H),
    );
    // As if `get` had fetched it a moment ago: the same call.
    let target = w.target();
    let now = w.clock.now_ms();
    let env = MapEnv::default();
    let ctx = Context::new(&w.config, Some(&w.cache), &env);
    ecr_login_core::resolve::serve(&target, &ctx, w.fetcher.as_ref(), now).unwrap();
    w.run_for(Duration::from_secs(4 * 3600)).await;
    let times = w.fetcher.times();
    // Renewed at 1 h (half of 2 h), then not again: by 2 h it had gone unused for 90 min.
    assert_eq!(times.len(), 2, "{times:?}");
    assert!((H..=H + 6 * 60 * S).contains(&times[1]), "{times:?}");
}

/// Issue 13: with its cache directory gone for a minute (a file in its place, so it cannot
/// be recreated), the daemon makes no call for a token it could not keep, says so once,
/// and renews as soon as the directory can be made again.
#[tokio::test(start_paused = true)]
async fn an_unusable_cache_dir_costs_no_calls_for_a_minute() {
    let w = World::new(&keep_warm(""), |c| FakeFetcher::new(c, 12 * H));
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let dir = w.cache.dir().to_path_buf();
    w.run_until(async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::write(&dir, "in the way").unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            w.fetcher.times().len(),
            1,
            "called for a token it could not keep"
        );
        std::fs::remove_file(&dir).unwrap();
        tokio::time::sleep(Duration::from_secs(120)).await;
    })
    .await;
    assert_eq!(
        w.fetcher.times().len(),
        2,
        "renewed once the directory came back"
    );
    assert!(dir.is_dir());
    let text = logs.text();
    assert_eq!(text.matches("renewals wait").count(), 1, "{text}");
}

/// Issue 13: on a full disk each renewal fetches but cannot write: that counts as a
/// failure and backs off (it used to count as a success, due again at once: 1,400 calls
/// in 6 s). At most 10 calls a minute, the problem logged once, then renewal when space
/// comes back.
#[tokio::test(start_paused = true)]
#[ignore = "needs root to mount a tmpfs: tests/run-all.sh runs it"]
async fn a_full_disk_backs_off_and_recovers() {
    let w = World::new(&keep_warm(""), |c| FakeFetcher::new(c, 12 * H));
    let dir = w.cache.dir().to_path_buf();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(mounted, "cannot mount a tmpfs (needs root)");
    let _unmount = Unmount(dir.clone());
    let filler = dir.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 64 * 1024]);
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    w.run_until(async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let calls = w.fetcher.times().len();
        assert!(
            (1..=10).contains(&calls),
            "{calls} calls in a minute on a full disk"
        );
        assert!(w.servable_now().is_none());
        std::fs::remove_file(&filler).unwrap();
        tokio::time::sleep(Duration::from_secs(300)).await;
    })
    .await;
    assert!(w.servable_now().is_some(), "renewed once there was space");
    let text = logs.text();
    assert_eq!(text.matches("No space left").count(), 1, "{text}");
}

struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Windows has no SIGHUP: a changed config file is read again at the next wake (within a
/// minute), everywhere.
#[tokio::test(start_paused = true)]
async fn a_changed_config_file_is_reloaded_within_a_minute() {
    let w = World::new("", |c| FakeFetcher::new(c, 12 * H));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[daemon]\nkeep_warm = []\n").unwrap();
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    w.run_with(Some(path.clone()), async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(w.fetcher.times().is_empty());
        std::fs::write(&path, keep_warm("")).unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
    })
    .await;
    let times = w.fetcher.times();
    assert_eq!(times.len(), 1, "{times:?}\n{}", logs.text());
    assert!((10 * S..=71 * S).contains(&times[0]), "{times:?}");
}
