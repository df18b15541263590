//! What to keep warm: the config's `keep_warm` plus every fetched entry `get` used within
//! `forget_after`, each re-resolved as `get` would resolve it now.

use super::schedule::forgotten;
use ecr_login_core::cache::{Cache, Entry, Source};
use ecr_login_core::config::Config;
use ecr_login_core::env::{Env, WithAwsVars};
use ecr_login_core::identity::Key;
use ecr_login_core::resolve::{Route, Target};
use std::collections::HashMap;

/// A registry to keep warm, as `get` would resolve it, with its current entry.
#[derive(Debug, Clone)]
pub(crate) struct Warm {
    pub(crate) target: Target,
    /// The target's cache key, hashed once.
    pub(crate) key: String,
    pub(crate) entry: Option<Entry>,
}

/// Everything to keep warm. Each entry is renewed as exactly the source that fetched it:
/// its recorded AWS variables, with the files as they are now, must name the same identity
/// again. Entries it cannot reproduce (environment keys or a container token it never
/// recorded, files edited since, a changed config) are left to expire.
pub(crate) fn warm_set(config: &Config, cache: &Cache, env: &dyn Env, now: i64) -> Vec<Warm> {
    let mut warm: HashMap<String, Warm> = HashMap::new();
    for host in &config.daemon.keep_warm {
        match Route::of(host, config).map(|r| r.target(env, cache.key())) {
            Some(target) => {
                let key = target.key();
                let entry = cache.read(&key).ok().flatten();
                warm.insert(key.clone(), Warm { target, key, entry });
            }
            None => tracing::warn!(
                "daemon.keep_warm: {host} is not an ECR registry (nor an alias in the config)"
            ),
        }
    }
    let (entries, problems) = cache.entries();
    for p in problems {
        tracing::debug!("{p}");
    }
    for entry in entries {
        let key = entry.key();
        if entry.source != Source::Fetched || warm.contains_key(&key) {
            continue;
        }
        let used = cache
            .last_used(&key)
            .map_or(entry.fetched_at_ms, ecr_login_core::clock::epoch_ms);
        if forgotten(used, now, config.daemon.forget_after) {
            continue;
        }
        match reproduce(&entry, config, env, cache.key()) {
            Some(target) => {
                warm.insert(
                    key.clone(),
                    Warm {
                        target,
                        key,
                        entry: Some(entry),
                    },
                );
            }
            None => tracing::debug!(
                "not renewing {} for {}: this process cannot act as that identity",
                entry.registry,
                entry.signer
            ),
        }
    }
    let mut list: Vec<Warm> = warm.into_values().collect();
    list.sort_by(|a, b| a.target.registry.host().cmp(b.target.registry.host()));
    list
}

/// The target that fetches `entry` again as the same identity: its recorded AWS variables
/// (and, for environment keys or a container token, which are never recorded, this
/// process's own secrets, if they are the same ones), with the files as they are now. The
/// identity key decides: it holds hashes of the secrets and of the files' content.
fn reproduce(entry: &Entry, config: &Config, env: &dyn Env, key: &Key) -> Option<Target> {
    [false, true].into_iter().find_map(|base_secrets| {
        let env = WithAwsVars::new(&entry.aws_env, env, base_secrets);
        Route::of(&entry.server, config)
            .map(|r| r.target(&env, key))
            .filter(|t| t.key() == entry.key())
    })
}
