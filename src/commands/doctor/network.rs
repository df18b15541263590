//! The way to each API endpoint a token request calls. Offline: which endpoint
//! ([`super::endpoint`]), whether a proxy applies (the SDK's own `HTTPS_PROXY`/`NO_PROXY`
//! matcher) and which CA bundle is trusted. Online: each registry's real
//! GetAuthorizationToken ([`super::token`]) and one request for the server's clock, both
//! through the client every AWS call takes; DNS, TCP and TLS are read off what they met
//! ([`super::way`]). Endpoints are checked in parallel, each registry's request too, all
//! within the run's deadline.

use super::deadline::Deadline;
use super::endpoint::Endpoint;
use super::registry::Plan;
use super::report::{Check, Group};
use super::token::{self, Asked};
use super::way;
use crate::aws::transport::{self, Trip};
use ecr_login_core::cache::Cache;
use ecr_login_core::config::Config;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::redact::userinfo;
use ecr_login_core::resolve::Target;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use std::sync::mpsc;

/// What the network checks came to.
pub(crate) struct Outcome {
    pub(crate) groups: Vec<Group>,
    /// The registries whose token request (doctor's own) worked.
    worked: Vec<String>,
}

impl Outcome {
    pub(crate) fn worked(&self, server: &str) -> bool {
        self.worked.iter().any(|s| s == server)
    }
}

/// What every endpoint's checks share.
#[derive(Clone)]
struct Run {
    config: Config,
    cache: Option<Cache>,
    offline: bool,
    deadline: Deadline,
    now: i64,
}

/// The registries whose token requests go to one endpoint.
struct Job {
    endpoint: Endpoint,
    /// Each registry, who signs for it, and why its request is not worth making, if it is not.
    asks: Vec<(String, Target, Option<String>)>,
}

/// One job's checks, and the registries whose token request worked.
type Done = (Vec<Check>, Vec<String>);

pub(crate) fn run(
    plans: &[Plan],
    config: &Config,
    cache: Option<&Cache>,
    offline: bool,
    deadline: Deadline,
    now: i64,
) -> Outcome {
    let (jobs, mut groups) = jobs(plans);
    let run = Run {
        config: config.clone(),
        cache: cache.cloned(),
        offline,
        deadline,
        now,
    };
    let (tx, rx) = mpsc::channel();
    let mut waiting = Vec::new();
    for (i, job) in jobs.into_iter().enumerate() {
        waiting.push((
            format!("Network {}", job.endpoint.host),
            job.asks.iter().map(|(s, ..)| s.clone()).collect::<Vec<_>>(),
        ));
        let (tx, run) = (tx.clone(), run.clone());
        std::thread::spawn(move || tx.send((i, run_job(job, &run))));
    }
    drop(tx);
    let mut done: Vec<Option<Done>> = (0..waiting.len()).map(|_| None).collect();
    while done.iter().any(Option::is_none) {
        match rx.recv_timeout(deadline.left()) {
            Ok((i, result)) => done[i] = Some(result),
            Err(_) => break,
        }
    }
    let mut worked = Vec::new();
    for ((title, servers), result) in waiting.into_iter().zip(done) {
        let checks = match result {
            Some((checks, ok)) => {
                worked.extend(ok);
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
    Outcome { groups, worked }
}

/// The registries by endpoint (those sharing one are checked once), and the groups of
/// those whose endpoint the SDK cannot name.
fn jobs(plans: &[Plan]) -> (Vec<Job>, Vec<Group>) {
    let mut jobs: Vec<Job> = Vec::new();
    let mut groups = Vec::new();
    for plan in plans {
        let Some(target) = &plan.target else {
            continue;
        };
        let endpoint = match &plan.endpoint {
            Ok(endpoint) => endpoint,
            Err(why) => {
                let check = Check::fail("network.endpoint", why.to_string());
                groups.push(Group::new(
                    format!("Network {}", plan.server),
                    vec![check.registry(&plan.server)],
                ));
                continue;
            }
        };
        let ask = (plan.server.clone(), target.clone(), plan.blocked.clone());
        match jobs.iter_mut().find(|j| j.endpoint.key() == endpoint.key()) {
            Some(job) => job.asks.push(ask),
            None => jobs.push(Job {
                endpoint: endpoint.clone(),
                asks: vec![ask],
            }),
        }
    }
    (jobs, groups)
}

fn run_job(job: Job, run: &Run) -> Done {
    let ep = &job.endpoint;
    let (intercept, proxy_check) = proxy(ep);
    let mut checks = vec![
        endpoint_check(ep, job.asks.len()),
        proxy_check,
        bundle_check(ep),
    ];
    if run.offline {
        for name in ["network.dns", "network.tcp", "network.tls", "network.clock"] {
            checks.push(Check::skip(name, "--offline: no network call"));
        }
        for (server, ..) in &job.asks {
            let check = Check::skip("network.token", "--offline: no token request");
            checks.push(check.registry(server));
        }
        return (checks, Vec::new());
    }
    let clock = clock_request(ep, run.deadline, run.now);
    let asking: Vec<_> = job
        .asks
        .into_iter()
        .map(|(server, target, blocked)| {
            let (run, to) = (run.clone(), target.clone());
            let asking = std::thread::spawn(move || match blocked {
                Some(why) => Asked::NotTried(why),
                None => {
                    token::request(&to, &run.config, run.cache.as_ref(), &run.deadline, run.now)
                }
            });
            (server, target, asking)
        })
        .collect();
    let asked: Vec<(String, Target, Asked)> = asking
        .into_iter()
        .filter_map(|(server, target, h)| Some((server, target, h.join().ok()?)))
        .collect();
    let (trip, at) = clock
        .join()
        .unwrap_or_else(|_| (unanswered("the clock request failed".into()), run.now));
    let failed: Vec<&FetchError> = asked.iter().filter_map(|(.., a)| a.failure()).collect();
    let worked = asked.iter().any(|(.., a)| a.worked());
    checks.extend(way::checks(ep, intercept.as_ref(), &trip, &failed, worked));
    checks.push(way::clock(ep, &trip, at));
    let mut ok = Vec::new();
    for (server, target, asked) in &asked {
        checks.push(asked.check(target).registry(server));
        if asked.worked() {
            ok.push(server.clone());
        }
    }
    (checks, ok)
}

/// The clock request, under way on a thread of its own: what it met, and when (epoch ms).
fn clock_request(
    ep: &Endpoint,
    deadline: Deadline,
    now: i64,
) -> std::thread::JoinHandle<(Trip, i64)> {
    let (url, bundle) = (ep.url.clone(), ep.bundle.clone());
    std::thread::spawn(move || {
        let rt = match crate::aws::runtime() {
            Ok(rt) => rt,
            Err(e) => return (unanswered(e.to_string()), deadline.now_ms(now)),
        };
        let (connect, answer) = (
            deadline.step(way::CONNECT_LIMIT),
            deadline.step(way::ANSWER_LIMIT),
        );
        let trip = rt.block_on(transport::get(&url, bundle.as_ref(), connect, answer));
        let at = deadline.now_ms(now);
        // A lookup that did not answer is not waited for.
        rt.shutdown_background();
        (trip, at)
    })
}

fn unanswered(detail: String) -> Trip {
    Trip {
        connected: false,
        remote: None,
        answer: Err(FetchError::Other { detail }),
    }
}

fn endpoint_check(ep: &Endpoint, used_by: usize) -> Check {
    Check::pass(
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
    )
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
        (None, Some(var)) => unused_proxy(endpoint, vars, var),
        (None, None) => Check::pass("network.proxy", format!("direct (no {} set)", vars[0])),
    };
    (found, check)
}

/// A proxy variable is set and the SDK goes direct: `NO_PROXY` says so, or the variable
/// cannot be parsed (what `get` warns about too: one parser, hyper-util's, in `transport`).
fn unused_proxy(endpoint: &Endpoint, vars: &[&str], var: &str) -> Check {
    let unusable = transport::unusable_proxies();
    let ignored = vars.iter().find(|v| unusable.contains(v));
    let no = ["NO_PROXY", "no_proxy"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|x| !x.is_empty()));
    match (ignored, no) {
        (None, Some(list)) => Check::pass(
            "network.proxy",
            format!("direct: NO_PROXY ({list}) matches {}", endpoint.host),
        ),
        (ignored, _) => {
            let var = ignored.copied().unwrap_or(var);
            Check::warn("network.proxy", transport::unusable_proxy_line(var))
                .fix(format!("{var}=http://host:port   (or unset it)"))
        }
    }
}

fn bundle_check(endpoint: &Endpoint) -> Check {
    let detail = match &endpoint.bundle {
        Some(b) => format!(
            "{} (from {}): {} certificate{}, trusted beside the system roots",
            b.path.display(),
            b.origin,
            b.certificates,
            if b.certificates == 1 { "" } else { "s" }
        ),
        None => match std::env::var("SSL_CERT_FILE")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(f) => format!("the system roots (SSL_CERT_FILE={f}); no AWS_CA_BUNDLE"),
            None => "the system roots; no AWS_CA_BUNDLE or ca_bundle in the profile".into(),
        },
    };
    Check::pass("network.ca-bundle", detail)
}
