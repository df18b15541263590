//! `configure`: point Docker's `credHelpers` at us ([`docker_config`]), write per-registry
//! profile, role and alias entries into our config ([`ecr_config`]), and install the
//! renewal daemon as a service (`crate::service`). With no registry named, it discovers
//! the caller's default registry (`crate::aws::discover`).
//!
//! Both files are the user's: we keep every key we do not touch, write atomically with the
//! file's own mode, refuse read-only files, and say exactly what changed.

pub(crate) mod kubelet;

use crate::commands::args::ConfigureArgs as Request;
use crate::edit::{creds_store, docker_config, ecr_config, user_file};
use crate::error::CommandError;
use ecr_login_core::config::{self, Config, RegistryRule};
use ecr_login_core::docker::find_helper;
use ecr_login_core::env::ProcessEnv;
use ecr_login_core::error::Error;
use ecr_login_core::files;
use ecr_login_core::host::Registry;
use ecr_login_core::identity::{Identity, Key};
use ecr_login_core::printable;
use serde_json::Value;
use std::fmt::Write as _;

pub(crate) use crate::edit::docker_config::HELPER;
pub(crate) const BINARY: &str = "docker-credential-ecr-login";

/// The hosts a request names, discovering the caller's default registry when none is given.
fn hosts(req: &Request) -> Result<Vec<String>, Error> {
    let mut hosts = Vec::new();
    for r in &req.registries {
        let authority =
            ecr_login_core::host::Authority::parse(r).map_err(|e| Error::Input(e.to_string()))?;
        match Registry::from_host(&authority.host) {
            Some(reg) => hosts.push(reg.host().to_string()),
            None if req.ecr.is_some() || req.remove => hosts.push(authority.to_string()),
            None => {
                return Err(Error::Input(format!(
                    "{r} is not an ECR registry host; to use it as an alias of one, add --ecr <ECR host>"
                )));
            }
        }
    }
    if req.accounts.len() > 1 && req.regions.len() != req.accounts.len() && req.regions.len() != 1 {
        return Err(Error::Input(
            "give one --region for all --account values, or one per --account".into(),
        ));
    }
    for (i, account) in req.accounts.iter().enumerate() {
        let region = req
            .regions
            .get(i)
            .or(req.regions.first())
            .ok_or_else(|| Error::Input(format!("--account {account} needs a --region")))?;
        let registry = Registry::private(account, region).ok_or_else(|| {
            Error::Input(format!(
                "--account {account} --region {region} is not a valid ECR registry (the account is 12 digits)"
            ))
        })?;
        hosts.push(registry.host().to_string());
    }
    if req.public {
        hosts.push("public.ecr.aws".into());
    }
    if hosts.is_empty() && !req.remove {
        hosts.push(discover(req)?);
    }
    let mut seen = std::collections::HashSet::new();
    hosts.retain(|h| seen.insert(h.clone()));
    Ok(hosts)
}

fn discover(req: &Request) -> Result<String, Error> {
    let rule = RegistryRule {
        profile: req.profile.clone(),
        role_arn: req.role_arn.clone(),
        ..Default::default()
    };
    // Nothing keeps this identity: a key of this run alone fingerprints its secrets.
    let identity = Identity::new(Some(&rule), &ProcessEnv, &Key::ephemeral()?);
    let timeout = Config::load()?.timeout;
    crate::aws::discover::default_registry(
        &identity,
        req.regions.first().map(String::as_str),
        timeout,
    )
}

pub(crate) fn run(req: &Request) -> Result<String, Error> {
    let run = if req.kubelet { kubelet::run } else { edit };
    run(req).map_err(|e| match ecr_login_core::privilege::acting_as() {
        // Started as root with this user's HOME: we edited as the user, and the kernel
        // said no (a link to a file only root may write, say).
        Some(uid) => CommandError::AsUser {
            uid,
            error: Box::new(e),
        }
        .into(),
        None => e,
    })
}

fn edit(req: &Request) -> Result<String, Error> {
    let named = !req.registries.is_empty() || !req.accounts.is_empty() || req.public;
    let hosts = if req.store && !named {
        Vec::new()
    } else {
        hosts(req)?
    };
    let mut out = String::new();
    if hosts.len() == 1 && !named && !req.remove {
        let _ = writeln!(out, "discovered your default registry: {}", hosts[0]);
    }
    let config = Config::load()?;
    // What the credsStore part does: switch to us, switch back, or nothing.
    let enabling = req.store && !req.remove;
    let disabling = req.remove && (req.store || !named);
    let previous = config.store.previous.clone().unwrap_or_default();
    let docker_path = docker_config::path()?;
    // credHelpers change for named hosts, or all of ours on a plain --remove.
    let edit_helpers = !hosts.is_empty() || (req.remove && !req.store);
    let switch = std::cell::RefCell::new(creds_store::Switch::default());
    // Undoing the store also takes out the credHelpers pins the daemon added, and only those.
    let unpin: Vec<String> = if disabling {
        config.store.pinned.clone()
    } else {
        Vec::new()
    };
    // The credsStore we replace is written down before Docker's config stops naming it,
    // marked pending until the switch is done: a failed or killed run never loses it.
    let recorded = if enabling && !req.dry_run {
        record_before_switch(&mut out, req, &docker_path)?
    } else {
        false
    };
    ecr_login_core::hooks::point("configure.recorded", &docker_path);
    let updated = user_file::update::<docker_config::DockerEditError>(
        &docker_path,
        req.dry_run,
        &|current| {
            let (mut text, mut changes) = if edit_helpers {
                docker_config::edit(current, &hosts, req.remove)?
            } else {
                (None, Vec::new())
            };
            if !unpin.is_empty() {
                let (unpinned, more) =
                    docker_config::edit(text.as_deref().or(current), &unpin, true)?;
                text = unpinned.or(text);
                changes.extend(more);
            }
            let base = text.as_deref().or(current);
            let sw = if enabling {
                creds_store::enable(base)?
            } else if disabling {
                creds_store::disable(base, &previous)?
            } else {
                creds_store::Switch::default()
            };
            changes.extend(sw.changes.iter().cloned());
            text = sw.text.clone().or(text);
            *switch.borrow_mut() = sw;
            Ok((text, changes))
        },
    )
    .map_err(|e| match e {
        // The edit's words read after the file's name ("… is not valid JSON").
        user_file::EditError::Content { why, .. } => CommandError::Content {
            path: docker_path.clone(),
            before: " ",
            why: why.to_string(),
        }
        .into(),
        e => Error::from(e),
    });
    ecr_login_core::hooks::point("configure.switched", &docker_path);
    let updated = match updated {
        Ok(updated) => updated,
        Err(e) => {
            // Docker's config still names the old store: the record goes back as it was.
            if recorded {
                let _ = undo_record(&mut String::new(), req, &config);
            }
            return Err(e);
        }
    };
    updated.describe(&mut out, req.dry_run);
    let current = updated.text.clone().or_else(|| {
        ecr_login_core::files::read_text_limited(&updated.path, ecr_login_core::files::CONFIG_LIMIT)
            .ok()
    });
    let switch = switch.into_inner();
    if enabling {
        store_mode(&mut out, req, &switch, current.as_deref())?;
        // What the daemon keeps pointing at us (see `crate::renew::desktop`).
        let watched = updated.path.display().to_string();
        update_store_settings(&mut out, req, &[("docker_config", Some(&watched))])?;
        set_pending(&mut out, req, false)?;
    } else if disabling {
        // Not ours to repair any more: a credsStore set by hand from now on stays.
        let mut settings = vec![("docker_config", None)];
        // Put back, or never switched (a `--store` that stopped after its record): either
        // way the record is done with.
        let never_switched = config.store.pending && switch.changes.is_empty();
        if (!switch.changes.is_empty() || never_switched) && config.store.previous.is_some() {
            settings.push(("previous", None));
        }
        update_store_settings(&mut out, req, &settings)?;
        if config.store.pending {
            set_pending(&mut out, req, false)?;
        }
        if !config.store.pinned.is_empty() {
            update_store_list(&mut out, req, "pinned", None)?;
        }
    }
    if !req.remove && (req.profile.is_some() || req.role_arn.is_some() || req.ecr.is_some()) {
        configure_ecr_login(&mut out, &hosts, req)?;
    }
    if !req.remove {
        warnings(&mut out, current.as_deref());
    }
    if req.service && !req.dry_run {
        if req.remove {
            crate::service::uninstall(&mut out)?;
        } else {
            crate::service::install(&mut out)?;
        }
    }
    Ok(out)
}

/// Before `--store` switches Docker over: records the `credsStore` it is about to replace
/// (as `store_mode` does after), with `[store] pending` set. Whether anything was recorded.
fn record_before_switch(
    out: &mut String,
    req: &Request,
    docker_path: &std::path::Path,
) -> Result<bool, Error> {
    let text = match files::read_text_limited(docker_path, files::CONFIG_LIMIT) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(CommandError::file("read", docker_path)(e).into());
        }
    };
    // An edit that would fail (not JSON, an unkeepable store) fails below, before writing.
    let Ok(switch) = creds_store::enable(text.as_deref()) else {
        return Ok(false);
    };
    let Some(previous) = &switch.previous else {
        return Ok(false);
    };
    record_fallback(out, req, previous)?;
    set_pending(out, req, true)?;
    Ok(true)
}

/// Puts our config's record of the replaced store back as `config` had it.
fn undo_record(out: &mut String, req: &Request, config: &Config) -> Result<(), Error> {
    let path = config
        .store
        .fallback_path
        .as_ref()
        .map(|p| p.display().to_string());
    update_store_settings(
        out,
        req,
        &[
            ("fallback", config.store.fallback.as_deref()),
            ("fallback_path", path.as_deref()),
            ("previous", config.store.previous.as_deref()),
        ],
    )?;
    set_pending(out, req, false)
}

/// Sets or clears `[store] pending`: a `configure --store` that recorded the store it
/// replaces and has not yet seen Docker's config switched.
fn set_pending(out: &mut String, req: &Request, pending: bool) -> Result<(), Error> {
    edit_our_config(out, req, |text| {
        ecr_config::set_store_flag(text, "pending", pending)
    })
}

/// Records `previous` (the `credsStore` replaced; `""`: none) as our fallback.
fn record_fallback(out: &mut String, req: &Request, previous: &str) -> Result<(), Error> {
    let fallback = (!previous.is_empty()).then_some(previous);
    // Recorded where it is now, so a PATH that changes later (a project's
    // node_modules/.bin) never decides which program receives other registries' logins.
    let found = fallback.and_then(find_helper);
    if let (Some(name), None) = (fallback, &found) {
        let name = printable::line(name);
        if !out.contains(&format!("docker-credential-{name} is not on PATH")) {
            let _ = writeln!(
                out,
                "warning: docker-credential-{name} is not on PATH; logins to other registries fail until it is installed (then run configure --store again to record where)"
            );
        }
    }
    let found = found.map(|p| p.display().to_string());
    update_store_settings(
        out,
        req,
        &[
            ("fallback", fallback),
            ("fallback_path", found.as_deref()),
            ("previous", Some(previous)),
        ],
    )
}

/// After `--store` switched Docker over: record the store it replaced as our fallback,
/// move inline logins into our own store when there was none, and name the credHelpers
/// entries that are now redundant.
fn store_mode(
    out: &mut String,
    req: &Request,
    switch: &creds_store::Switch,
    docker_text: Option<&str>,
) -> Result<(), Error> {
    if let Some(previous) = &switch.previous {
        let fallback = (!previous.is_empty()).then_some(previous.as_str());
        record_fallback(out, req, previous)?;
        if fallback.is_none() && !req.dry_run {
            let logins = creds_store::inline_logins(docker_text);
            if !logins.is_empty() {
                let store =
                    ecr_login_core::docker::FileStore::new(ecr_login_core::docker::default_dir()?);
                for line in creds_store::keep_inline_logins(&store, &logins)? {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
    }
    for host in creds_store::redundant_helpers(docker_text) {
        let host = printable::line(&host);
        let _ = writeln!(
            out,
            "note: credHelpers[\"{host}\"] is now redundant for Docker (credsStore covers it); podman and skopeo still read it, so it can stay"
        );
    }
    Ok(())
}

fn update_store_settings(
    out: &mut String,
    req: &Request,
    settings: &[(&str, Option<&str>)],
) -> Result<(), Error> {
    edit_our_config(out, req, |text| ecr_config::set_store(text, settings))
}

/// Sets or removes a list under `[store]` in our config.
fn update_store_list(
    out: &mut String,
    req: &Request,
    key: &str,
    values: Option<&[String]>,
) -> Result<(), Error> {
    edit_our_config(out, req, |text| {
        ecr_config::set_store_list(text, key, values)
    })
}

/// Applies a TOML edit to our config file, refusing any result we would not load, and
/// reports what changed.
fn edit_our_config(
    out: &mut String,
    req: &Request,
    edit: impl Fn(&str) -> Result<(String, Vec<String>), ecr_config::TomlEditError>,
) -> Result<(), Error> {
    let path = config::default_path().ok_or(CommandError::NoConfigDir)?;
    let updated = user_file::update(&path, req.dry_run, &|current| {
        ecr_config::checked(&path, edit(current.unwrap_or_default()))
    })?;
    if !updated.changes.is_empty() {
        updated.describe(out, req.dry_run);
    }
    Ok(())
}

fn configure_ecr_login(out: &mut String, hosts: &[String], req: &Request) -> Result<(), Error> {
    let path = config::default_path().ok_or(CommandError::NoConfigDir)?;
    let updated = user_file::update(&path, req.dry_run, &|current| {
        let edited = ecr_config::edit(
            current.unwrap_or_default(),
            hosts,
            req.profile.as_deref(),
            req.role_arn.as_deref(),
            req.ecr.as_deref(),
        );
        ecr_config::checked(&path, edited)
    })?;
    updated.describe(out, req.dry_run);
    Ok(())
}

fn warnings(out: &mut String, docker_config: Option<&str>) {
    if find_helper("ecr-login").is_none() {
        let _ = writeln!(
            out,
            "warning: {BINARY} is not on PATH, so Docker cannot exec it; install it into a PATH directory (bash packaging/install.sh from a checkout, or the .deb, .rpm, Homebrew or Scoop package)"
        );
    }
    let store = docker_config
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| {
            v.get("credsStore")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    match store.as_deref() {
        Some(HELPER) | None => {}
        Some(other) => {
            let other = printable::line(other);
            let _ = writeln!(
                out,
                "note: credsStore \"{other}\" still stores other registries; these hosts now go to ecr-login (credHelpers wins), so remove stale ECR logins from it with `docker logout <host>` before this change if you want"
            );
        }
    }
}
