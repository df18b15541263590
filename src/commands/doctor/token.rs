//! The real GetAuthorizationToken, through the token path `get` takes
//! ([`resolve::obtain`]: the entry's lock, the fetch, the failure record, the cache write).
//! Doctor keeps what it gets: a fresh entry in the cache, and a failure on record cleared
//! (or recorded) exactly as `get` would, so a passing doctor leaves the next pull a hit.
//! It never serves the cached entry instead: it always asks ECR.

use super::{Check, Deadline};
use crate::aws::AwsFetcher;
use ecr_login_core::cache::Cache;
use ecr_login_core::clock::rfc3339;
use ecr_login_core::config::Config;
use ecr_login_core::duration::human;
use ecr_login_core::env::ProcessEnv;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::resolve::{self, Context, Target, TokenError, Write};
use std::time::{Duration, Instant};

/// What the lock wait and the fetcher's grace may add to a request's timeout.
const SLACK: Duration = Duration::from_millis(1200);

pub fn request(
    target: Target,
    config: &Config,
    cache: Option<Cache>,
    deadline: &Deadline,
    now: i64,
) -> Check {
    let left = deadline.left().saturating_sub(SLACK);
    if left < Duration::from_millis(500) {
        return Check::skip("network.token", "not tried: doctor's time ran out");
    }
    let mut config = config.clone();
    let cut = config.timeout > left;
    config.timeout = config.timeout.min(left);
    let ctx = Context::new(&config, cache.as_ref(), &ProcessEnv);
    let started = Instant::now();
    let at = deadline.now_ms(now);
    let result = resolve::obtain(&target, &ctx, &AwsFetcher, at, &|_| false, Write::Required);
    let took = started.elapsed().as_millis();
    match result {
        Ok(entry) => {
            let kept = if cache.is_some() {
                "kept in the cache: the next get is a hit"
            } else {
                "not kept: no usable cache"
            };
            Check::pass(
                "network.token",
                format!(
                    "GetAuthorizationToken answered in {took}ms, signed by {}; the token lasts until {} (in {}), {kept}",
                    entry.signer,
                    rfc3339(entry.expires_at_ms),
                    human(entry.expires_at_ms - at)
                ),
            )
        }
        Err(TokenError::Fetch { error, .. }) => {
            let mut check = failed(&error, &target);
            if cut && matches!(error, FetchError::TimedOut { .. }) {
                check
                    .detail
                    .push_str(" (doctor cut the timeout to end within 10 s)");
            }
            check
        }
        Err(e) => Check::fail(
            "network.token",
            format!("the token was fetched but cannot be kept: {e}"),
        )
        .fix("see the Cache check below"),
    }
}

fn failed(error: &FetchError, target: &Target) -> Check {
    if let FetchError::AccessDenied { identity, detail } = error {
        let principal = detail
            .split_once("User: ")
            .and_then(|(_, rest)| rest.split_once(' '))
            .map_or(identity.as_str(), |(p, _)| p);
        let actions = if target.registry.is_public() {
            "ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken"
        } else {
            "ecr:GetAuthorizationToken"
        };
        return Check::fail(
            "network.token",
            format!("denied: {principal} may not call {actions} ({detail})"),
        )
        .fix(format!(
            "allow {actions} on \"*\" for {principal} (an IAM policy on the user or role)"
        ));
    }
    Check::fail("network.token", error.to_string()).fix_opt(fix_for(error, target))
}

/// The command that fixes a failed token request, where one command does.
pub fn fix_for(error: &FetchError, target: &Target) -> Option<String> {
    let flag = |p: &str| {
        if p == "default" {
            String::new()
        } else {
            format!(" --profile {p}")
        }
    };
    Some(match error {
        FetchError::SsoExpired { profile } => format!("aws sso login{}", flag(profile)),
        FetchError::LoginExpired { profile } => format!("aws login{}", flag(profile)),
        FetchError::MfaRequired { profile, .. } => format!("ecr-login login --profile {profile}"),
        FetchError::NoCredentials { .. } | FetchError::CredentialsTimedOut { .. } => format!(
            "aws configure   (or aws sso login, or export AWS_PROFILE=<name>)\n(or: docker-credential-ecr-login configure {} --profile <name>)",
            target.authority
        ),
        FetchError::CredentialsRejected { profile, .. } => format!(
            "aws sso login{}   (or new keys: aws configure)",
            flag(profile.as_deref().unwrap_or("default"))
        ),
        FetchError::ProxyAuth { .. } => {
            "HTTPS_PROXY=http://USER:PASSWORD@host:port   (percent-encode special characters)"
                .into()
        }
        FetchError::Tls { .. } => "set AWS_CA_BUNDLE to your organisation's CA bundle".into(),
        FetchError::ExpiredOnArrival { .. } => {
            "sync the clock: sudo timedatectl set-ntp true (Linux), or set the time automatically"
                .into()
        }
        _ => return None,
    })
}
