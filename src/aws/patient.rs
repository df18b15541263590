//! The kubelet's fetcher: the same fetch path, patient with throttling. An autoscaler that
//! starts hundreds of nodes at once sends every node's first token call in the same second,
//! and `GetAuthorizationToken` is throttled per account and region (design for 20/s with a
//! burst of 200: SPEC Part H). A `get` must answer within seconds; a kubelet call may take
//! up to its one-minute exec timeout, and a pull that fails is retried by the kubelet far
//! later. So here a node's first call waits a random time up to `[kubelet]
//! first_call_spread`, and a throttled call (or a 5xx) is retried after a random wait in a
//! window that doubles each time, until [`DEADLINE`]: the fleet drains through the quota
//! instead of failing, and each node's calls stay few (the SDK makes one attempt per call
//! here, not its own quick retries, which would only be throttled again).

use super::{fetch_async_with, runtime};
use ecr_login_core::cache::Cache;
use ecr_login_core::fetch::{FetchError, FetchRequest, Fetched, Fetcher};
use ecr_login_core::policy::jitter;
use std::time::{Duration, Instant};

pub(crate) struct Patient<'a> {
    /// Where the first call is told from a renewal: no entry for the token at all.
    pub(crate) cache: Option<&'a Cache>,
    pub(crate) first_call_spread: Duration,
    /// The whole of a kubelet call's retries and waits (`[kubelet] retry_for`, 50 s by
    /// default): inside the kubelet's one-minute exec timeout, so the answer (a token, or
    /// one line saying why not) always arrives.
    pub(crate) retry_for: Duration,
}

impl Patient<'_> {
    /// The first retry's window, a sixth of the time there is (8 s of 50: 200 throttled
    /// nodes retrying within 8 s ask 25 times a second, about ECR's sustained rate); each
    /// retry doubles it, up to half the time there is.
    fn windows(&self) -> (Duration, Duration) {
        (self.retry_for / 6, self.retry_for / 2)
    }
}

impl Fetcher for Patient<'_> {
    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, FetchError> {
        let start = Instant::now();
        let seed = seed();
        let rt = runtime().map_err(|e| FetchError::Other {
            detail: e.to_string(),
        })?;
        if self.first_call(request) {
            let wait = random(&format!("{seed}first"), self.first_call_spread);
            std::thread::sleep(wait);
        }
        let (mut window, max_window) = self.windows();
        let deadline = self.retry_for + request.timeout;
        for attempt in 1.. {
            let error = match rt.block_on(fetch_async_with(request, 1)) {
                Err(e @ (FetchError::Throttled { .. } | FetchError::ServerError { .. })) => e,
                done => return done,
            };
            // Equal jitter: half the window fixed, half spread.
            let wait = window / 2 + random(&format!("{seed}{attempt}"), window / 2);
            let next_ends = start.elapsed() + wait + request.timeout;
            if next_ends > deadline {
                return Err(gave_up(error, attempt, start.elapsed()));
            }
            tracing::info!(
                "ECR token for {} ({}), attempt {attempt}; trying again in {} ms",
                request.registry,
                error.kind(),
                wait.as_millis()
            );
            std::thread::sleep(wait);
            window = (window * 2).min(max_window);
        }
        unreachable!("the loop returns")
    }

    fn budget(&self, timeout: Duration) -> Duration {
        self.first_call_spread + self.retry_for + timeout
    }
}

impl Patient<'_> {
    fn first_call(&self, request: &FetchRequest) -> bool {
        let Some(cache) = self.cache else {
            return false;
        };
        let key = ecr_login_core::cache::key(request.registry.host(), &request.identity.key);
        matches!(cache.read(&key), Ok(None))
    }
}

/// The last error, saying how long we tried: one line, for the kubelet's log.
fn gave_up(error: FetchError, attempts: u32, after: Duration) -> FetchError {
    let tried = format!(
        "{attempts} attempts over {} s; the kubelet retries the pull",
        after.as_secs()
    );
    match error {
        FetchError::Throttled { detail } => FetchError::Throttled {
            detail: format!("{detail}; {tried}"),
        },
        FetchError::ServerError { detail } => FetchError::ServerError {
            detail: format!("{detail}; {tried}"),
        },
        other => other,
    }
}

/// What makes this process's waits its own: nodes booted in the same second differ here.
fn seed() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

fn random(seed: &str, max: Duration) -> Duration {
    Duration::from_millis(jitter(seed, max.as_millis() as i64) as u64)
}
