//! The docker credential helper protocol's actions: `get`, `store`, `erase`, `list`.
//!
//! `get` on a cache hit is the hot path of every `docker pull`: parse, identity, one small
//! file, print. Nothing here builds a runtime or loads AWS config; a miss needs a
//! [`Fetcher`], which only the full binary has.

pub mod protocol;

use crate::env::ProcessEnv;
use crate::error::Error;
use crate::output::json_line;
use crate::secret::Secret;
use crate::token::cache::{Cache, Entry, STORED_IDENTITY, Source};
use crate::token::config::Config;
use crate::token::fetch::Fetcher;
use crate::token::policy::{self, TOKEN_LIFETIME_MS};
use crate::token::resolve::{self, Context, Target};
use base64::Engine;
use protocol::Credentials;
use std::collections::BTreeMap;

/// `get`: server string in, credentials JSON out, fetching on a miss.
pub fn get(input: &str, fetcher: &dyn Fetcher, now: i64) -> Result<Vec<u8>, Error> {
    let (server, config, target) = get_target(input)?;
    let cache = Cache::from_env_or_warn();
    let ctx = Context {
        config: &config,
        cache: cache.as_ref(),
    };
    let entry = resolve::serve(&target, &ctx, fetcher, now)?;
    Ok(get_reply(server, entry))
}

/// `get` from the cache alone: `Ok(None)` means "needs the full binary" (a miss or an
/// unusable cache). Quiet: anything worth a warning is a miss, and the full binary says
/// it once.
pub fn get_cached(input: &str, now: i64) -> Result<Option<Vec<u8>>, Error> {
    let (server, config, target) = get_target(input)?;
    let Ok(Some(cache)) = Cache::from_env() else {
        return Ok(None);
    };
    let ctx = Context {
        config: &config,
        cache: Some(&cache),
    };
    Ok(resolve::cached(&target, &ctx, now).map(|e| get_reply(server, e)))
}

fn get_target(input: &str) -> Result<(&str, Config, Target), Error> {
    let server = input.trim();
    if server.is_empty() {
        return Err(Error::Input("no credentials server URL".into()));
    }
    let config = Config::load().map_err(Error::Config)?;
    let target = Target::resolve(server, &config, &ProcessEnv)?;
    Ok((server, config, target))
}

fn get_reply(server: &str, entry: Entry) -> Vec<u8> {
    json_line(&Credentials {
        server_url: server.to_string(),
        username: entry.username,
        secret: entry.secret,
    })
}

/// `store`, `erase` or `list` with its stdin. No AWS code.
pub fn cache_action(action: &str, input: &str, now: i64) -> Result<Vec<u8>, Error> {
    match action {
        "store" => store(input, now).map(|()| Vec::new()),
        "erase" => erase(input).map(|()| Vec::new()),
        _ => list(now),
    }
}

/// `store`: keep what `docker login` hands over, so the login keeps working with the helper
/// configured. Non-ECR hosts are a no-op success, so logins elsewhere never break.
pub fn store(input: &str, now: i64) -> Result<(), Error> {
    let creds: Credentials = serde_json::from_str(input.trim()).map_err(|e| {
        Error::Input(format!(
            "store expects {{\"ServerURL\":…,\"Username\":…,\"Secret\":…}} on standard input: {e}"
        ))
    })?;
    if creds.server_url.trim().is_empty() {
        return Err(Error::Input("no credentials server URL".into()));
    }
    if creds.username.is_empty() {
        return Err(Error::Input("no credentials username".into()));
    }
    let config = Config::load().map_err(Error::Config)?;
    let target = match Target::resolve(&creds.server_url, &config, &ProcessEnv) {
        Ok(t) => t,
        Err(Error::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let Some(cache) = Cache::from_env_or_warn() else {
        tracing::warn!("the cache is disabled, so this login is not kept");
        return Ok(());
    };
    let expires = token_expiry_ms(&creds.secret).unwrap_or(now + TOKEN_LIFETIME_MS);
    let entry = Entry {
        registry: target.login_registry(),
        server: target.authority.to_string(),
        identity: STORED_IDENTITY.into(),
        signer: STORED_IDENTITY.into(),
        aws_env: Default::default(),
        requires: Vec::new(),
        username: creds.username,
        secret: creds.secret,
        source: Source::Stored,
        issued_at_ms: (expires - TOKEN_LIFETIME_MS).min(now),
        fetched_at_ms: now,
        expires_at_ms: expires,
        token_expires_at_ms: expires,
        proxy_endpoint: None,
    };
    cache.write(&entry).map_err(Error::Other)
}

/// An ECR password is base64 of a JSON object carrying `expiration` in epoch seconds
/// (observed, not documented). `None` for anything else.
pub fn token_expiry_ms(secret: &Secret) -> Option<i64> {
    let raw = secret.expose().trim();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    let bytes = engines.iter().find_map(|e| e.decode(raw).ok())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let secs = value.get("expiration")?.as_f64()?;
    (secs > 0.0 && secs < 1e11).then_some((secs * 1000.0) as i64)
}

/// `erase`: forget every entry for the registry (stored and fetched, all identities).
pub fn erase(input: &str) -> Result<(), Error> {
    let server = input.trim();
    if server.is_empty() {
        return Err(Error::Input("no credentials server URL".into()));
    }
    let config = Config::load().map_err(Error::Config)?;
    let target = match Target::resolve(server, &config, &ProcessEnv) {
        Ok(t) => t,
        Err(Error::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    if let Some(cache) = Cache::from_env_or_warn() {
        cache.remove_registry(&target.login_registry());
        cache.remove_registry(target.registry.host());
    }
    Ok(())
}

/// `list`: the still-servable entries, from the cache only.
pub fn list(now: i64) -> Result<Vec<u8>, Error> {
    let config = Config::load().map_err(Error::Config)?;
    let mut out = BTreeMap::new();
    if let Some(cache) = Cache::from_env_or_warn() {
        let (entries, problems) = cache.entries();
        for p in problems {
            tracing::warn!("{p}");
        }
        for e in entries {
            if policy::servable(&e, now, config.cache.min_remaining) {
                out.insert(format!("https://{}", e.registry), e.username);
            }
        }
    }
    Ok(json_line(&out))
}

pub fn version_line() -> String {
    format!(
        "docker-credential-ecr-login (ecr-login) {}\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_password_expiry_is_read() {
        let payload = r#"{"payload":"x","datakey":"y","version":"2","type":"DATA_KEY","expiration":1800000000}"#;
        let secret = Secret::new(base64::engine::general_purpose::STANDARD.encode(payload));
        assert_eq!(token_expiry_ms(&secret), Some(1_800_000_000_000));
        assert_eq!(token_expiry_ms(&Secret::new("plain-password")), None);
        let no_exp = base64::engine::general_purpose::STANDARD.encode(r#"{"a":1}"#);
        assert_eq!(token_expiry_ms(&Secret::new(no_exp)), None);
    }
}
