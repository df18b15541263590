//! `status`: what the cache holds and whether the daemon keeps it warm, for people (a
//! table) and machines (`--json`). Never prints a secret.

use crate::error::CommandError;
use crate::renew::state::{self, State};
use ecr_login_core::cache::{Cache, Entry, Source};
use ecr_login_core::clock::epoch_ms;
use ecr_login_core::config::Config;
use ecr_login_core::duration::human as human_duration;
use ecr_login_core::error::Error;
use ecr_login_core::policy;
use ecr_login_core::printable;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
struct EntryStatus {
    registry: String,
    /// Who signed, for people.
    signer: String,
    /// What decided who signed (the cache key's identity part; no secret).
    identity: String,
    source: Source,
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

pub(crate) fn status(json: bool, now: i64) -> Result<String, Error> {
    let config = Config::load()?;
    let cache = Cache::from_env_or_warn();
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
                signer: e.signer.clone(),
                identity: ecr_login_core::redact::userinfo(&e.identity),
                source: e.source,
                expires_at_ms: e.expires_at_ms,
                expires_in_s: e.expires_at_ms.saturating_sub(now) / 1000,
                servable: policy::servable(e, now, config.cache.min_remaining),
                last_used_ms: cache
                    .as_ref()
                    .and_then(|c| c.last_used(&e.key()))
                    .map(epoch_ms),
            })
            .collect(),
        daemon: DaemonStatus {
            running: cache.as_ref().is_some_and(|c| state::is_running(c.dir())),
            state: cache.as_ref().and_then(|c| State::read(c.dir())),
        },
        problems,
    };
    if json {
        let mut s = serde_json::to_string_pretty(&report).map_err(CommandError::Report)?;
        s.push('\n');
        return Ok(s);
    }
    Ok(table(&report, now))
}

/// The report for people. Paths, signers and problems are shown through
/// [`printable::line`]: a directory name or a profile can hold terminal escapes.
fn table(r: &Report, now: i64) -> String {
    let mut out = String::new();
    let dir = r.cache_dir.as_deref().unwrap_or("(disabled)");
    let _ = writeln!(out, "cache:  {}", printable::line(dir));
    let _ = writeln!(
        out,
        "config: {}",
        printable::line(r.config_file.as_deref().unwrap_or("(none; defaults)"))
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
            format!("not running (start it: {})", crate::service::START_HINT)
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
                    printable::line(&e.registry),
                    printable::line(if e.signer.is_empty() {
                        &e.identity
                    } else {
                        &e.signer
                    }),
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
        let _ = writeln!(out, "warning: {}", printable::line(p));
    }
    if let Some(store) = r.daemon.state.as_ref().and_then(|s| s.store.as_ref()) {
        let _ = writeln!(
            out,
            "{}: {}",
            if store.flapping { "warning" } else { "note" },
            printable::line(&store.message)
        );
    }
    out
}
