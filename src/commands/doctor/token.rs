//! The real GetAuthorizationToken, through the token path `get` takes
//! ([`resolve::obtain`]: the entry's lock, the fetch, the failure record, the cache write).
//! Doctor keeps what it gets: a fresh entry in the cache, and a failure on record cleared
//! (or recorded) exactly as `get` would, so a passing doctor leaves the next pull a hit.
//! It never serves the cached entry instead: it always asks ECR. How it failed is the typed
//! [`FetchError`], which the network checks read the way to the endpoint from.

use super::deadline::Deadline;
use super::report::Check;
use super::sessions::flag;
use super::way;
use crate::aws::{AwsFetcher, transport};
use ecr_login_core::cache::{Cache, Entry};
use ecr_login_core::clock::rfc3339;
use ecr_login_core::config::Config;
use ecr_login_core::duration::human;
use ecr_login_core::env::ProcessEnv;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::resolve::{self, Context, Target, TokenError, Write};
use std::time::{Duration, Instant};

/// What the lock wait and the fetcher's grace may add to a request's timeout.
const SLACK: Duration = Duration::from_millis(1200);

/// What doctor's own token request came to.
pub(crate) enum Asked {
    /// Not made, and why.
    NotTried(String),
    Answered {
        entry: Entry,
        took: Duration,
        /// When it was asked (epoch ms).
        at: i64,
        kept: bool,
    },
    Failed {
        error: FetchError,
        /// Whether doctor cut the config's timeout to end within its own bound.
        cut: bool,
    },
    /// Fetched, but the cache would not keep it.
    NotKept(TokenError),
}

pub(crate) fn request(
    target: &Target,
    config: &Config,
    cache: Option<&Cache>,
    deadline: &Deadline,
    now: i64,
) -> Asked {
    let left = deadline.left().saturating_sub(SLACK);
    if left < Duration::from_millis(500) {
        return Asked::NotTried("not tried: doctor's time ran out".into());
    }
    let mut config = config.clone();
    let cut = config.timeout > left;
    config.timeout = config.timeout.min(left);
    let ctx = Context::new(&config, cache, &ProcessEnv);
    let started = Instant::now();
    let at = deadline.now_ms(now);
    match resolve::obtain(target, &ctx, &AwsFetcher, at, &|_| false, Write::Required) {
        Ok(entry) => Asked::Answered {
            entry,
            took: started.elapsed(),
            at,
            kept: cache.is_some(),
        },
        Err(TokenError::Fetch { error, .. }) => Asked::Failed { error, cut },
        Err(e) => Asked::NotKept(e),
    }
}

impl Asked {
    pub(crate) fn worked(&self) -> bool {
        matches!(self, Asked::Answered { .. })
    }

    pub(crate) fn failure(&self) -> Option<&FetchError> {
        match self {
            Asked::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn check(&self, target: &Target) -> Check {
        match self {
            Asked::NotTried(why) => Check::skip("network.token", why.clone()),
            Asked::Answered {
                entry,
                took,
                at,
                kept,
            } => Check::pass(
                "network.token",
                format!(
                    "GetAuthorizationToken answered in {}ms, signed by {}; the token lasts until {} (in {}), {}",
                    took.as_millis(),
                    entry.signer,
                    rfc3339(entry.expires_at_ms),
                    human(entry.expires_at_ms - at),
                    if *kept {
                        "kept in the cache: the next get is a hit"
                    } else {
                        "not kept: no usable cache"
                    }
                ),
            ),
            // The link it stopped at says why, with the fix.
            Asked::Failed { error, .. } if way::link(error).is_some() => Check::fail(
                "network.token",
                format!(
                    "it stopped on the way: see the {} check above",
                    way::link(error).unwrap_or_default()
                ),
            ),
            Asked::Failed { error, cut } => {
                let mut check = failed(error, target);
                if *cut && matches!(error, FetchError::TimedOut { .. }) {
                    check
                        .detail
                        .push_str(" (doctor cut the timeout to end within 10 s)");
                }
                check
            }
            Asked::NotKept(e) => Check::fail(
                "network.token",
                format!("the token was fetched but cannot be kept: {e}"),
            )
            .fix("see the Cache check below"),
        }
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
pub(crate) fn fix_for(error: &FetchError, target: &Target) -> Option<String> {
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
        FetchError::ProxyAuth { .. } => way::PROXY_AUTH_FIX.into(),
        FetchError::Tls { reason, .. } => transport::tls_fix(reason)?.into(),
        FetchError::ExpiredOnArrival { .. } => way::CLOCK_FIX.into(),
        _ => return None,
    })
}
