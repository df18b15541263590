//! The links to an endpoint, read off the real requests rather than probed again. DNS, TCP
//! (or the proxy's tunnel) and TLS stop where a token request stopped, as the transport
//! classified it for `get` (the typed [`FetchError`]); where no token request went that far
//! (its registry's checks failed), where the clock request stopped, through the same client
//! and the same classification. And the server's clock, from that request's `Date` header:
//! the one thing a token request does not tell.

use super::endpoint::Endpoint;
use super::process::first_line;
use super::report::Check;
use crate::aws::transport::{self, Trip};
use ecr_login_core::clock::rfc3339;
use ecr_login_core::fetch::FetchError;
use hyper_util::client::proxy::matcher::Intercept;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long the clock request may take to connect (DNS, TCP, the proxy's tunnel, TLS).
pub(crate) const CONNECT_LIMIT: Duration = Duration::from_secs(2);
/// How long it may then take to answer.
pub(crate) const ANSWER_LIMIT: Duration = Duration::from_secs(2);
/// SigV4 and token lifetimes go wrong beyond this.
const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

pub(crate) const PROXY_AUTH_FIX: &str =
    "HTTPS_PROXY=http://USER:PASSWORD@host:port   (percent-encode special characters)";
pub(crate) const CLOCK_FIX: &str = "sync the clock: sudo timedatectl set-ntp true (Linux), or set the time automatically (macOS, Windows settings)";

const LINKS: [&str; 3] = ["network.dns", "network.tcp", "network.tls"];

/// Which link a failure stopped at, if it is one of the way's.
fn index(error: &FetchError) -> Option<usize> {
    match error {
        FetchError::Dns { .. } => Some(0),
        FetchError::ProxyAuth { .. } | FetchError::Unreachable { .. } => Some(1),
        FetchError::Tls { .. } => Some(2),
        _ => None,
    }
}

/// The check (as people see its name) a failure stopped at, if it is one of the way's.
pub(crate) fn link(error: &FetchError) -> Option<&'static str> {
    index(error).map(label)
}

fn label(link: usize) -> &'static str {
    LINKS[link].trim_start_matches("network.")
}

/// The way to one endpoint, as the proxy decision and the requests found it.
struct Way<'a> {
    ep: &'a Endpoint,
    proxy: Option<&'a Intercept>,
    /// Where the clock request connected (the proxy, through one).
    remote: Option<SocketAddr>,
    /// Whether a request went all the way.
    through: bool,
}

/// The dns, tcp and tls checks. `failed` are the token requests' failures and `worked`
/// whether one went through: a token request's word comes first.
pub(crate) fn checks(
    ep: &Endpoint,
    proxy: Option<&Intercept>,
    trip: &Trip,
    failed: &[&FetchError],
    worked: bool,
) -> Vec<Check> {
    let stop = failed
        .iter()
        .copied()
        .chain(trip.answer.as_ref().err())
        .find_map(|e| index(e).map(|i| (i, e)))
        .filter(|_| !worked);
    let through = worked || (stop.is_none() && trip.connected);
    let way = Way {
        ep,
        proxy,
        remote: trip.remote,
        through,
    };
    let reached = stop.map_or(if through { LINKS.len() } else { 0 }, |(i, _)| i);
    let mut out = Vec::new();
    for (i, name) in LINKS.into_iter().enumerate() {
        out.push(match stop {
            _ if i == 2 && !ep.https => Check::skip(name, "a plain HTTP endpoint: no TLS"),
            _ if i < reached => way.passed(i),
            Some((at, e)) if i == at => way.failed(e),
            Some((at, _)) => {
                Check::skip(name, format!("not tried: the {} check failed", label(at)))
            }
            None => Check::skip(name, "not known: no request got that far"),
        });
    }
    out
}

impl Way<'_> {
    /// Where connections go: the proxy's host and port, or the endpoint's.
    fn target(&self) -> (String, u16) {
        match self.proxy {
            Some(p) => {
                let uri = p.uri();
                let https = uri.scheme_str() == Some("https");
                let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
                (
                    host.to_string(),
                    uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
                )
            }
            None => (self.ep.host.clone(), self.ep.port),
        }
    }

    fn passed(&self, link: usize) -> Check {
        let (host, port) = self.target();
        let (ep, proxied) = (self.ep, self.proxy.is_some());
        let via = if proxied { "proxy " } else { "" };
        // What lies beyond the proxy shows only when a request went all the way.
        let beyond = |text: String| {
            if proxied && self.through {
                text
            } else {
                String::new()
            }
        };
        let detail = match link {
            0 => {
                let found = match self.remote.filter(|_| !proxied) {
                    _ if host.parse::<IpAddr>().is_ok() => "an address, no lookup".to_string(),
                    Some(a) => a.ip().to_string(),
                    None => "resolved".into(),
                };
                let far = beyond(format!("; the proxy resolves {}", ep.host));
                format!("{via}{host}: {found}{far}")
            }
            1 => {
                let to = self
                    .remote
                    .map_or(format!("{host}:{port}"), |a| a.to_string());
                let far = beyond(format!("; CONNECT {}:{} went through", ep.host, ep.port));
                format!(
                    "connected to {via}{to}{}",
                    if ep.https { far } else { String::new() }
                )
            }
            _ => format!(
                "the certificate for {} is trusted through the system roots{}",
                ep.host,
                ep.bundle
                    .as_ref()
                    .map_or(String::new(), |b| format!(" and {}", b.path.display()))
            ),
        };
        Check::pass(LINKS[link], detail)
    }

    fn failed(&self, error: &FetchError) -> Check {
        let with_credentials = self.proxy.is_some_and(|p| p.basic_auth().is_some());
        match error {
            FetchError::Dns { host } => Check::fail("network.dns", format!("cannot resolve {host}"))
                .fix("check your network, VPN or DNS (and AWS_ENDPOINT_URL_ECR or HTTPS_PROXY, if you set them)"),
            FetchError::ProxyAuth { proxy } if with_credentials => Check::fail(
                "network.tcp",
                format!("the proxy {proxy} refused the credentials in the proxy URL (407)"),
            )
            .fix("check the user and password in HTTPS_PROXY (percent-encode special characters)"),
            FetchError::ProxyAuth { proxy } => Check::fail(
                "network.tcp",
                format!("the proxy {proxy} requires authentication (407 Proxy Authentication Required)"),
            )
            .fix(PROXY_AUTH_FIX),
            FetchError::Tls { host, reason } => {
                Check::fail("network.tls", format!("TLS to {host} failed: {reason}"))
                    .fix_opt(transport::tls_fix(reason).map(str::to_string))
            }
            other => {
                let (host, port) = self.target();
                let (what, fix) = match self.proxy {
                    Some(_) => ("proxy ", "check HTTPS_PROXY: the proxy does not accept connections"),
                    None => ("", "a firewall or VPN may block the port; behind a corporate proxy, set HTTPS_PROXY=http://host:port"),
                };
                let detail = match other {
                    FetchError::Unreachable { detail } => detail.clone(),
                    other => other.to_string(),
                };
                Check::fail("network.tcp", format!("cannot connect to {what}{host} port {port}: {detail}")).fix(fix)
            }
        }
    }
}

/// The server's clock against ours (`at`, when its answer came), from the clock request's
/// `Date` header.
pub(crate) fn clock(ep: &Endpoint, trip: &Trip, at: i64) -> Check {
    let host = &ep.host;
    let date = match &trip.answer {
        Ok(Some(date)) => date,
        Ok(None) => return unread(format!("{host} answered without a Date header")),
        Err(FetchError::TimedOut { .. }) => {
            let limit = ANSWER_LIMIT.as_secs();
            return unread(format!("no HTTP answer from {host} within {limit}s"));
        }
        Err(e) => {
            let why = link(e).map_or_else(|| e.to_string(), |l| format!("it stopped at {l}"));
            return unread(format!("no answer from {host}: {why}"));
        }
    };
    let Some(server) = http_date(date) else {
        let shown = first_line(date);
        return unread(format!("{host}'s Date header is not an HTTP date: {shown}"));
    };
    let skew = server - at;
    if skew.abs() <= MAX_SKEW_MS {
        let within = skew.abs() / 1000;
        return Check::pass(
            "network.clock",
            format!("within {within}s of {host}'s clock"),
        );
    }
    let minutes = (skew.abs() + 30_000) / 60_000;
    let side = if skew > 0 { "behind" } else { "ahead of" };
    Check::fail(
        "network.clock",
        format!("this machine's clock is {minutes} min {side} {host}'s (Date: {date}; here: {}): signatures are refused and tokens' lifetimes misjudged", rfc3339(at)),
    )
    .fix(CLOCK_FIX)
}

fn unread(why: String) -> Check {
    Check::skip("network.clock", why)
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) as epoch milliseconds.
fn http_date(text: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(text.trim(), &format).ok()?;
    Some(t.assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(http_date("yesterday"), None);
    }
}
