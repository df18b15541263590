//! Which registries to check when none are named: those our config names (without
//! wildcards: aliases included), those kept warm or pinned, those cached, and those Docker's
//! `credHelpers` sends to us or that are ECR hosts (whatever helper they name).

use super::docker::{DockerConfig, HELPER};
use ecr_login_core::cache::{Cache, Source};
use ecr_login_core::config::Config;
use ecr_login_core::host::{Authority, Registry};

/// The registries to check, as clients name them (`host` or `host:port`), each once,
/// sorted. Named ones are kept as given (trimmed), so a bad one is reported as such.
pub(crate) fn registries(
    named: &[String],
    config: &Config,
    docker: &DockerConfig,
    cache: Option<&Cache>,
) -> Vec<String> {
    if !named.is_empty() {
        let mut out: Vec<String> = Vec::new();
        for n in named {
            // Never echoed with user information (`user:password@host`).
            let shown = Authority::parse(n).map_or_else(
                |_| ecr_login_core::redact::userinfo(n.trim()),
                |a| a.to_string(),
            );
            if !out.contains(&shown) {
                out.push(shown);
            }
        }
        return out;
    }
    let mut found: Vec<String> = Vec::new();
    found.extend(
        config
            .registries
            .iter()
            .map(|(pattern, _)| pattern.clone())
            .filter(|p| !p.contains('*')),
    );
    found.extend(config.daemon.keep_warm.iter().cloned());
    found.extend(config.store.pinned.iter().cloned());
    if let Some(cache) = cache {
        for entry in cache.entries().0 {
            found.push(match entry.source {
                Source::Fetched => entry.server,
                Source::Stored => entry.registry,
            });
        }
    }
    found.extend(
        docker
            .helpers
            .iter()
            .filter(|(host, helper)| {
                helper.as_str() == Some(HELPER) || Registry::parse(host).is_some()
            })
            .map(|(host, _)| host.clone()),
    );
    let mut out: Vec<String> = found
        .iter()
        .filter_map(|s| Authority::parse(s).ok())
        .map(|a| a.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}
