//! The one path from a server string to a token: parse the host, compute the identity,
//! read the cache, and on a miss fetch under the entry's lock. `get`, `kubelet`, Bazel
//! mode, `refresh` and the daemon all come through here.

use crate::env::Env;
use crate::token::cache::{self, Cache, CacheError, Entry, STORED_IDENTITY, Source};
use crate::token::config::{Config, RegistryRule};
use crate::token::fetch::{BUDGET_GRACE, Expired, FetchError, FetchRequest, Fetched, Fetcher};
use crate::token::host::{Authority, Registry};
use crate::token::identity::{Identity, Key, KeyError};
use crate::token::lock::LockError;
use crate::token::policy;
use std::time::Duration;

/// Where a server string goes, before any identity: enough for `store` and `erase`, and
/// what [`Target`] adds an identity to.
#[derive(Debug, Clone)]
pub struct Route {
    /// The authority the client asked for (lower-case host, optional port).
    pub authority: Authority,
    /// The ECR registry whose token answers: the host itself, or what an alias names.
    pub registry: Registry,
    /// Our config's rule for it, aliases resolved ([`Config::effective_rule`]).
    pub rule: Option<RegistryRule>,
}

impl Route {
    /// Routes a server string as a client sends it; `None` when it is not ours: not ECR and
    /// not an alias. A string that is not a registry address at all (a homoglyph, user
    /// info, another scheme) is just as much not ours. What a client is told then is the
    /// front end's to say.
    pub fn of(server: &str, config: &Config) -> Option<Route> {
        let authority = Authority::parse(server)
            .map_err(|e| tracing::debug!("not a registry we serve: {e}"))
            .ok()?;
        let rule = config.effective_rule(&authority.to_string());
        let registry = match rule.as_ref().and_then(|r| r.ecr.as_deref()) {
            // Validated when the config was loaded.
            Some(ecr) => Registry::parse(ecr)?,
            None => Registry::from_host(&authority.host)?,
        };
        Some(Route {
            authority,
            registry,
            rule,
        })
    }

    /// The key `docker login` credentials for this server are kept under: the ECR host for
    /// ECR hosts (any port), the host:port for aliases.
    pub(crate) fn login_registry(&self) -> String {
        login_registry(&self.authority)
    }

    /// The target as `env` signs for it, its secrets fingerprinted under `key` (the
    /// cache's: [`Cache::key`]).
    pub fn target(self, env: &dyn Env, key: &Key) -> Target {
        let identity = Identity::new(self.rule.as_ref(), env, key);
        self.target_as(identity)
    }

    /// The target as a given identity (a Kubernetes service account's).
    pub(crate) fn target_as(self, identity: Identity) -> Target {
        Target {
            authority: self.authority,
            registry: self.registry,
            identity,
        }
    }
}

fn login_registry(authority: &Authority) -> String {
    if Registry::from_host(&authority.host).is_some() {
        authority.host.clone()
    } else {
        authority.to_string()
    }
}

/// What a server string resolves to: where it goes, and who signs for it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The authority the client asked for (lower-case host, optional port).
    pub authority: Authority,
    /// The ECR registry whose token answers: the host itself, or what an alias names.
    pub registry: Registry,
    pub identity: Identity,
}

impl Target {
    /// See [`Route::login_registry`].
    pub(crate) fn login_registry(&self) -> String {
        login_registry(&self.authority)
    }

    pub fn key(&self) -> String {
        cache::key(self.registry.host(), &self.identity.key)
    }

    pub fn login_key(&self) -> String {
        cache::key(&self.login_registry(), STORED_IDENTITY)
    }
}

/// What every request needs besides its target: the config, the cache if usable, and the
/// environment its identity is read from. Loaded once, at the top of a command.
pub struct Context<'a> {
    pub config: &'a Config,
    pub env: &'a dyn Env,
    cache: Slot<'a>,
    /// The key of this process alone, when there is no cache ([`Context::key`]).
    ephemeral: std::sync::OnceLock<Option<Key>>,
}

/// The cache a context serves from: one already open, or one opened by the first request
/// that needs it, so a request for another registry never creates the cache directory.
enum Slot<'a> {
    Open(Option<&'a Cache>),
    OnFirstUse(std::sync::OnceLock<Option<Cache>>, fn() -> Option<Cache>),
}

impl<'a> Context<'a> {
    pub fn new(config: &'a Config, cache: Option<&'a Cache>, env: &'a dyn Env) -> Context<'a> {
        Context {
            config,
            env,
            cache: Slot::Open(cache),
            ephemeral: std::sync::OnceLock::new(),
        }
    }

    /// This process's context with the cache `open` gives, opened the first time a request
    /// needs it.
    pub(crate) fn opening(config: &'a Config, open: fn() -> Option<Cache>) -> Context<'a> {
        Context {
            config,
            env: &crate::env::ProcessEnv,
            cache: Slot::OnFirstUse(std::sync::OnceLock::new(), open),
            ephemeral: std::sync::OnceLock::new(),
        }
    }

    /// The target `route` comes to, signed for as this context's environment signs, its
    /// secrets fingerprinted under the cache's key.
    pub(crate) fn target(&self, route: Route) -> Result<Target, KeyError> {
        Ok(route.target(self.env, self.key()?))
    }

    /// The cache's key (opening the cache if need be), else one of this process alone: no
    /// entry is kept then, so no other process needs to compute the same identity.
    pub fn key(&self) -> Result<&Key, KeyError> {
        if let Some(cache) = self.cache() {
            return Ok(cache.key());
        }
        self.ephemeral
            .get_or_init(|| Key::ephemeral().ok())
            .as_ref()
            .ok_or(KeyError { detail: None })
    }

    /// The cache, if there is a usable one.
    pub(crate) fn cache(&self) -> Option<&Cache> {
        match &self.cache {
            Slot::Open(cache) => *cache,
            Slot::OnFirstUse(cell, open) => cell.get_or_init(open).as_ref(),
        }
    }

    fn read(&self, key: &str) -> Option<Entry> {
        match self.cache()?.read(key) {
            Ok(entry) => entry,
            Err(warning) => {
                tracing::warn!("{warning}");
                None
            }
        }
    }
}

/// Why the token path has no token to give.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The fetch failed, now or in the process we waited on: what ECR, the SDK, the
    /// credentials or the lock wait came to. Every front end but one tells it as it is;
    /// what ECR Public's failure means for a pull is theirs to decide (it pulls anonymously).
    #[error("ECR token for {registry}: {error}")]
    Fetch {
        registry: Box<Registry>,
        error: FetchError,
    },
    /// The token could not be kept where keeping is the point (a renewal).
    #[error(transparent)]
    Cache(CacheError),
    /// The entry's lock could not be taken where it must be (a renewal).
    #[error(transparent)]
    Lock(LockError),
}

fn failed(registry: &Registry, error: FetchError) -> TokenError {
    TokenError::Fetch {
        registry: Box::new(registry.clone()),
        error,
    }
}

/// `get`'s answer: `docker login` credentials while they last, then the cached token while
/// it has enough life left, else a fresh one.
pub fn serve(
    target: &Target,
    ctx: &Context,
    fetcher: &dyn Fetcher,
    now: i64,
) -> Result<Entry, TokenError> {
    if let Some(entry) = cached(target, ctx, now) {
        return Ok(entry);
    }
    // `cached` has just read the entry: straight to the lock (or the hand-off).
    let entry = fetch_locked(
        target,
        ctx,
        fetcher,
        now,
        &|e| servable(e, ctx, now),
        Write::BestEffort,
    )?;
    if let Some(cache) = ctx.cache() {
        cache.sweep_now_and_then(
            crate::clock::system_time(now),
            ctx.config.daemon.forget_after,
        );
    }
    mark_used(target, ctx, now);
    Ok(entry)
}

/// `get`'s answer when the cache has one, with no network and no AWS code: what the
/// small front binary serves on its own.
pub(crate) fn cached(target: &Target, ctx: &Context, now: i64) -> Option<Entry> {
    let fresh = |e: &Entry| servable(e, ctx, now);
    if target.identity.accepts_stored
        && let Some(stored) = ctx.read(&target.login_key()).filter(fresh)
    {
        return Some(stored);
    }
    let entry = ctx.read(&target.key()).filter(fresh)?;
    mark_used(target, ctx, now);
    Some(entry)
}

/// Whether `get` may hand out `entry` now ([`policy::servable`] under this config).
fn servable(entry: &Entry, ctx: &Context, now: i64) -> bool {
    policy::servable(entry, now, ctx.config.cache.min_remaining)
}

fn mark_used(target: &Target, ctx: &Context, now: i64) {
    if let Some(cache) = ctx.cache() {
        cache.mark_used(&target.key(), crate::clock::system_time(now));
    }
}

/// How much longer than a request's own budget a waiter waits for another process's
/// fetch of the same token. That fetch started earlier and is bounded by the same budget
/// plus the fetcher's [`BUDGET_GRACE`], so a waiter gives up only on a holder that is
/// stuck, not one that is slow.
const LOCK_GRACE: Duration = BUDGET_GRACE;

/// Whether a token that could not be written to the cache is still an answer (`get`: the
/// client wants the token) or a failure (the daemon: renewing means caching, and an
/// unwritten renewal must back off like any other failure, not repeat at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    BestEffort,
    Required,
}

/// The cached entry if `fresh` accepts it, else a new token fetched under the entry's lock.
/// Whoever waited on the lock re-reads first: N parallel misses make one API call. When
/// that call failed, the waiters return its error at once rather than repeat it; a wait
/// that outlasts the budget ends with an error naming the lock and its holder.
pub fn obtain(
    target: &Target,
    ctx: &Context,
    fetcher: &dyn Fetcher,
    now: i64,
    fresh: &dyn Fn(&Entry) -> bool,
    write: Write,
) -> Result<Entry, TokenError> {
    if let Some(entry) = ctx.read(&target.key()).filter(|e| fresh(e)) {
        return Ok(entry);
    }
    fetch_locked(target, ctx, fetcher, now, fresh, write)
}

/// [`obtain`] after its first read came up empty (or, for [`serve`], after [`cached`]
/// did): the lock, the re-read, the fetch.
fn fetch_locked(
    target: &Target,
    ctx: &Context,
    fetcher: &dyn Fetcher,
    now: i64,
    fresh: &dyn Fn(&Entry) -> bool,
    write: Write,
) -> Result<Entry, TokenError> {
    let key = target.key();
    let budget = fetcher.budget(ctx.config.timeout) + LOCK_GRACE;
    // A fetcher that hands off runs in a process that takes this lock itself.
    let lock = ctx.cache().filter(|_| !fetcher.hands_off());
    let guard = match lock.map(|c| c.lock(&key, budget)) {
        Some(Ok(guard)) => Some(guard),
        Some(Err(LockError::Timeout(timeout))) => {
            let error = ctx
                .cache()
                .and_then(|c| c.failure_since(&key, now))
                .unwrap_or(FetchError::LockTimeout {
                    detail: timeout.to_string(),
                });
            return Err(failed(&target.registry, error));
        }
        Some(Err(e)) if write == Write::Required => return Err(TokenError::Lock(e)),
        Some(Err(e)) => {
            tracing::warn!("{e}; fetching without the lock");
            None
        }
        None => None,
    };
    if guard.is_some()
        && let Some(cache) = ctx.cache()
    {
        if let Some(entry) = ctx.read(&key).filter(|e| fresh(e)) {
            return Ok(entry);
        }
        // The holder we waited for failed while we waited: its answer is ours.
        if let Some(error) = cache.failure_since(&key, now) {
            return Err(failed(&target.registry, error));
        }
    }
    let request = FetchRequest {
        registry: &target.registry,
        identity: &target.identity,
        timeout: ctx.config.timeout,
        now,
        cache_dir: ctx.cache().map(Cache::dir),
    };
    let started = std::time::Instant::now();
    let fetched = fetcher
        .fetch(&request)
        .and_then(|f| implausible_expiry(&f, now).map_or(Ok(f), Err));
    let fetched = match fetched {
        Ok(fetched) => fetched,
        Err(error) => {
            if guard.is_some()
                && let Some(cache) = ctx.cache()
            {
                // When it failed, on the caller's clock: waiters that came in during the
                // attempt compare it with their own start.
                let failed_at = now.saturating_add(started.elapsed().as_millis() as i64);
                cache.record_failure(&key, &error, failed_at);
            }
            return Err(failed(&target.registry, error));
        }
    };
    let entry = entry_from(target, fetched, now);
    if write == Write::Required
        && let Some(stale) = expired_on_arrival(&entry, now)
    {
        // Renewing means keeping: a token that cannot be kept is a failure, so the daemon
        // backs off instead of renewing again at once.
        return Err(failed(&target.registry, stale));
    }
    if let Some(stale) = expired_on_arrival(&entry, now) {
        // ECR is the authority on its own tokens (SPEC addendum to A.3): the caller gets it.
        tracing::warn!(
            "ECR token for {}: {stale}. Using it once, without caching it",
            target.registry
        );
    }
    if let Some(cache) = ctx.cache() {
        cache.clear_failure(&key);
        if entry.expires_at_ms > now
            && let Err(e) = cache.write(&entry)
        {
            if write == Write::Required {
                return Err(TokenError::Cache(e));
            }
            tracing::warn!("{e}; the token is served but not cached");
        }
    }
    Ok(entry)
}

/// How far ahead of `now` a new token may expire. ECR's last 12 h; an answer past this is
/// not a token to keep (issue 27: one such answer was cached for 97 billion days).
const MAX_AHEAD_MS: i64 = 7 * 24 * 3600 * 1000;

/// Why a token just fetched cannot be believed, if it cannot: it expires more than
/// [`MAX_AHEAD_MS`] after `now`. (Expiries in the past are [`expired_on_arrival`]'s: served
/// once, never cached, as the SPEC's addendum to A.3 says for ECR's test doubles.)
fn implausible_expiry(fetched: &Fetched, now: i64) -> Option<FetchError> {
    let ahead = fetched.token_expires_at_ms.saturating_sub(now);
    (ahead > MAX_AHEAD_MS).then(|| FetchError::MalformedToken {
        detail: format!(
            "ECR's answer is malformed: its expiresAt is {} days ahead of this machine's clock, and ECR's tokens last 12 hours",
            ahead / (24 * 3600 * 1000)
        ),
    })
}

/// Why `entry`, just fetched, is already expired at `now`, if it is.
fn expired_on_arrival(entry: &Entry, now: i64) -> Option<FetchError> {
    if entry.expires_at_ms > now {
        return None;
    }
    let what = if entry.token_expires_at_ms <= now {
        Expired::Token
    } else {
        Expired::Credentials
    };
    Some(FetchError::ExpiredOnArrival {
        what,
        ago_ms: now.saturating_sub(entry.expires_at_ms),
    })
}

pub(crate) fn entry_from(target: &Target, fetched: Fetched, now: i64) -> Entry {
    let expires = match fetched.credentials_expire_at_ms {
        Some(c) if c < fetched.token_expires_at_ms => c,
        _ => fetched.token_expires_at_ms,
    };
    let identity = &target.identity;
    Entry {
        registry: target.registry.host().to_string(),
        server: target.authority.to_string(),
        identity: identity.key.clone(),
        signer: fetched.signer.unwrap_or_else(|| identity.label.clone()),
        aws_env: identity.env.recordable(),
        requires: fetched.requires,
        username: fetched.username,
        secret: fetched.secret,
        source: Source::Fetched,
        issued_at_ms: now,
        fetched_at_ms: now,
        expires_at_ms: expires,
        token_expires_at_ms: fetched.token_expires_at_ms,
        proxy_endpoint: fetched.proxy_endpoint,
    }
}
