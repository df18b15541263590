//! `refresh`: renew the named registries now, or every registry the daemon keeps warm,
//! through the same path as `get` and the daemon.

use crate::aws::AwsFetcher;
use crate::error::CommandError;
use crate::renew::warm::warm_set;
use ecr_login_core::cache::{Cache, Entry};
use ecr_login_core::config::Config;
use ecr_login_core::duration;
use ecr_login_core::env::ProcessEnv;
use ecr_login_core::error::Error;
use ecr_login_core::output;
use ecr_login_core::resolve::{self, Context, Route, Target, Write};
use std::fmt::Write as _;

/// `refresh`: renew the named registries now, or every warm one. Returns a report line
/// per registry; fails if any renewal failed.
pub(crate) fn refresh(registries: &[String], now: i64) -> Result<String, Error> {
    let config = Config::load()?;
    let cache = Cache::from_env_or_warn();
    let ctx = Context::new(&config, cache.as_ref(), &ProcessEnv);
    let targets: Vec<Target> = if registries.is_empty() {
        let Some(cache) = &cache else {
            return Err(CommandError::RefreshNeedsNames.into());
        };
        warm_set(&config, cache, &ProcessEnv, now)
            .into_iter()
            .map(|w| w.target)
            .collect()
    } else {
        registries
            .iter()
            .map(|r| {
                let route = Route::of(r, &config).ok_or_else(|| {
                    Error::Input(format!(
                        "{r} is not an ECR registry (nor an alias in the ecr-login config)"
                    ))
                })?;
                Ok::<Target, Error>(route.target(&ProcessEnv, ctx.key()?))
            })
            .collect::<Result<_, _>>()?
    };
    if targets.is_empty() {
        return Ok(
            "nothing to refresh: no registry is warm (use one, or list it in daemon.keep_warm)\n"
                .into(),
        );
    }
    let mut out = String::new();
    let mut failed = Vec::new();
    for target in &targets {
        if let Err(e) = renew_now(target, &ctx, now, "renewed", &mut out) {
            failed.push(e.to_string());
        }
    }
    report(out, &failed)
}

/// Fetches `target`'s token now, through the same path as `get`, and adds `<verb>
/// <registry> for <signer>: valid <for how long>` to `out`.
pub(crate) fn renew_now(
    target: &Target,
    ctx: &Context,
    now: i64,
    verb: &str,
    out: &mut String,
) -> Result<(), Error> {
    // Someone else renewing while we wait on the lock counts as done.
    let fresh = |e: &Entry| e.fetched_at_ms >= now;
    let e = resolve::obtain(target, ctx, &AwsFetcher, now, &fresh, Write::Required)?;
    let _ = writeln!(
        out,
        "{verb} {} for {}: valid {}",
        target.registry,
        e.signer,
        duration::human(e.expires_at_ms.saturating_sub(now))
    );
    Ok(())
}

/// The report; when some registries failed, the report goes out on stdout and their lines
/// are the error.
pub(crate) fn report(out: String, failed: &[String]) -> Result<String, Error> {
    if failed.is_empty() {
        Ok(out)
    } else {
        let _ = output::write_stdout(out.as_bytes());
        Err(CommandError::RenewalsFailed(failed.to_vec()).into())
    }
}
