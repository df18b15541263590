//! The docker credential helper protocol's actions: `get`, `store`, `erase`, `list`.
//!
//! `get` on a cache hit is the hot path of every `docker pull`: parse the host, read our
//! config, compute the identity (the AWS variables and a hash of the small profile files),
//! read the entry (and stat what it requires), print. Nothing here builds a runtime or
//! talks to AWS: a miss goes to the [`Fetcher`] the binary passes (the full binary's calls
//! AWS; the front binary's hands the request to the full binary).

pub(crate) mod fallback;
pub(crate) mod file_store;
pub(crate) mod protocol;

use crate::frontends::error::Error;
use crate::frontends::output::{Reply, json_line};
use crate::secret::Secret;
use crate::token::cache::{Entry, STORED_IDENTITY, Source};
use crate::token::fetch::Fetcher;
use crate::token::policy::{self, TOKEN_LIFETIME_MS};
use crate::token::resolve::{self, Context, Route};
use base64::Engine;
use fallback::Fallback;
use protocol::{Credentials, Request};
use std::collections::{BTreeSet, HashMap};

/// Answers one request: `get` from the cache (or `fetcher` on a miss), `store` and `erase`
/// in the cache, `list` from the cache and the fallback. Registries that are not ours go
/// to the fallback.
pub(crate) fn handle(
    request: &Request,
    ctx: &Context,
    fetcher: &dyn Fetcher,
    now: i64,
) -> Result<Reply, Error> {
    let Some(server) = request.server() else {
        return list(ctx, now).map(Reply::Answer);
    };
    let route = match owner(server, ctx)? {
        Owner::Ours(route) => route,
        Owner::Elsewhere(fallback) => return fallback.answer(request),
    };
    match request {
        Request::Get(_) => get(server, route, ctx, fetcher, now),
        Request::Store { login, .. } => store(login, &route, ctx, now),
        Request::Erase(_) => erase(&route, ctx),
        Request::List => list(ctx, now),
    }
    .map(Reply::Answer)
}

/// Where a server string goes: our target, or the fallback.
enum Owner {
    Ours(Route),
    Elsewhere(Fallback),
}

/// Whose server this is: ours (an ECR registry or an alias), or the fallback's.
fn owner(server: &str, ctx: &Context) -> Result<Owner, Error> {
    if server.is_empty() {
        return Err(Error::Input("no credentials server URL".into()));
    }
    match Route::of(server, ctx.config) {
        Some(route) => Ok(Owner::Ours(route)),
        None => Fallback::from_config(ctx.config).map(Owner::Elsewhere),
    }
}

/// `get`: server string in, credentials JSON out.
fn get(
    server: &str,
    route: Route,
    ctx: &Context,
    fetcher: &dyn Fetcher,
    now: i64,
) -> Result<Vec<u8>, Error> {
    let target = ctx.target(route)?;
    let entry = resolve::serve(&target, ctx, fetcher, now).map_err(super::token_error)?;
    Ok(json_line(&Credentials {
        server_url: server.to_string(),
        username: entry.username,
        secret: entry.secret,
    }))
}

/// `store`: keep what `docker login` hands over for an ECR registry, so the login keeps
/// working with the helper configured.
fn store(login: &Credentials, route: &Route, ctx: &Context, now: i64) -> Result<Vec<u8>, Error> {
    let Some(cache) = ctx.cache() else {
        tracing::warn!("the cache is disabled, so this login is not kept");
        return Ok(Vec::new());
    };
    let expires = token_expiry_ms(&login.secret).unwrap_or(now + TOKEN_LIFETIME_MS);
    let entry = Entry {
        registry: route.login_registry(),
        server: route.authority.to_string(),
        identity: STORED_IDENTITY.into(),
        signer: STORED_IDENTITY.into(),
        aws_env: Default::default(),
        requires: Vec::new(),
        username: login.username.clone(),
        secret: login.secret.clone(),
        source: Source::Stored,
        issued_at_ms: (expires - TOKEN_LIFETIME_MS).min(now),
        fetched_at_ms: now,
        expires_at_ms: expires,
        token_expires_at_ms: expires,
        proxy_endpoint: None,
    };
    cache.write(&entry)?;
    Ok(Vec::new())
}

/// An ECR password is base64 of a JSON object carrying `expiration` in epoch seconds
/// (observed, not documented). `None` for anything else.
pub(crate) fn token_expiry_ms(secret: &Secret) -> Option<i64> {
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

/// `erase`: forget every entry for an ECR registry (stored and fetched, all identities).
fn erase(route: &Route, ctx: &Context) -> Result<Vec<u8>, Error> {
    if let Some(cache) = ctx.cache() {
        cache.remove_registries(&[&route.login_registry(), route.registry.host()]);
    }
    Ok(Vec::new())
}

/// `list`: the ECR registries whose `get` the cache answers now, for the identity this
/// environment signs as, with the fallback's logins. Never one whose `get` would fetch: a
/// build lists, then gets each, and stops on a failing `get` (issue 28: docker-py's
/// `get_all_credentials`, and the docker CLI's `GetAllCredentials`, whose `credsStore` part
/// the not-found text does not save). A fallback that cannot list is a warning: ours are
/// still an answer.
fn list(ctx: &Context, now: i64) -> Result<Vec<u8>, Error> {
    let mut out = match Fallback::from_config(ctx.config).and_then(|f| f.list()) {
        Ok(theirs) => theirs,
        Err(e) => {
            tracing::warn!("{e}; listing ECR registries only");
            Default::default()
        }
    };
    if let Some(cache) = ctx.cache() {
        let (entries, problems) = cache.entries();
        for p in problems {
            tracing::warn!("{p}");
        }
        let servable: HashMap<String, &Entry> = entries
            .iter()
            .filter(|e| policy::servable(e, now, ctx.config.cache.min_remaining))
            .map(|e| (e.key(), e))
            .collect();
        let registries: BTreeSet<&str> = entries.iter().map(|e| e.registry.as_str()).collect();
        for registry in registries {
            if let Some(served) = served_from(registry, &servable, ctx) {
                out.insert(format!("https://{registry}"), served.username.clone());
            }
        }
    }
    Ok(json_line(&out))
}

/// The entry among `servable` (by key) that `get` of `server` would answer with now, as
/// [`resolve::cached`] picks it: a `docker login` first, then this identity's token.
fn served_from<'a>(
    server: &str,
    servable: &HashMap<String, &'a Entry>,
    ctx: &Context,
) -> Option<&'a Entry> {
    let target = ctx.target(Route::of(server, ctx.config)?).ok()?;
    let login = target.identity.accepts_stored.then(|| target.login_key());
    login
        .into_iter()
        .chain([target.key()])
        .find_map(|key| servable.get(&key).copied())
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
