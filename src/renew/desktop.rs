//! Surviving Docker Desktop: it sets `credsStore` back to `desktop` (`desktop.exe` on
//! Windows) when it starts and on some updates, and every ECR pull then fails with "no
//! basic auth credentials" the morning after a reboot. It keeps `credHelpers`.
//!
//! So the daemon watches the Docker config that `configure --store` set up (recorded in
//! our config as `[store] docker_config`; nothing else is ours to touch) and, when its
//! `credsStore` is no longer `ecr-login`:
//! - records the new value as our fallback, so Desktop's own logins keep working through us;
//! - puts `credsStore` back, and pins every ECR registry in use (the warm set) in
//!   `credHelpers`, which stay ours even while a reset is in effect;
//! - says so once, and in `status`.
//!
//! If the file is set back again within a minute of our repair, something keeps fighting
//! us: we stop (no third write), keep the pins, and say so in `status`. The edits are
//! `configure`'s own: byte-preserving, atomic, through the user's links, and they replace
//! the file only if it is still what we read, so a `docker login` that lands meanwhile is
//! kept. `[store] repair = false` turns all of this off.
//!
//! We repair once the file has been quiet for [`QUIET_MS`]: Docker Desktop writes it
//! several times as it starts. The file is read bounded and without blocking (a FIFO, a
//! device or a huge file is reported once and left alone), and a daemon running as root
//! never repairs a file that another user can change.

use crate::edit::docker_config::DockerEditError;
use crate::edit::docker_config::HELPER;
use crate::edit::ecr_config::ConfigEditError;
use crate::edit::{creds_store, docker_config, ecr_config, user_file};
use ecr_login_core::config::{self, Config};
use ecr_login_core::docker::find_helper;
use ecr_login_core::files;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A second reset this soon after our repair means something keeps resetting it.
const FIGHT_WINDOW_MS: i64 = 60_000;
/// How long the file must stay unchanged before we repair it.
pub(crate) const QUIET_MS: i64 = 2_000;

use super::watch::{Stamp, stamp};

/// What `status` shows about the last repair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Report {
    pub(crate) message: String,
    pub(crate) at_ms: i64,
    /// We stopped repairing: the file kept being reset.
    pub(crate) flapping: bool,
}

/// The watcher's memory between wakes.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// The file as we last looked at it.
    seen: Stamp,
    /// A change not acted on yet: the file as it was then, and since when it has been so.
    settling: Option<(Stamp, i64)>,
    last_repair_ms: Option<i64>,
    /// The last problem logged (a file we cannot read), so each is said once.
    problem: Option<String>,
    pub(crate) report: Option<Report>,
}

impl Watch {
    /// Looks at the Docker config, and repairs it if it should. `warm` holds the ECR
    /// registries in use. Returns whether anything changed for `status`.
    pub(crate) fn check(&mut self, config: &Config, warm: &[String], now: i64) -> bool {
        let Some(path) = config.store.docker_config.as_deref() else {
            return false;
        };
        let seen_now = stamp(Some(path));
        if seen_now == self.seen {
            self.settling = None;
            return false;
        }
        match self.settling {
            Some((then, since)) if then == seen_now => {
                if now.saturating_sub(since) < QUIET_MS {
                    return false;
                }
            }
            _ => {
                self.settling = Some((seen_now, now));
                return false;
            }
        }
        self.settling = None;
        self.seen = seen_now;
        if let Err(e) = ecr_login_core::privilege::check_root_path(
            path,
            "the Docker config in [store] docker_config",
        ) {
            self.say_once(format!("not repairing it: {e}"));
            return false;
        }
        let text = match files::read_text_limited(path, files::CONFIG_LIMIT) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
            Err(e) => {
                self.say_once(format!("cannot look at {}: {e}", path.display()));
                return false;
            }
        };
        self.problem = None;
        let now_store = creds_store::value(&text);
        if now_store.as_deref() == Some(HELPER) {
            return false;
        }
        let shown = now_store.as_deref().unwrap_or("(none)");
        if !config.store.repair {
            tracing::debug!(
                "{}: credsStore is \"{shown}\"; not repairing it ([store] repair = false)",
                path.display()
            );
            return false;
        }
        if self
            .last_repair_ms
            .is_some_and(|t| now.saturating_sub(t) < FIGHT_WINDOW_MS)
        {
            if self.report.as_ref().is_some_and(|r| r.flapping) {
                return false;
            }
            let message = format!(
                "{} keeps setting credsStore back (to \"{shown}\") within a minute of each repair; ecr-login stopped repairing it. The ECR registries pinned in credHelpers keep working; for others, run: docker-credential-ecr-login configure --store (Docker Desktop has no setting that stops the reset)",
                path.display()
            );
            tracing::warn!("{message}");
            self.report = Some(Report {
                message,
                at_ms: now,
                flapping: true,
            });
            return true;
        }
        // Written down first: if the record cannot be kept, the store Desktop set must not
        // be switched away from, or its logins would be lost.
        let pins = missing(Some(&text), warm);
        if let Err(e) = record(config, now_store.as_deref(), &pins) {
            self.say_once(format!(
                "not repairing credsStore in {}: {e}",
                path.display()
            ));
            return false;
        }
        match repair(path, now_store.as_deref(), warm) {
            Ok((pinned, message)) => {
                tracing::warn!("{message}");
                self.last_repair_ms = Some(now);
                self.seen = stamp(Some(path));
                // The file changed between our look and the repair: the pins it got.
                if pinned.iter().any(|p| !pins.contains(p))
                    && let Err(e) = record(config, now_store.as_deref(), &pinned)
                {
                    tracing::warn!("{e}");
                }
                self.report = Some(Report {
                    message,
                    at_ms: now,
                    flapping: false,
                });
                true
            }
            Err(e) => {
                tracing::warn!("cannot put credsStore back in {}: {e}", path.display());
                false
            }
        }
    }
}

impl Watch {
    /// When the loop should look again: once a change has been quiet long enough.
    pub(crate) fn next_look(&self) -> Option<i64> {
        self.settling.map(|(_, since)| since + QUIET_MS)
    }

    fn say_once(&mut self, message: String) {
        if self.problem.as_ref() != Some(&message) {
            tracing::warn!("{message}");
            self.problem = Some(message);
        }
    }
}

/// Sets `credsStore` back and pins the warm registries missing from `credHelpers`.
/// Returns the pins added and the line to log.
fn repair(
    path: &Path,
    was: Option<&str>,
    warm: &[String],
) -> Result<(Vec<String>, String), user_file::EditError<DockerEditError>> {
    let added = std::cell::RefCell::new(Vec::new());
    user_file::update::<DockerEditError>(path, false, &|current| {
        let missing = missing(current, warm);
        let (text, mut changes) = docker_config::edit(current, &missing, false)?;
        let sw = creds_store::enable(text.as_deref().or(current))?;
        changes.extend(sw.changes);
        *added.borrow_mut() = missing;
        Ok((sw.text.or(text), changes))
    })?;
    let pinned = added.into_inner();
    let kept = match was {
        Some(w) if config::validate_helper_name(w).is_ok() => {
            format!(", kept \"{w}\" for other registries")
        }
        _ => String::new(),
    };
    let message = format!(
        "credsStore in {} was set to \"{}\" (Docker Desktop does this when it starts); set it back to ecr-login{kept}, and pinned {} ECR registr{} in credHelpers",
        path.display(),
        was.unwrap_or("(none)"),
        pinned.len(),
        if pinned.len() == 1 { "y" } else { "ies" }
    );
    Ok((pinned, message))
}

/// The registries of `warm` that a Docker config's `credHelpers` lacks.
fn missing(text: Option<&str>, warm: &[String]) -> Vec<String> {
    let present = helpers(text);
    warm.iter()
        .filter(|h| !present.iter().any(|p| p == *h))
        .cloned()
        .collect()
}

/// The hosts in a Docker config's `credHelpers`.
fn helpers(text: Option<&str>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .and_then(|v| v.get("credHelpers").and_then(|h| h.as_object()).cloned())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Records in our config the new fallback (Desktop's store keeps other registries) and
/// the pins, so `configure --remove` takes out exactly those.
fn record(config: &Config, was: Option<&str>, pinned: &[String]) -> Result<(), RecordError> {
    let path = config
        .path
        .clone()
        .or_else(config::default_path)
        .ok_or(RecordError::NoConfigFile)?;
    let fallback = was.filter(|w| config::validate_helper_name(w).is_ok());
    let found = fallback
        .and_then(find_helper)
        .map(|p| p.display().to_string());
    let mut all = config.store.pinned.clone();
    for p in pinned {
        if !all.contains(p) {
            all.push(p.clone());
        }
    }
    let edit = |text: &str| {
        let mut text = text.to_string();
        let mut changes = Vec::new();
        if let Some(f) = fallback {
            let (t, c) = ecr_config::set_store(
                &text,
                &[("fallback", Some(f)), ("fallback_path", found.as_deref())],
            )?;
            text = t;
            changes.extend(c);
        }
        let (t, c) = ecr_config::set_store_list(&text, "pinned", Some(&all))?;
        changes.extend(c);
        Ok((t, changes))
    };
    user_file::update(&path, false, &|current| {
        ecr_config::checked(&path, edit(current.unwrap_or_default()))
    })
    .map(|_| ())
    .map_err(RecordError::Edit)
}

/// Why the repair could not be written down in our config.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error("no ecr-login config file to record the repair in (set ECR_LOGIN_CONFIG)")]
    NoConfigFile,
    #[error(transparent)]
    Edit(user_file::EditError<ConfigEditError>),
}
