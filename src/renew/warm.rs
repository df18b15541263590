//! What to keep warm: the config's `keep_warm` plus every fetched entry `get` used within
//! `forget_after`, each re-resolved as `get` would resolve it now.

use super::schedule::forgotten;
use ecr_login_core::env::Env;
use ecr_login_core::token::cache::{Cache, Entry, Source};
use ecr_login_core::token::config::Config;
use ecr_login_core::token::resolve::Target;
use std::collections::HashMap;

/// A registry to keep warm, as `get` would resolve it, with its current entry.
#[derive(Debug, Clone)]
pub struct Warm {
    pub target: Target,
    pub entry: Option<Entry>,
}

/// The daemon's environment as `get` saw it when it fetched an entry: the daemon's own,
/// with `AWS_PROFILE` as recorded in the entry.
struct EntryEnv<'a> {
    base: &'a dyn Env,
    profile: Option<&'a str>,
}

impl Env for EntryEnv<'_> {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "AWS_PROFILE" => self.profile.map(str::to_string),
            "AWS_DEFAULT_PROFILE" => None,
            _ => self.base.var(name),
        }
    }
}

/// Everything to keep warm. Entries whose identity the daemon cannot reproduce
/// (environment keys it does not have, a changed config) are left to expire.
pub fn warm_set(config: &Config, cache: &Cache, env: &dyn Env, now: i64) -> Vec<Warm> {
    let mut warm: HashMap<String, Warm> = HashMap::new();
    for host in &config.daemon.keep_warm {
        match Target::resolve(host, config, env) {
            Ok(target) => {
                let entry = cache.read(&target.key()).ok().flatten();
                warm.insert(target.key(), Warm { target, entry });
            }
            Err(e) => tracing::warn!("daemon.keep_warm: {host}: {e}"),
        }
    }
    let (entries, problems) = cache.entries();
    for p in problems {
        tracing::debug!("{p}");
    }
    for entry in entries {
        if entry.source != Source::Fetched || warm.contains_key(&entry.key()) {
            continue;
        }
        let used = cache
            .last_used(&entry.key())
            .map_or(entry.fetched_at_ms, ecr_login_core::clock::epoch_ms);
        if forgotten(used, now, config.daemon.forget_after) {
            continue;
        }
        let env = EntryEnv {
            base: env,
            profile: entry.env_profile.as_deref(),
        };
        match Target::resolve(&entry.server, config, &env) {
            Ok(target) if target.key() == entry.key() => {
                warm.insert(
                    entry.key(),
                    Warm {
                        target,
                        entry: Some(entry),
                    },
                );
            }
            _ => tracing::debug!(
                "not renewing {} for {}: the daemon cannot act as that identity",
                entry.registry,
                entry.identity
            ),
        }
    }
    let mut list: Vec<Warm> = warm.into_values().collect();
    list.sort_by(|a, b| a.target.registry.host().cmp(b.target.registry.host()));
    list
}
