//! The protocol actions Docker and friends exec us for: `get`, `store`, `erase`, `list`.
//!
//! `get` on a cache hit is the hot path of every `docker pull`: parse, identity, one small
//! file, print. Nothing here builds a runtime or loads AWS config unless the cache misses.

use crate::cache::{Cache, Entry, STORED_IDENTITY, Source};
use crate::config::Config;
use crate::error::Error;
use crate::identity::ProcessEnv;
use crate::policy::{self, TOKEN_LIFETIME_MS};
use crate::protocol::{self, Credentials, Secret};
use crate::resolve::{self, Context, Target};
use base64::Engine;
use std::collections::BTreeMap;

/// Opens the cache, or explains on stderr why the request goes on without one.
pub fn open_cache() -> Option<Cache> {
    let dir = match crate::cache::default_dir() {
        Ok(Some(dir)) => dir,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!("{e}; continuing without the cache");
            return None;
        }
    };
    Cache::open(&dir)
        .map_err(|e| tracing::warn!("{e}; continuing without the cache"))
        .ok()
}

/// `get`: server string on stdin, credentials JSON on stdout.
pub fn get(input: &str) -> Result<Vec<u8>, Error> {
    if crate::bazel::is_request(input) {
        let config = Config::load().map_err(Error::Config)?;
        return crate::bazel::handle(input, &config, policy::now_ms());
    }
    let (server, config, target) = get_target(input)?;
    let cache = open_cache();
    let ctx = Context {
        config: &config,
        cache: cache.as_ref(),
    };
    let entry = resolve::serve(&target, &ctx, policy::now_ms())?;
    Ok(get_reply(server, entry))
}

/// `get` from the cache alone: `Ok(None)` means "needs the full binary" (a miss, an
/// unusable cache, a Bazel request). Links no AWS code, so the front binary stays small.
pub fn get_cached(input: &str) -> Result<Option<Vec<u8>>, Error> {
    if crate::bazel::is_request(input) {
        return Ok(None);
    }
    let (server, config, target) = get_target(input)?;
    let Ok(Some(dir)) = crate::cache::default_dir() else {
        return Ok(None);
    };
    let Ok(cache) = Cache::open(&dir) else {
        return Ok(None);
    };
    let ctx = Context {
        config: &config,
        cache: Some(&cache),
    };
    Ok(resolve::cached(&target, &ctx, policy::now_ms()).map(|e| get_reply(server, e)))
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
    protocol::to_line(&Credentials {
        server_url: server.to_string(),
        username: entry.username,
        secret: entry.secret,
    })
}

/// `store`, `erase` or `list`, reading stdin as the action needs. No AWS code.
pub fn cache_action(action: &str, now: i64) -> Result<Vec<u8>, Error> {
    if action == "list" {
        return list(now);
    }
    let input = protocol::read_stdin().map_err(Error::Input)?;
    match action {
        "store" => store(&input, now).map(|()| Vec::new()),
        _ => erase(&input).map(|()| Vec::new()),
    }
}

/// Writes a protocol action's reply, or reports its error; the exit code to return.
pub fn finish(result: Result<Vec<u8>, Error>) -> std::process::ExitCode {
    match result {
        Ok(reply) => {
            protocol::write_stdout(&reply);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            report(&e);
            std::process::ExitCode::FAILURE
        }
    }
}

/// Errors go on stdout, where clients look for them (SPEC Part B), and on stderr, where
/// people do. "Not found" stays quiet on stderr: it is an answer, not a failure.
pub fn report(e: &Error) {
    let line = e.to_string();
    protocol::write_stdout(format!("{line}\n").as_bytes());
    if *e != Error::NotFound {
        crate::cli::eprint_error(&line);
    }
}

/// Logs go to stderr; `ECR_LOGIN_LOG` takes `error`, `warn` (default), `info`, `debug` or
/// `trace`, or per-target directives such as `ecr_login=debug,aws_config=info`.
pub fn init_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let spec = std::env::var("ECR_LOGIN_LOG").unwrap_or_default();
    let filter = match spec.trim() {
        "" => Targets::new().with_default(LevelFilter::WARN),
        s => match s.parse::<LevelFilter>() {
            Ok(level) => Targets::new().with_default(level),
            Err(_) => s
                .parse::<Targets>()
                .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::WARN)),
        },
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
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
    let Some(cache) = open_cache() else {
        tracing::warn!("the cache is disabled, so this login is not kept");
        return Ok(());
    };
    let expires = token_expiry_ms(&creds.secret).unwrap_or(now + TOKEN_LIFETIME_MS);
    let entry = Entry {
        registry: target.login_registry(),
        server: target.authority.to_string(),
        identity: STORED_IDENTITY.into(),
        env_profile: None,
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
    if let Some(cache) = open_cache() {
        cache.remove_registry(&target.login_registry());
        cache.remove_registry(target.registry.host());
    }
    Ok(())
}

/// `list`: the still-servable entries, from the cache only.
pub fn list(now: i64) -> Result<Vec<u8>, Error> {
    let config = Config::load().map_err(Error::Config)?;
    let mut out = BTreeMap::new();
    if let Some(cache) = open_cache() {
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
    Ok(protocol::to_line(&out))
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
