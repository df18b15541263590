//! The way to each API endpoint a token request would call: which endpoint (as the SDK's
//! own resolver names it, overrides included), whether a proxy applies (the SDK's own
//! `HTTPS_PROXY`/`NO_PROXY` matcher), which CA bundle is trusted, then DNS, TCP, TLS and the
//! server's clock ([`super::probe`]), and last the real GetAuthorizationToken
//! ([`super::token`]). Endpoints are probed in parallel, each registry's request too, all
//! within the run's deadline.

use super::registry::Plan;
use super::{Check, Deadline, Group, Status, probe, token};
use crate::aws::{sdk, transport};
use aws_sdk_ecr::config::endpoint::ResolveEndpoint as _;
use aws_sdk_ecrpublic::config::endpoint::ResolveEndpoint as _;
use aws_types::os_shim_internal::Env;
use aws_types::service_config::ServiceConfigKey;
use ecr_login_core::cache::Cache;
use ecr_login_core::config::Config;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::redact::userinfo;
use ecr_login_core::resolve::Target;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

/// An API endpoint, and what we trust on the way to it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    /// Where it came from: the SDK's resolver for a region, or an override.
    pub origin: String,
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// The CA bundle added to the system roots, or why it cannot be used.
    pub bundle: Result<Option<transport::Bundle>, FetchError>,
}

impl Endpoint {
    fn key(&self) -> String {
        let bundle = match &self.bundle {
            Ok(Some(b)) => b.path.display().to_string(),
            Ok(None) => String::new(),
            Err(e) => e.to_string(),
        };
        format!("{} {bundle}", self.url)
    }
}

/// The SDK's own errors (its endpoint resolver and builders), whatever their type.
type SdkError = Box<dyn std::error::Error + Send + Sync>;

/// Why there is no endpoint to probe for a registry.
#[derive(Debug)]
pub enum EndpointError {
    /// Not an ECR registry: nothing to call.
    NoRegistry,
    /// The SDK's config did not load for this registry's identity.
    NotResolved(FetchError),
    /// The endpoint's parameters did not build.
    Params(SdkError),
    /// The SDK's resolver names no endpoint for these settings.
    NoEndpoint(SdkError),
    /// The URL it named does not parse (shown without user information).
    BadUrl {
        url: String,
        source: http::uri::InvalidUri,
    },
    NoHost(String),
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::NoRegistry => f.write_str("no ECR registry"),
            EndpointError::NotResolved(e) => write!(f, "not resolved: {e}"),
            EndpointError::Params(e) => e.fmt(f),
            EndpointError::NoEndpoint(e) => write!(f, "the SDK cannot name an endpoint: {e}"),
            EndpointError::BadUrl { url, source } => write!(f, "{}: {source}", userinfo(url)),
            EndpointError::NoHost(url) => write!(f, "{} has no host", userinfo(url)),
        }
    }
}

impl std::error::Error for EndpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EndpointError::NotResolved(e) => Some(e),
            EndpointError::Params(e) | EndpointError::NoEndpoint(e) => Some(&**e),
            EndpointError::BadUrl { source, .. } => Some(source),
            EndpointError::NoRegistry | EndpointError::NoHost(_) => None,
        }
    }
}

/// The endpoint `target`'s token request calls, as the SDK resolves it.
pub fn endpoint(
    rt: &tokio::runtime::Runtime,
    target: &Target,
    env: &Env,
    timeout: Duration,
) -> Result<Endpoint, EndpointError> {
    let profile = rt.block_on(sdk::profile(env));
    let ca = profile
        .as_ref()
        .and_then(|(name, p)| p.get("ca_bundle").map(|b| (name.as_str(), b)));
    let bundle = transport::bundle(env.get("AWS_CA_BUNDLE").ok().as_deref(), ca);
    let config = rt
        .block_on(sdk::load(&target.registry, &target.identity, env, timeout))
        .map_err(EndpointError::NotResolved)?;
    let public = target.registry.is_public();
    let service = if public { "ECR PUBLIC" } else { "ECR" };
    let key = ServiceConfigKey::builder()
        .service_id(service)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .map_err(|e| EndpointError::Params(e.into()))?;
    let overridden = config
        .service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_string));
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    let (fips, dual) = (
        config.use_fips().unwrap_or(false),
        config.use_dual_stack().unwrap_or(false),
    );
    // The two SDKs' endpoint modules are alike, and their types are their own.
    macro_rules! resolve {
        ($sdk:ident) => {{
            let params = $sdk::config::endpoint::Params::builder()
                .region(region.clone())
                .use_fips(fips)
                .use_dual_stack(dual)
                .set_endpoint(overridden.clone())
                .build()
                .map_err(|e| EndpointError::Params(e.into()))?;
            rt.block_on($sdk::config::endpoint::DefaultResolver::new().resolve_endpoint(&params))
        }};
    }
    let resolved = if public {
        resolve!(aws_sdk_ecrpublic)
    } else {
        resolve!(aws_sdk_ecr)
    };
    let url = resolved
        .map_err(EndpointError::NoEndpoint)?
        .url()
        .to_string();
    let specific = if public {
        "AWS_ENDPOINT_URL_ECR_PUBLIC"
    } else {
        "AWS_ENDPOINT_URL_ECR"
    };
    let origin = match overridden {
        None => format!(
            "the SDK's endpoint for {region}{}{}",
            if fips { ", FIPS" } else { "" },
            if dual { ", dual-stack" } else { "" }
        ),
        Some(_) if target.identity.env.get(specific).is_some() => specific.to_string(),
        Some(_) if target.identity.env.get("AWS_ENDPOINT_URL").is_some() => {
            "AWS_ENDPOINT_URL".into()
        }
        Some(_) => "endpoint_url in the AWS profile".into(),
    };
    let uri: http::Uri = match url.parse() {
        Ok(uri) => uri,
        Err(source) => return Err(EndpointError::BadUrl { url, source }),
    };
    let https = uri.scheme_str() != Some("http");
    let host = uri
        .host()
        .ok_or_else(|| EndpointError::NoHost(url.clone()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Ok(Endpoint {
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        url,
        origin,
        https,
        host,
        bundle,
    })
}

/// The proxy the SDK would use for `endpoint`, and the check that says so.
fn proxy(endpoint: &Endpoint) -> (Option<Intercept>, Check) {
    let uri: Option<http::Uri> = endpoint.url.parse().ok();
    let found = uri.as_ref().and_then(|u| Matcher::from_env().intercept(u));
    let vars: &[&str] = if endpoint.https {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let set = vars
        .iter()
        .find(|v| std::env::var(v).is_ok_and(|x| !x.is_empty()));
    // What `get` warns about too (one parser: hyper-util's, in `transport`).
    let unusable = transport::unusable_proxies();
    let ignored = vars.iter().find(|v| unusable.contains(v));
    let check = match (&found, set) {
        (Some(p), var) => Check::pass(
            "network.proxy",
            format!(
                "through {} (from {}{})",
                userinfo(&p.uri().to_string()),
                var.unwrap_or(&"the environment"),
                if p.basic_auth().is_some() {
                    ", with Basic credentials"
                } else {
                    ""
                }
            ),
        ),
        (None, Some(var)) => {
            let no = ["NO_PROXY", "no_proxy"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|x| !x.is_empty()));
            match (ignored, no) {
                (None, Some(list)) => Check::pass(
                    "network.proxy",
                    format!("direct: NO_PROXY ({list}) matches {}", endpoint.host),
                ),
                (ignored, _) => {
                    let var = ignored.unwrap_or(var);
                    Check::warn("network.proxy", transport::unusable_proxy_line(var))
                        .fix(format!("{var}=http://host:port   (or unset it)"))
                }
            }
        }
        (None, None) => Check::pass("network.proxy", format!("direct (no {} set)", vars[0])),
    };
    (found, check)
}

fn bundle_check(endpoint: &Endpoint) -> Check {
    match &endpoint.bundle {
        Ok(Some(b)) => Check::pass(
            "network.ca-bundle",
            format!(
                "{} (from {}): {} certificate{}, trusted beside the system roots",
                b.path.display(),
                b.origin,
                b.certificates,
                if b.certificates == 1 { "" } else { "s" }
            ),
        ),
        Ok(None) => Check::pass(
            "network.ca-bundle",
            match std::env::var("SSL_CERT_FILE").ok().filter(|v| !v.is_empty()) {
                Some(f) => format!("the system roots (SSL_CERT_FILE={f}); no AWS_CA_BUNDLE"),
                None => "the system roots; no AWS_CA_BUNDLE or ca_bundle in the profile".into(),
            },
        ),
        Err(e) => Check::fail("network.ca-bundle", e.to_string())
            .fix("fix the file, or point AWS_CA_BUNDLE (or the profile's ca_bundle) at your organisation's PEM bundle"),
    }
}

/// What the network checks came to.
pub struct Outcome {
    pub groups: Vec<Group>,
    /// Per registry: whether doctor's own token request worked.
    pub tokens_ok: Vec<(String, bool)>,
}

/// A job's checks, and per registry whether its token request worked.
type JobResult = (Vec<Check>, Vec<(String, bool)>);

struct Job {
    endpoint: Endpoint,
    plans: Vec<Plan>,
}

pub fn run(
    plans: Vec<Plan>,
    config: &Config,
    cache: Option<&Cache>,
    offline: bool,
    deadline: Deadline,
    now: i64,
) -> Outcome {
    let mut jobs: Vec<Job> = Vec::new();
    let mut groups = Vec::new();
    for plan in plans {
        let Ok(endpoint) = &plan.endpoint else {
            if let (Some(_), Err(why)) = (&plan.target, &plan.endpoint) {
                groups.push(Group::new(
                    format!("Network {}", plan.server),
                    vec![Check::fail("network.endpoint", why.to_string()).registry(&plan.server)],
                ));
            }
            continue;
        };
        match jobs.iter_mut().find(|j| j.endpoint.key() == endpoint.key()) {
            Some(job) => job.plans.push(plan),
            None => jobs.push(Job {
                endpoint: endpoint.clone(),
                plans: vec![plan],
            }),
        }
    }
    let titles: Vec<String> = jobs
        .iter()
        .map(|j| format!("Network {}", j.endpoint.host))
        .collect();
    let servers: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| j.plans.iter().map(|p| p.server.clone()).collect())
        .collect();
    let (tx, rx) = mpsc::channel();
    for (i, job) in jobs.into_iter().enumerate() {
        let tx = tx.clone();
        let (config, cache) = (config.clone(), cache.cloned());
        std::thread::spawn(move || {
            let _ = tx.send((i, run_job(job, &config, cache, offline, deadline, now)));
        });
    }
    drop(tx);
    let mut done: Vec<Option<JobResult>> = vec![None; titles.len()];
    while done.iter().any(Option::is_none) {
        match rx.recv_timeout(deadline.left()) {
            Ok((i, result)) => done[i] = Some(result),
            Err(_) => break,
        }
    }
    let mut tokens_ok = Vec::new();
    for ((title, result), servers) in titles.into_iter().zip(done).zip(servers) {
        let checks = match result {
            Some((checks, ok)) => {
                tokens_ok.extend(ok);
                checks
            }
            None => servers
                .iter()
                .map(|s| {
                    Check::fail("network.token", "did not finish within doctor's 10 s").registry(s)
                })
                .collect(),
        };
        groups.push(Group::new(title, checks));
    }
    Outcome { groups, tokens_ok }
}

fn run_job(
    job: Job,
    config: &Config,
    cache: Option<Cache>,
    offline: bool,
    deadline: Deadline,
    now: i64,
) -> JobResult {
    let ep = &job.endpoint;
    let used_by = job.plans.len();
    let mut checks = vec![Check::pass(
        "network.endpoint",
        format!(
            "{} ({}){}",
            userinfo(&ep.url),
            ep.origin,
            if used_by > 1 {
                format!(", for {used_by} registries")
            } else {
                String::new()
            }
        ),
    )];
    let (intercept, proxy_check) = proxy(ep);
    checks.push(proxy_check);
    checks.push(bundle_check(ep));
    let bundle_ok = ep.bundle.is_ok();
    let reachable = if offline {
        for name in ["network.dns", "network.tcp", "network.tls", "network.clock"] {
            checks.push(Check::skip(name, "--offline: no network call"));
        }
        false
    } else if !bundle_ok {
        for name in ["network.dns", "network.tcp", "network.tls", "network.clock"] {
            checks.push(Check::skip(name, "not tried: the CA bundle cannot be used"));
        }
        false
    } else {
        let probe = probe::run(ep, intercept.as_ref(), &deadline, now);
        checks.extend(probe.checks);
        probe.reachable
    };
    let blocked_all = if offline {
        Some("--offline: no token request".to_string())
    } else if !reachable {
        Some("not tried: the endpoint cannot be reached (above)".to_string())
    } else {
        None
    };
    let handles: Vec<_> = job
        .plans
        .into_iter()
        .map(|plan| {
            let why = blocked_all.clone().or(plan.blocked.clone());
            let (config, cache) = (config.clone(), cache.clone());
            std::thread::spawn(move || {
                let check = match plan.target {
                    Some(target) if why.is_none() => {
                        token::request(target, &config, cache, &deadline, now)
                    }
                    _ => Check::skip("network.token", why.unwrap_or_else(|| "not tried".into())),
                };
                (plan.server, check)
            })
        })
        .collect();
    let mut ok = Vec::new();
    for h in handles {
        if let Ok((server, check)) = h.join() {
            ok.push((server.clone(), check.status == Status::Pass));
            checks.push(check.registry(&server));
        }
    }
    (checks, ok)
}
