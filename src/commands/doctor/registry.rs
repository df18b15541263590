//! One registry, offline: the parsed host, who would sign (the identity's label, never its
//! key), where the credentials come from and whether their session is still there (SSO,
//! `aws login`, an MFA role: [`super::sessions`]), the region, the cached entry, and the
//! last failed token request on record, which is what `get` told Docker the last time.

use super::endpoint::{self, Endpoint, EndpointError};
use super::report::{Check, Group, Status};
use super::sessions;
use super::token;
use crate::aws::{sdk, source};
use ecr_login_core::cache::Cache;
use ecr_login_core::clock::rfc3339;
use ecr_login_core::config::Config;
use ecr_login_core::duration::human;
use ecr_login_core::env::ProcessEnv;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::host::{Authority, Registry};
use ecr_login_core::identity::Key;
use ecr_login_core::policy;
use ecr_login_core::resolve::{Route, Target};

/// A registry's offline checks, and what the network checks need of it.
pub(crate) struct Plan {
    pub(crate) server: String,
    pub(crate) target: Option<Target>,
    /// Why the token request is not worth trying (a check here failed).
    pub(crate) blocked: Option<String>,
    pub(crate) endpoint: Result<Endpoint, EndpointError>,
    checks: Vec<Check>,
    /// The failure on record, reported once doctor's own request is known.
    record: Option<Record>,
    now: i64,
}

/// The last failed token request on record.
enum Record {
    /// There is no cache directory yet: nothing was ever recorded.
    NoCache,
    /// The cache directory cannot be used.
    Unusable,
    Clean,
    Failed {
        error: FetchError,
        at: Option<i64>,
    },
}

pub(crate) fn plan(
    server: &str,
    config: &Config,
    cache: Option<&Cache>,
    cache_missing: bool,
    rt: &tokio::runtime::Runtime,
    now: i64,
) -> Plan {
    let Some(route) = Route::of(server, config) else {
        return Plan {
            server: server.to_string(),
            target: None,
            blocked: Some("the host is not an ECR registry".into()),
            endpoint: Err(EndpointError::NoRegistry),
            checks: vec![unroutable(server, config)],
            record: None,
            now,
        };
    };
    let mut checks = vec![host(&route, config)];
    // The cache's key when there is a cache, else one of this run alone (doctor keeps
    // nothing then); without randomness there is no identity to show.
    let key = cache
        .map(|c| c.key().clone())
        .map_or_else(Key::ephemeral, Ok);
    let target = match key {
        Ok(key) => route.target(&ProcessEnv, &key),
        Err(e) => {
            checks.push(Check::fail("registry.identity", e.to_string()));
            return Plan {
                server: server.to_string(),
                target: None,
                blocked: Some("no identity".into()),
                endpoint: Err(EndpointError::NoRegistry),
                checks,
                record: None,
                now,
            };
        }
    };
    checks.push(Check::pass(
        "registry.identity",
        target.identity.label.clone(),
    ));
    let env = sdk::env(&target.identity);
    let signer = rt.block_on(source::describe(&target.identity, &env));
    checks.push(credentials(server, &signer.label, &target, config, now));
    checks.extend(sessions::checks(
        rt,
        &target.identity,
        &env,
        &signer.requires,
        now,
    ));
    checks.push(region(&target, config));
    checks.push(cached(&target, config, cache, cache_missing, now));
    let blocked = checks.iter().find(|c| c.status == Status::Fail).map(|c| {
        format!(
            "not tried: the {} check above failed",
            c.name.trim_start_matches("registry.")
        )
    });
    Plan {
        server: server.to_string(),
        record: Some(record(&target, cache, cache_missing)),
        endpoint: endpoint::resolve(rt, &target, &env, config.timeout),
        target: Some(target),
        blocked,
        checks,
        now,
    }
}

impl Plan {
    /// The registry's group, once doctor's own token request is known to have `worked`:
    /// then the failure on record is gone (the token path clears it on success).
    pub(crate) fn group(self, worked: bool) -> Group {
        let mut checks = self.checks;
        if let (Some(record), Some(target)) = (&self.record, &self.target) {
            checks.push(failure(record, worked, target, self.now));
        }
        let checks = checks
            .into_iter()
            .map(|c| c.registry(&self.server))
            .collect();
        Group::new(format!("Registry {}", self.server), checks)
    }
}

/// The ecr-login config's file, as a fix names it.
fn file(config: &Config) -> String {
    config.path.as_ref().map_or_else(
        || "the ecr-login config".into(),
        |p| p.display().to_string(),
    )
}

fn unroutable(server: &str, config: &Config) -> Check {
    if let Err(e) = Authority::parse(server) {
        return Check::fail("registry.host", format!("not a registry address: {e}"));
    }
    let file = file(config);
    Check::fail(
        "registry.host",
        format!(
            "{server} is neither an ECR registry host nor an alias (`ecr = …` in {file}): no account or region to ask ECR for, so get answers \"credentials not found\" and Docker says \"no basic auth credentials\""
        ),
    )
    .fix(format!(
        "docker-credential-ecr-login configure {server} --ecr <account>.dkr.ecr.<region>.amazonaws.com"
    ))
}

/// The partition, from the host's suffix (and GovCloud's regions).
fn partition(host: &str, region: &str) -> &'static str {
    const SUFFIXES: [(&str, &str); 7] = [
        (".amazonaws.com.cn", "aws-cn"),
        (".on.amazonwebservices.com.cn", "aws-cn"),
        (".amazonaws.eu", "aws-eusc"),
        (".sc2s.sgov.gov", "aws-iso-b"),
        (".c2s.ic.gov", "aws-iso"),
        (".cloud.adc-e.uk", "aws-iso-e"),
        (".csp.hci.ic.gov", "aws-iso-f"),
    ];
    match SUFFIXES.iter().find(|(s, _)| host.ends_with(s)) {
        Some((_, p)) => p,
        None if region.starts_with("us-gov-") => "aws-us-gov",
        None => "aws",
    }
}

fn host(route: &Route, config: &Config) -> Check {
    let what = match &route.registry {
        Registry::Private {
            account,
            region,
            fips,
            dual_stack,
            host,
        } => {
            let mut s = format!(
                "private registry: account {account}, region {region}, partition {}",
                partition(host, region)
            );
            if *fips {
                s.push_str(", FIPS");
            }
            if *dual_stack {
                s.push_str(", dual-stack");
            }
            s
        }
        Registry::Public { dual_stack, .. } => format!(
            "ECR Public{}",
            if *dual_stack { ", dual-stack" } else { "" }
        ),
    };
    if route.authority.host != route.registry.host() {
        let file = file(config);
        return Check::pass(
            "registry.host",
            format!(
                "an alias of {} (ecr = … in {file}): {what}",
                route.registry.host()
            ),
        );
    }
    Check::pass("registry.host", what)
}

fn credentials(server: &str, label: &str, target: &Target, config: &Config, now: i64) -> Check {
    let identity = &target.identity;
    let profile = identity.profile.as_deref().unwrap_or("default");
    if label.contains("(not found)") {
        let fix = if identity.profile_from_config {
            let file = file(config);
            format!("aws configure --profile {profile}\n(or fix `profile` for {server} in {file})")
        } else {
            format!("aws configure --profile {profile}\n(or unset AWS_PROFILE)")
        };
        return Check::fail(
            "registry.credentials",
            format!("{label}: profile \"{profile}\" is not defined in ~/.aws/config or ~/.aws/credentials"),
        )
        .fix(fix);
    }
    if label.contains("(unreadable:") {
        return Check::fail("registry.credentials", label.to_string())
            .fix("fix the AWS config and credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)");
    }
    if label.starts_with("instance-metadata") {
        let disabled = identity
            .env
            .get("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if disabled {
            return Check::fail(
                "registry.credentials",
                "no AWS credentials: no environment keys, no profile with credentials in ~/.aws, no web identity or container credentials, and AWS_EC2_METADATA_DISABLED=true turns off instance metadata",
            )
            .fix(format!(
                "aws configure   (or: aws sso login --profile <name>, then export AWS_PROFILE=<name>)\n(or map this registry to a profile: docker-credential-ecr-login configure {server} --profile <name>)"
            ));
        }
        return Check::pass(
            "registry.credentials",
            "instance metadata (an EC2 instance or ECS task role): nothing in the environment or ~/.aws signs first",
        );
    }
    if label.starts_with("env:")
        && let Some(at) = identity
            .env
            .get("AWS_CREDENTIAL_EXPIRATION")
            .and_then(crate::aws::mfa::parse_expiration)
    {
        return if at <= now {
            Check::fail(
                "registry.credentials",
                format!(
                    "environment keys ({label}) expired at {} (AWS_CREDENTIAL_EXPIRATION)",
                    rfc3339(at)
                ),
            )
            .fix("export new keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)")
        } else {
            Check::pass(
                "registry.credentials",
                format!(
                    "environment keys ({label}) until {} (in {})",
                    rfc3339(at),
                    human(at - now)
                ),
            )
        };
    }
    Check::pass("registry.credentials", label.to_string())
}

fn region(target: &Target, config: &Config) -> Check {
    let registry = &target.registry;
    if registry.is_public() {
        return Check::pass(
            "registry.region",
            format!(
                "{}: ECR Public's API is served from us-east-1 only (AWS_REGION and region settings do not move it)",
                registry.region()
            ),
        );
    }
    match target.identity.region.as_deref() {
        // The host parser's own test of a region's shape.
        Some(r) if Registry::private("000000000000", r).is_none() => {
            let file = file(config);
            Check::fail(
                "registry.region",
                format!("region \"{r}\" (from the ecr-login config) is not an AWS region"),
            )
            .fix(format!("fix `region` for this registry in {file}"))
        }
        Some(r) => Check::pass(
            "registry.region",
            format!(
                "{r} (region = … in the ecr-login config; the host says {})",
                registry.region()
            ),
        ),
        None => Check::pass(
            "registry.region",
            format!("{} (from the host)", registry.region()),
        ),
    }
}

fn cached(
    target: &Target,
    config: &Config,
    cache: Option<&Cache>,
    missing: bool,
    now: i64,
) -> Check {
    let Some(cache) = cache.filter(|_| !missing) else {
        return if missing {
            Check::pass(
                "registry.cache",
                "nothing cached yet (no cache directory: made on first use)",
            )
        } else {
            Check::skip(
                "registry.cache",
                "no usable cache directory (see Cache below)",
            )
        };
    };
    let min = config.cache.min_remaining;
    let mut entry = match cache.read(&target.key()) {
        Ok(Some(e)) if policy::servable(&e, now, min) => Check::pass(
            "registry.cache",
            format!(
                "a token signed by {}, served until {} (in {}), expiring {}",
                e.signer,
                rfc3339(policy::serve_until(&e, min)),
                human(policy::serve_until(&e, min) - now),
                rfc3339(e.expires_at_ms)
            ),
        ),
        Ok(Some(e)) => {
            let why = if e.expires_at_ms <= now {
                format!("it expired at {}", rfc3339(e.expires_at_ms))
            } else if !e.requirements_met() {
                "a session file it needs is gone (logged out)".to_string()
            } else {
                "it is past the share of its life it is served for (cache.min_remaining)"
                    .to_string()
            };
            Check::pass(
                "registry.cache",
                format!(
                    "a token is cached but no longer served ({why}); the next get fetches a new one"
                ),
            )
        }
        Ok(None) => Check::pass(
            "registry.cache",
            "nothing cached: the next get fetches a token",
        ),
        Err(warning) => Check::warn("registry.cache", warning.to_string()),
    };
    if target.identity.accepts_stored
        && let Ok(Some(login)) = cache.read(&target.login_key())
        && policy::servable(&login, now, min)
    {
        entry.detail.push_str(&format!(
            "; a docker login token comes first, until {}",
            rfc3339(policy::serve_until(&login, min))
        ));
    }
    entry
}

fn record(target: &Target, cache: Option<&Cache>, missing: bool) -> Record {
    let Some(cache) = cache.filter(|_| !missing) else {
        return if missing {
            Record::NoCache
        } else {
            Record::Unusable
        };
    };
    let key = target.key();
    match cache.failure_since(&key, 0) {
        // The record's time is its file's (core keeps `at_ms` private).
        Some(error) => Record::Failed {
            error,
            at: std::fs::metadata(cache.dir().join(format!("{key}.fail")))
                .and_then(|m| m.modified())
                .map(ecr_login_core::clock::epoch_ms)
                .ok(),
        },
        None => Record::Clean,
    }
}

/// The failure on record, and whether doctor's own request, which worked, cleared it.
fn failure(record: &Record, cleared: bool, target: &Target, now: i64) -> Check {
    let (error, at) = match record {
        Record::NoCache | Record::Clean => {
            return Check::pass("registry.failure", "no failed token request on record");
        }
        Record::Unusable => return Check::skip("registry.failure", "no usable cache directory"),
        Record::Failed { error, at } => (error, at),
    };
    let when = at.map_or_else(String::new, |t| {
        format!(" {} ago ({})", human(now.saturating_sub(t)), rfc3339(t))
    });
    let detail = format!("the last token request failed{when}: {error}");
    if cleared {
        return Check::pass(
            "registry.failure",
            format!("{detail} (cleared: doctor's own token request, below, worked)"),
        );
    }
    Check::warn("registry.failure", detail).fix_opt(token::fix_for(error, target))
}
