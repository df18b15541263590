//! The docker credential helper protocol's actions: `get`, `store`, `erase`, `list`.
//!
//! `get` on a cache hit is the hot path of every `docker pull`: parse the host, read our
//! config, compute the identity (the AWS variables and a hash of the small profile files),
//! read the entry (and stat what it requires), print. Nothing here builds a runtime or
//! talks to AWS; a miss needs a [`Fetcher`], which only the full binary has.

pub mod fallback;
pub mod file_store;
pub mod protocol;

use crate::env::ProcessEnv;
use crate::error::Error;
use crate::output::{self, Protocol, json_line};
use crate::secret::Secret;
use crate::token::cache::{Cache, Entry, STORED_IDENTITY, Source};
use crate::token::config::Config;
use crate::token::fetch::Fetcher;
use crate::token::policy::{self, TOKEN_LIFETIME_MS};
use crate::token::resolve::{self, Context, Route};
use base64::Engine;
use fallback::{Fallback, parse_store};
use protocol::Credentials;
use std::process::ExitCode;

/// What a request comes to.
pub enum Handled {
    /// Our answer (or our error), for stdout.
    Ours(Result<Vec<u8>, Error>),
    /// A cache miss the front binary leaves to the full one.
    Miss,
    /// Not ECR: the fallback store answers, byte for byte.
    Elsewhere(Fallback),
}

impl Handled {
    /// Tells the answer; `miss` runs on a miss.
    pub fn finish(self, action: &str, input: &str, miss: impl FnOnce() -> ExitCode) -> ExitCode {
        match self {
            Handled::Ours(result) => output::finish(Protocol::Docker, result),
            Handled::Miss => miss(),
            Handled::Elsewhere(fallback) => fallback.answer(action, input),
        }
    }
}

/// Where a server string goes: our target, or the fallback.
enum Owner {
    Ours(Box<(Config, Route)>),
    Elsewhere(Fallback),
}

/// Whose server this is: ours (an ECR registry or an alias), or the fallback's.
fn owner(server: &str) -> Result<Owner, Error> {
    let server = server.trim();
    if server.is_empty() {
        return Err(Error::Input("no credentials server URL".into()));
    }
    let config = Config::load()?;
    match Route::of(server, &config) {
        Ok(route) => Ok(Owner::Ours(Box::new((config, route)))),
        Err(Error::NotFound) => Fallback::from_config(&config).map(Owner::Elsewhere),
        Err(e) => Err(e),
    }
}

/// `get`: server string in, credentials JSON out. With no fetcher (the front binary) a
/// miss is [`Handled::Miss`]; quietly, since the full binary says whatever is worth a
/// warning once.
pub fn get(input: &str, fetcher: Option<&dyn Fetcher>, now: i64) -> Handled {
    let (config, route) = match owner(input) {
        Ok(Owner::Ours(ours)) => *ours,
        Ok(Owner::Elsewhere(fallback)) => return Handled::Elsewhere(fallback),
        Err(e) => return Handled::Ours(Err(e)),
    };
    let server = input.trim();
    let reply = |entry: Entry| get_reply(server, entry);
    // The cache is opened before the identity is computed: its key fingerprints secrets.
    match fetcher {
        None => {
            let Ok(Some(cache)) = Cache::from_env() else {
                return Handled::Miss;
            };
            let target = route.target(&ProcessEnv);
            let ctx = Context::process(&config, Some(&cache));
            match resolve::cached(&target, &ctx, now) {
                Some(entry) => Handled::Ours(Ok(reply(entry))),
                None => Handled::Miss,
            }
        }
        Some(fetcher) => {
            let cache = Cache::from_env_or_warn();
            let target = route.target(&ProcessEnv);
            let ctx = Context::process(&config, cache.as_ref());
            Handled::Ours(resolve::serve(&target, &ctx, fetcher, now).map(reply))
        }
    }
}

fn get_reply(server: &str, entry: Entry) -> Vec<u8> {
    json_line(&Credentials {
        server_url: server.to_string(),
        username: entry.username,
        secret: entry.secret,
    })
}

/// `store`: keep what `docker login` hands over for an ECR registry, so the login keeps
/// working with the helper configured; other registries' logins go to the fallback.
pub fn store(input: &str, now: i64) -> Handled {
    let creds = match parse_store(input) {
        Ok(c) => c,
        Err(e) => return Handled::Ours(Err(e)),
    };
    match owner(&creds.server_url) {
        Ok(Owner::Ours(ours)) => Handled::Ours(store_login(creds, &ours.1, now)),
        Ok(Owner::Elsewhere(fallback)) => Handled::Elsewhere(fallback),
        Err(e) => Handled::Ours(Err(e)),
    }
}

fn store_login(creds: Credentials, route: &Route, now: i64) -> Result<Vec<u8>, Error> {
    let Some(cache) = Cache::from_env_or_warn() else {
        tracing::warn!("the cache is disabled, so this login is not kept");
        return Ok(Vec::new());
    };
    let expires = token_expiry_ms(&creds.secret).unwrap_or(now + TOKEN_LIFETIME_MS);
    let entry = Entry {
        registry: route.login_registry(),
        server: route.authority.to_string(),
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
    cache
        .write(&entry)
        .map_err(|e| Error::Other(e.to_string()))
        .map(|()| Vec::new())
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

/// `erase`: forget every entry for an ECR registry (stored and fetched, all identities);
/// other registries' logins go to the fallback.
pub fn erase(input: &str) -> Handled {
    match owner(input) {
        Ok(Owner::Ours(ours)) => {
            let route = ours.1;
            if let Some(cache) = Cache::from_env_or_warn() {
                cache.remove_registries(&[&route.login_registry(), route.registry.host()]);
            }
            Handled::Ours(Ok(Vec::new()))
        }
        Ok(Owner::Elsewhere(fallback)) => Handled::Elsewhere(fallback),
        Err(e) => Handled::Ours(Err(e)),
    }
}

/// `list`: our still-servable entries, from the cache only, with the fallback's logins.
/// A fallback that cannot list is a warning: ours are still an answer.
pub fn list(now: i64) -> Result<Vec<u8>, Error> {
    let config = Config::load()?;
    let mut out = match Fallback::from_config(&config).and_then(|f| f.list()) {
        Ok(theirs) => theirs,
        Err(e) => {
            tracing::warn!("{e}; listing ECR registries only");
            Default::default()
        }
    };
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
