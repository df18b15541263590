//! `doctor`: every link from the client to ECR, checked in the order a `docker pull` takes
//! them, one line each (pass, warn, fail or skip), and under anything that does not pass the
//! command or edit that fixes it. It answers "Docker said no basic auth credentials: why?"
//! without a debug log.
//!
//! It reuses the token path's own pieces (host parser, config, identity, cache, policy, the
//! SDK setup, the HTTPS client, the daemon's state) so what it reports is what `get` would
//! do: the network links are read off a real token request and one request for the
//! server's clock, each bounded, so a black-holed endpoint costs seconds, not minutes;
//! `--offline` makes none. Nothing it prints holds a secret: it shows labels, paths, hosts
//! and the typed errors' lines, and proxy URLs without their user information.

mod binary;
mod containers;
mod deadline;
mod discover;
mod docker;
mod endpoint;
mod json_file;
mod kubelet;
mod local;
mod network;
mod process;
mod registry;
mod report;
mod sessions;
mod token;
mod way;

use deadline::Deadline;
use ecr_login_core::cache::{Cache, CacheError};
use ecr_login_core::config::{Config, ConfigError};
use ecr_login_core::output;
use report::{Check, Group, Status};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `doctor --kubelet [CONFIG] [--bin-dir DIR] [--image IMAGE]`: the kubelet's section alone;
/// exit 1 when a check failed.
pub(crate) fn run_kubelet(
    config: Option<&Path>,
    bin_dir: Option<&Path>,
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

/// This machine's pieces, read once: the configs, the cache and the daemon's state.
struct Setup {
    config: Result<Config, ConfigError>,
    /// The config, or the defaults where it cannot be read (that is reported once).
    usable: Config,
    docker: docker::DockerConfig,
    cache_dir: Result<Option<PathBuf>, CacheError>,
    /// Opened only if it exists: doctor creates nothing offline.
    cache: Option<Cache>,
    state: Option<crate::renew::state::State>,
    running: bool,
}

impl Setup {
    fn read() -> Setup {
        let config = Config::load();
        let cache_dir = ecr_login_core::cache::default_dir();
        let dir = cache_dir.as_ref().ok().and_then(|d| d.clone());
        Setup {
            usable: config.clone().unwrap_or_default(),
            config,
            docker: docker::DockerConfig::load(),
            cache: dir
                .as_deref()
                .filter(|d| d.exists())
                .and_then(|d| Cache::open(d).ok()),
            state: dir.as_deref().and_then(crate::renew::state::State::read),
            running: dir.as_deref().is_some_and(crate::renew::state::is_running),
            cache_dir,
        }
    }

    fn dir(&self) -> Option<&Path> {
        self.cache_dir.as_ref().ok().and_then(|d| d.as_deref())
    }

    /// The token request keeps what it gets, as get does: in a cache directory made now if
    /// there is none yet (only when online: --offline creates nothing).
    fn make_cache(&mut self, offline: bool) {
        if let (None, Some(dir), false) = (&self.cache, self.dir(), offline)
            && !dir.exists()
        {
            self.cache = Cache::open(dir).ok();
        }
    }
}

/// `doctor [REGISTRY...] [--json] [--offline]`: the report on stdout; exit 1 when a check
/// failed.
pub(crate) fn run(named: &[String], json: bool, offline: bool, now: i64) -> ExitCode {
    let deadline = Deadline::new();
    let mut setup = Setup::read();
    let servers = discover::registries(named, &setup.usable, &setup.docker, setup.cache.as_ref());
    let routes: Vec<docker::Reach> = servers.iter().map(|s| setup.docker.reach(s)).collect();
    let mut docker_checks = setup.docker.checks(&servers, &routes);
    docker_checks.extend(docker::desktop(
        &setup.usable,
        setup.state.as_ref(),
        setup.running,
        now,
    ));
    let mut groups = vec![
        Group::new("Helper binary", binary::checks(&deadline)),
        Group::new("Docker config", docker_checks),
        Group::new(
            "podman, skopeo, buildah",
            containers::checks(&servers, &routes),
        ),
        Group::new(
            "ecr-login config",
            local::config_checks(&setup.config, setup.docker.store_is_ours()),
        ),
    ];
    groups.extend(registries(&servers, &mut setup, offline, deadline, now));
    groups.push(Group::new(
        "Cache",
        local::cache_checks(&setup.cache_dir, setup.cache.as_ref()),
    ));
    let daemon = local::daemon_checks(
        setup.dir(),
        setup.state.as_ref(),
        setup.running,
        now,
        &deadline,
    );
    groups.push(Group::new("Daemon", daemon));
    finish(&groups, json)
}

/// Each registry's group, then the network's: a registry's group is made once its token
/// request is known, as that request clears the failure on record.
fn registries(
    servers: &[String],
    setup: &mut Setup,
    offline: bool,
    deadline: Deadline,
    now: i64,
) -> Vec<Group> {
    if servers.is_empty() {
        let none = Check::skip(
            "registry.host",
            "none to check: none configured, cached, kept warm or in Docker's credHelpers",
        );
        let fix = "docker-credential-ecr-login doctor <registry host>";
        return vec![Group::new("Registries", vec![none.fix(fix)])];
    }
    let rt = match crate::aws::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let check = Check::fail("registry.host", e.to_string());
            return vec![Group::new("Registries", vec![check])];
        }
    };
    let missing = setup.dir().is_some_and(|d| !d.exists());
    let plans: Vec<registry::Plan> = servers
        .iter()
        .map(|server| {
            let (config, cache) = (&setup.usable, setup.cache.as_ref());
            registry::plan(server, config, cache, missing, &rt, deadline.now_ms(now))
        })
        .collect();
    setup.make_cache(offline);
    let cache = setup.cache.as_ref();
    let net = network::run(&plans, &setup.usable, cache, offline, deadline, now);
    let mut groups: Vec<Group> = plans
        .into_iter()
        .map(|plan| {
            let worked = net.worked(&plan.server);
            plan.group(worked)
        })
        .collect();
    groups.extend(net.groups);
    groups
}
