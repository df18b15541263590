//! `status` and `refresh`: what the cache holds and whether the daemon keeps it warm,
//! for people (a table) and machines (`--json`). Never prints a secret.

use crate::cache::{Cache, Entry};
use crate::config::Config;
use crate::daemon::{self, State};
use crate::error::Error;
use crate::identity::ProcessEnv;
use crate::policy;
use crate::resolve::{self, Context, Target};
use serde::Serialize;
use std::fmt::Write as _;
use std::time::SystemTime;

/// `5h59m12s`-style durations, Go's syntax, which the kubelet also expects.
pub fn go_duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// Rough durations for people: `5h59m`, `42s`, `3d4h`.
pub fn human_duration(ms: i64) -> String {
    let secs = ms.unsigned_abs() / 1000;
    let sign = if ms < 0 { "-" } else { "" };
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let body = match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s}s"),
        (0, _, _) => format!("{h}h{m}m"),
        _ => format!("{d}d{h}h"),
    };
    format!("{sign}{body}")
}

#[derive(Debug, Serialize)]
struct EntryStatus {
    registry: String,
    identity: String,
    source: crate::cache::Source,
    expires_at_ms: i64,
    expires_in_s: i64,
    servable: bool,
    last_used_ms: Option<i64>,
}

#[derive(Debug, Serialize)]
struct DaemonStatus {
    running: bool,
    #[serde(flatten)]
    state: Option<State>,
}

#[derive(Debug, Serialize)]
struct Report {
    cache_dir: Option<String>,
    config_file: Option<String>,
    entries: Vec<EntryStatus>,
    daemon: DaemonStatus,
    problems: Vec<String>,
}

fn ms_of(t: SystemTime) -> Option<i64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as i64)
}

pub fn status(json: bool, now: i64) -> Result<String, Error> {
    let config = Config::load().map_err(Error::Config)?;
    let cache = crate::helper::open_cache();
    let (entries, problems) = cache.as_ref().map(Cache::entries).unwrap_or_default();
    let report = Report {
        cache_dir: cache.as_ref().map(|c| c.dir().display().to_string()),
        config_file: config
            .path
            .as_ref()
            .filter(|p| p.exists())
            .map(|p| p.display().to_string()),
        entries: entries
            .iter()
            .map(|e: &Entry| EntryStatus {
                registry: e.registry.clone(),
                identity: e.identity.clone(),
                source: e.source,
                expires_at_ms: e.expires_at_ms,
                expires_in_s: e.expires_at_ms.saturating_sub(now) / 1000,
                servable: policy::servable(e, now, config.cache.min_remaining),
                last_used_ms: cache
                    .as_ref()
                    .and_then(|c| c.last_used(&e.key()))
                    .and_then(ms_of),
            })
            .collect(),
        daemon: DaemonStatus {
            running: cache.as_ref().is_some_and(|c| daemon::is_running(c.dir())),
            state: cache.as_ref().and_then(|c| State::read(c.dir())),
        },
        problems,
    };
    if json {
        let mut s =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Other(e.to_string()))?;
        s.push('\n');
        return Ok(s);
    }
    Ok(table(&report, now))
}

fn table(r: &Report, now: i64) -> String {
    let mut out = String::new();
    let dir = r.cache_dir.as_deref().unwrap_or("(disabled)");
    let _ = writeln!(out, "cache:  {dir}");
    let _ = writeln!(
        out,
        "config: {}",
        r.config_file.as_deref().unwrap_or("(none; defaults)")
    );
    let d = &r.daemon;
    let daemon_line = match (&d.state, d.running) {
        (Some(s), true) => format!(
            "running (pid {}), {} warm, last renewal {}",
            s.pid,
            s.warm,
            s.last_renewal_ms.map_or("never".into(), |t| format!(
                "{} ago",
                human_duration(now.saturating_sub(t))
            ))
        ),
        (_, true) => "running".into(),
        (_, false) => {
            "not running (start it: systemctl --user enable --now docker-credential-ecr-login)"
                .into()
        }
    };
    let _ = writeln!(out, "daemon: {daemon_line}\n");
    if r.entries.is_empty() {
        out.push_str("no cached tokens\n");
    } else {
        let rows: Vec<[String; 5]> = r
            .entries
            .iter()
            .map(|e| {
                let expires = if e.expires_in_s <= 0 {
                    "expired".into()
                } else if e.servable {
                    human_duration(e.expires_in_s * 1000)
                } else {
                    format!("{} (stale)", human_duration(e.expires_in_s * 1000))
                };
                let used = e.last_used_ms.map_or("-".into(), |t| {
                    format!("{} ago", human_duration(now.saturating_sub(t)))
                });
                let source = format!("{:?}", e.source).to_lowercase();
                [
                    e.registry.clone(),
                    e.identity.clone(),
                    source,
                    expires,
                    used,
                ]
            })
            .collect();
        let header =
            ["REGISTRY", "IDENTITY", "SOURCE", "EXPIRES IN", "LAST USED"].map(String::from);
        let widths: Vec<usize> = (0..5)
            .map(|i| {
                rows.iter()
                    .chain([&header])
                    .map(|r| r[i].len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", line.join("  ").trim_end());
        }
    }
    for p in &r.problems {
        let _ = writeln!(out, "warning: {p}");
    }
    out
}

/// `refresh`: renew the named registries now, or every warm one. Returns a report line
/// per registry; fails if any renewal failed.
pub fn refresh(registries: &[String], now: i64) -> Result<String, Error> {
    let config = Config::load().map_err(Error::Config)?;
    let cache = crate::helper::open_cache();
    let targets: Vec<Target> = if registries.is_empty() {
        let Some(cache) = &cache else {
            return Err(Error::Other(
                "the cache is disabled; name the registries to refresh".into(),
            ));
        };
        daemon::warm_set(&config, cache, now)
            .into_iter()
            .map(|w| w.target)
            .collect()
    } else {
        registries
            .iter()
            .map(|r| match Target::resolve(r, &config, &ProcessEnv) {
                Err(Error::NotFound) => Err(Error::Input(format!(
                    "{r} is not an ECR registry (nor an alias in the ecr-login config)"
                ))),
                other => other,
            })
            .collect::<Result<_, _>>()?
    };
    if targets.is_empty() {
        return Ok(
            "nothing to refresh: no registry is warm (use one, or list it in daemon.keep_warm)\n"
                .into(),
        );
    }
    let ctx = Context {
        config: &config,
        cache: cache.as_ref(),
    };
    let mut out = String::new();
    let mut failed = Vec::new();
    for target in &targets {
        // Someone else renewing while we wait on the lock counts as done.
        match resolve::obtain(target, &ctx, now, &|e| e.fetched_at_ms >= now) {
            Ok(e) => {
                let _ = writeln!(
                    out,
                    "renewed {} for {}: valid {}",
                    target.registry,
                    e.identity,
                    human_duration(e.expires_at_ms.saturating_sub(now))
                );
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        crate::protocol::write_stdout(out.as_bytes());
        Err(Error::Other(failed.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        for (ms, want) in [
            (0, "0s"),
            (59_999, "59s"),
            (61_000, "1m1s"),
            (21_552_000, "5h59m12s"),
            (-5, "0s"),
        ] {
            assert_eq!(go_duration(ms), want);
        }
        assert_eq!(human_duration(3 * 86_400_000 + 4 * 3_600_000), "3d4h");
        assert_eq!(human_duration(-42_000), "-42s");
    }
}
