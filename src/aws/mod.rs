//! The AWS fetcher: the only code that talks to AWS. It runs on a cache miss only, in the
//! full binary, so the tokio runtime, the AWS config load and the TLS roots cost nothing on
//! a hit.
//!
//! Credentials come from the AWS SDK's own loader (profiles, SSO, credential_process, web
//! identity, `AWS_ENDPOINT_URL_ECR`…), with our per-registry profile and role on top
//! ([`sdk`]). Every failure becomes a typed [`FetchError`] ([`classify`]).

pub(crate) mod classify;
pub(crate) mod discover;
pub(crate) mod mfa;
pub(crate) mod patient;
pub(crate) mod sdk;
pub(crate) mod source;
pub(crate) mod transport;

use ecr_login_core::fetch::{BUDGET_GRACE, FetchError, FetchRequest, Fetched, Fetcher};

/// Fetches tokens with the AWS SDK, on a fresh current-thread runtime per request (the
/// caller is synchronous: `get`, or one of the daemon's blocking threads).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AwsFetcher;

impl Fetcher for AwsFetcher {
    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, FetchError> {
        runtime()
            .map_err(|e| FetchError::Other {
                detail: e.to_string(),
            })?
            .block_on(fetch_async(request))
    }
}

pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot start the async runtime: {e}")))
}

/// One token request, bounded as a whole by the request's timeout (the SDK's own timeouts
/// bound each attempt; this bounds retries and credential resolution together).
pub(crate) async fn fetch_async(request: &FetchRequest<'_>) -> Result<Fetched, FetchError> {
    fetch_async_with(request, sdk::ATTEMPTS).await
}

/// [`fetch_async`], the SDK making at most `attempts` tries per call.
pub(crate) async fn fetch_async_with(
    request: &FetchRequest<'_>,
    attempts: u32,
) -> Result<Fetched, FetchError> {
    let timeout = request.timeout;
    let work = async {
        let env = sdk::env(request.identity);
        let sdk =
            sdk::load_with(request.registry, request.identity, &env, timeout, attempts).await?;
        let signing = sdk::credentials(&sdk, request, &env).await?;
        let token = sdk::get_token(&sdk, request.registry, signing.provider)
            .await
            .map_err(|e| classify::api(e, request.identity, timeout))?;
        let (username, secret) = sdk::decode_token(&token.token)?;
        let mut signer = source::describe(request.identity, &env).await;
        if let Some(session) = &signing.mfa {
            // The session ends the token, and logging it out (removing the file) too.
            signer.label.push_str(&format!(
                " mfa-session-until:{}",
                ecr_login_core::clock::rfc3339(session.expires_at_ms)
            ));
            signer.requires.push(session.path.clone());
        }
        Ok(Fetched {
            signer: Some(signer.label),
            requires: signer.requires,
            username,
            secret,
            token_expires_at_ms: token.expires_at_ms,
            credentials_expire_at_ms: signing.expires_at_ms,
            proxy_endpoint: token.proxy_endpoint,
        })
    };
    tokio::time::timeout(timeout + BUDGET_GRACE, work)
        .await
        .unwrap_or(Err(FetchError::TimedOut {
            after_ms: timeout.as_millis() as u64,
        }))
}
