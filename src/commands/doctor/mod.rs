//! `doctor`: every link from the client to ECR, checked in the order a `docker pull` takes
//! them, one line each (pass, warn, fail or skip), and under anything that does not pass the
//! command or edit that fixes it. It answers "Docker said no basic auth credentials: why?"
//! without a debug log.
//!
//! It reuses the token path's own pieces (host parser, config, identity, cache, policy, the
//! SDK setup, the daemon's state) so what it reports is what `get` would do. The only
//! things done by hand are the network steps (DNS, TCP, TLS, the server's clock), each with
//! its own timeout, so a black-holed endpoint costs seconds, not minutes; `--offline` does
//! none of them. Nothing it prints holds a secret: it shows labels, paths, hosts and the
//! typed errors' lines, and proxy URLs without their user information.

mod binary;
mod containers;
mod discover;
mod docker;
mod json_file;
mod kubelet;
mod local;
mod network;
mod probe;
mod process;
mod registry;
mod report;
mod sessions;
mod tls;
mod token;

use ecr_login_core::cache::Cache;
use ecr_login_core::config::Config;
use ecr_login_core::output;
use serde::Serialize;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The whole run's bound: whatever the network does, doctor answers within this (the
/// issue's promise is 10 s; the rest is rendering and process exit).
const BUDGET: Duration = Duration::from_millis(9500);

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not applicable here, or not tried (offline, or an earlier link failed).
    Skip,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable, for scripts: `group.check`, e.g. `docker.route`.
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    pub status: Status,
    pub detail: String,
    /// The command or edit that fixes it; lines are alternatives or steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name,
            registry: None,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Pass, detail)
    }

    pub fn warn(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Warn, detail)
    }

    pub fn fail(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Fail, detail)
    }

    pub fn skip(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Skip, detail)
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    pub fn fix_opt(mut self, fix: Option<String>) -> Check {
        self.fix = fix;
        self
    }

    pub fn registry(mut self, registry: &str) -> Check {
        self.registry = Some(registry.to_string());
        self
    }
}

/// Checks under one heading: one link of the chain.
#[derive(Debug, Clone)]
pub struct Group {
    pub title: String,
    pub checks: Vec<Check>,
}

impl Group {
    fn new(title: impl Into<String>, checks: Vec<Check>) -> Group {
        Group {
            title: title.into(),
            checks,
        }
    }
}

/// The run's clock for timeouts: every network step is bounded by its own limit and by
/// what is left of [`BUDGET`].
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    started: Instant,
    end: Instant,
}

impl Deadline {
    fn new() -> Deadline {
        let started = Instant::now();
        Deadline {
            started,
            end: started + BUDGET,
        }
    }

    /// `limit`, or what is left of the budget if that is less (never zero).
    pub fn step(&self, limit: Duration) -> Duration {
        limit
            .min(self.end.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1))
    }

    pub fn left(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// Wall-clock now, from the run's one reading of the clock and the time since.
    pub fn now_ms(&self, now: i64) -> i64 {
        now.saturating_add(self.started.elapsed().as_millis() as i64)
    }
}

/// `doctor --kubelet [CONFIG] [--bin-dir DIR] [--image IMAGE]`: the kubelet's section alone;
/// exit 1 when a check failed.
pub fn run_kubelet(
    config: Option<&std::path::Path>,
    bin_dir: Option<&std::path::Path>,
    image: Option<&str>,
    json: bool,
    offline: bool,
) -> ExitCode {
    let deadline = Deadline::new();
    let groups = vec![kubelet::group(config, bin_dir, image, offline, &deadline)];
    finish(&groups, json)
}

fn finish(groups: &[Group], json: bool) -> ExitCode {
    let version = env!("CARGO_PKG_VERSION");
    let failed = groups
        .iter()
        .flat_map(|g| &g.checks)
        .any(|c| c.status == Status::Fail);
    let text = if json {
        report::json(version, groups)
    } else {
        report::human(version, groups, report::Style::detect())
    };
    let code = if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    output::written(output::write_stdout(text.as_bytes()), code)
}

/// `doctor [REGISTRY...] [--json] [--offline]`: the report on stdout; exit 1 when a check
/// failed.
pub fn run(named: &[String], json: bool, offline: bool, now: i64) -> ExitCode {
    let deadline = Deadline::new();
    let config = Config::load();
    let usable = config.clone().unwrap_or_default();
    let docker = docker::DockerConfig::load();
    let cache_dir = ecr_login_core::cache::default_dir();
    let cache = match &cache_dir {
        // Opened only if it exists: doctor creates nothing.
        Ok(Some(dir)) if dir.exists() => Cache::open(dir).ok(),
        _ => None,
    };
    let cache_path = cache_dir.as_ref().ok().and_then(|d| d.clone());
    let cache_missing = cache_path.as_ref().is_some_and(|d| !d.exists());
    let state = cache_path
        .as_deref()
        .and_then(crate::renew::state::State::read);
    let running = cache_path
        .as_deref()
        .is_some_and(crate::renew::state::is_running);

    let mut groups = vec![Group::new("Helper binary", binary::checks(&deadline))];
    let servers = discover::registries(named, &usable, &docker, cache.as_ref());
    let routes: Vec<docker::Reach> = servers.iter().map(|s| docker.reach(s)).collect();
    let mut docker_checks = docker.checks(&servers, &routes);
    docker_checks.extend(docker::desktop(&usable, state.as_ref(), running, now));
    groups.push(Group::new("Docker config", docker_checks));
    groups.push(Group::new(
        "podman, skopeo, buildah",
        containers::checks(&servers, &routes),
    ));
    groups.push(Group::new(
        "ecr-login config",
        local::config_checks(&config, &docker),
    ));
    if servers.is_empty() {
        groups.push(Group::new(
            "Registries",
            vec![
                Check::skip(
                    "registry.host",
                    "none to check: none configured, cached, kept warm or in Docker's credHelpers",
                )
                .fix("docker-credential-ecr-login doctor <registry host>"),
            ],
        ));
    }
    let plans = match crate::aws::runtime() {
        Ok(rt) => servers
            .iter()
            .map(|server| {
                let (group, plan) = registry::checks(
                    server,
                    &usable,
                    cache.as_ref(),
                    cache_missing,
                    &rt,
                    deadline.now_ms(now),
                );
                groups.push(group);
                plan
            })
            .collect(),
        Err(e) => {
            groups.push(Group::new(
                "Registries",
                vec![Check::fail("registry.host", e.to_string())],
            ));
            Vec::new()
        }
    };
    // The token request keeps what it gets, as get does: in a cache directory made now if
    // there is none yet (only when online: --offline creates nothing).
    let cache = match (&cache, &cache_path) {
        (None, Some(dir)) if !offline && !dir.exists() => Cache::open(dir).ok(),
        _ => cache,
    };
    let net = network::run(plans, &usable, cache.as_ref(), offline, deadline, now);
    for (server, worked) in &net.tokens_ok {
        // The failure on record was cleared by doctor's own successful request.
        if *worked {
            registry::resolved(&mut groups, server);
        }
    }
    groups.extend(net.groups);
    groups.push(Group::new(
        "Cache",
        local::cache_checks(&cache_dir, cache.as_ref()),
    ));
    groups.push(Group::new(
        "Daemon",
        local::daemon_checks(
            cache_path.as_deref(),
            state.as_ref(),
            running,
            now,
            &deadline,
        ),
    ));
    finish(&groups, json)
}
