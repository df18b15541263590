//! DNS, TCP (or CONNECT through the proxy), TLS and the server's clock, by hand, each step
//! timed and bounded: a resolver that does not answer, a black-holed address, a proxy or
//! TLS front that accepts and says nothing, each costs its own limit and no more. TLS
//! trusts what the SDK's client trusts: the system roots (`SSL_CERT_FILE` included) and the
//! CA bundle.

use super::network::Endpoint;
use super::{Check, Deadline};
use ecr_login_core::clock::rfc3339;
use hyper_util::client::proxy::matcher::Intercept;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DNS_LIMIT: Duration = Duration::from_secs(2);
const CONNECT_LIMIT: Duration = Duration::from_secs(2);
const HTTP_LIMIT: Duration = Duration::from_secs(2);
/// SigV4 and token lifetimes go wrong beyond this.
const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

pub struct Probe {
    pub checks: Vec<Check>,
    /// Whether a token request has a way through.
    pub reachable: bool,
}

/// Why the endpoint (or its proxy) was not reached: no address, or no connection.
#[derive(Debug)]
enum Unreached {
    NoAddress,
    Lookup(io::Error),
    ResolverSilent(Duration),
    ConnectSilent(Duration),
    Connect(io::Error),
}

impl fmt::Display for Unreached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreached::NoAddress => f.write_str("no address"),
            Unreached::Lookup(e) | Unreached::Connect(e) => e.fmt(f),
            Unreached::ResolverSilent(limit) => write!(
                f,
                "no answer from the resolver within {}s",
                limit.as_secs_f32()
            ),
            Unreached::ConnectSilent(limit) => write!(
                f,
                "no answer within {}s (a black-holed address?)",
                limit.as_secs_f32()
            ),
        }
    }
}

impl std::error::Error for Unreached {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Unreached::Lookup(e) | Unreached::Connect(e) => Some(e),
            _ => None,
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

pub fn run(ep: &Endpoint, proxy: Option<&Intercept>, deadline: &Deadline, now: i64) -> Probe {
    let mut checks = Vec::new();
    let skip_rest = |checks: &mut Vec<Check>, from: usize, why: &str| {
        let names = ["network.dns", "network.tcp", "network.tls", "network.clock"];
        for name in &names[from..] {
            checks.push(Check::skip(name, format!("not tried: {why}")));
        }
    };
    let (host, port, via) = match proxy {
        Some(p) => (
            p.uri()
                .host()
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_string(),
            p.uri()
                .port_u16()
                .unwrap_or(if p.uri().scheme_str() == Some("https") {
                    443
                } else {
                    80
                }),
            Some(p),
        ),
        None => (ep.host.clone(), ep.port, None),
    };
    let what = if via.is_some() {
        format!("proxy {host}")
    } else {
        host.clone()
    };
    let addrs = match resolve(&host, port, deadline) {
        Ok((addrs, took)) => {
            let shown: Vec<String> = addrs.iter().take(3).map(|a| a.ip().to_string()).collect();
            let mut detail = match took {
                None => format!("{host}: an address, no lookup"),
                Some(t) => format!("{what}: {} ({})", shown.join(", "), ms(t)),
            };
            if via.is_some() {
                detail.push_str(&format!("; the proxy resolves {}", ep.host));
            }
            checks.push(Check::pass("network.dns", detail));
            addrs
        }
        Err(e) => {
            checks.push(
                Check::fail("network.dns", format!("cannot resolve {what}: {e}"))
                    .fix("check your network, VPN or DNS (and AWS_ENDPOINT_URL_ECR or HTTPS_PROXY, if you set them)"),
            );
            skip_rest(&mut checks, 1, "the name does not resolve");
            return Probe {
                checks,
                reachable: false,
            };
        }
    };
    let started = Instant::now();
    let mut sock = match connect(&addrs, deadline) {
        Ok(s) => s,
        Err(e) => {
            let fix = if via.is_some() {
                "check HTTPS_PROXY: the proxy does not accept connections"
            } else {
                "a firewall or VPN may block the port; behind a corporate proxy, set HTTPS_PROXY=http://host:port"
            };
            checks.push(
                Check::fail(
                    "network.tcp",
                    format!("cannot connect to {what} port {port}: {e}"),
                )
                .fix(fix),
            );
            skip_rest(&mut checks, 2, "no connection");
            return Probe {
                checks,
                reachable: false,
            };
        }
    };
    let connected = started.elapsed();
    let peer = sock
        .peer_addr()
        .map_or_else(|_| format!("{host}:{port}"), |a| a.to_string());
    let mut tcp = format!(
        "connected to {}{peer} ({})",
        if via.is_some() { "proxy " } else { "" },
        ms(connected)
    );
    if let (Some(p), true) = (via, ep.https) {
        let _ = sock.set_read_timeout(Some(deadline.step(CONNECT_LIMIT)));
        let t = Instant::now();
        match tunnel(&mut sock, ep, p) {
            Ok(()) => tcp.push_str(&format!(
                "; CONNECT {}:{}: 200 ({})",
                ep.host,
                ep.port,
                ms(t.elapsed())
            )),
            Err((detail, fix)) => {
                checks.push(Check::fail("network.tcp", format!("{tcp}; {detail}")).fix(fix));
                skip_rest(&mut checks, 2, "the proxy refused the tunnel");
                return Probe {
                    checks,
                    reachable: false,
                };
            }
        }
    }
    checks.push(Check::pass("network.tcp", tcp));
    let mut stream: Box<dyn Stream> = if ep.https {
        match super::tls::handshake(sock, ep, deadline) {
            Ok((stream, detail)) => {
                checks.push(Check::pass("network.tls", detail));
                stream
            }
            Err((detail, fix)) => {
                checks.push(Check::fail("network.tls", detail).fix_opt(fix));
                skip_rest(&mut checks, 3, "no TLS connection");
                return Probe {
                    checks,
                    reachable: false,
                };
            }
        }
    } else {
        checks.push(Check::skip("network.tls", "a plain HTTP endpoint: no TLS"));
        let limit = deadline.step(HTTP_LIMIT);
        let _ = sock.set_read_timeout(Some(limit));
        let _ = sock.set_write_timeout(Some(limit));
        Box::new(sock)
    };
    checks.push(clock(
        &mut *stream,
        ep,
        via.is_some() && !ep.https,
        deadline,
        now,
    ));
    Probe {
        checks,
        reachable: true,
    }
}

/// The addresses of `host`, and how long the lookup took (`None`: it is an address).
fn resolve(
    host: &str,
    port: u16,
    deadline: &Deadline,
) -> Result<(Vec<SocketAddr>, Option<Duration>), Unreached> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((vec![SocketAddr::new(ip, port)], None));
    }
    let limit = deadline.step(DNS_LIMIT);
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let name = (host.to_string(), port);
    // getaddrinfo cannot be cancelled: on a timeout the thread is left to finish alone.
    std::thread::spawn(move || {
        let _ = tx.send(name.to_socket_addrs().map(Vec::from_iter));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok((addrs, Some(started.elapsed()))),
        Ok(Ok(_)) => Err(Unreached::NoAddress),
        Ok(Err(e)) => Err(Unreached::Lookup(e)),
        Err(_) => Err(Unreached::ResolverSilent(limit)),
    }
}

fn connect(addrs: &[SocketAddr], deadline: &Deadline) -> Result<TcpStream, Unreached> {
    let mut last = Unreached::NoAddress;
    for addr in addrs.iter().take(3) {
        let limit = deadline.step(CONNECT_LIMIT);
        match TcpStream::connect_timeout(addr, limit) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => last = Unreached::ConnectSilent(limit),
            Err(e) => last = Unreached::Connect(e),
        }
        if deadline.left() < Duration::from_millis(500) {
            break;
        }
    }
    Err(last)
}

/// Reads an HTTP response head (at most 16 KiB).
fn read_head(stream: &mut dyn Read) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte)? {
            0 => break,
            _ => head.push(byte[0]),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// `CONNECT host:port` through the proxy: `Err((detail, fix))` unless it answers 200.
fn tunnel(sock: &mut TcpStream, ep: &Endpoint, proxy: &Intercept) -> Result<(), (String, String)> {
    let mut req = format!(
        "CONNECT {0}:{1} HTTP/1.1\r\nHost: {0}:{1}\r\n",
        ep.host, ep.port
    );
    if let Some(auth) = proxy.basic_auth().and_then(|a| a.to_str().ok()) {
        req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    req.push_str("\r\n");
    let head = sock
        .write_all(req.as_bytes())
        .and_then(|()| read_head(sock))
        .map_err(|e| (format!("CONNECT: {e}"), "check HTTPS_PROXY".to_string()))?;
    let status = head.lines().next().unwrap_or("").trim().to_string();
    let code = status.split_whitespace().nth(1).unwrap_or("");
    match code {
        "200" => Ok(()),
        "407" if proxy.basic_auth().is_some() => Err((
            "the proxy refused the credentials in the proxy URL (407)".into(),
            "check the user and password in HTTPS_PROXY (percent-encode special characters)".into(),
        )),
        "407" => Err((
            "the proxy requires authentication (407 Proxy Authentication Required)".into(),
            "HTTPS_PROXY=http://USER:PASSWORD@host:port   (percent-encode special characters)"
                .into(),
        )),
        _ if status.is_empty() => Err((
            "the proxy closed the connection without answering CONNECT".into(),
            "check HTTPS_PROXY".into(),
        )),
        _ => Err((
            format!(
                "the proxy answered CONNECT with \"{}\"",
                super::process::first_line(&status)
            ),
            "check HTTPS_PROXY, and that the proxy allows the endpoint".into(),
        )),
    }
}

/// The server's clock against ours, from its `Date` header.
fn clock(
    stream: &mut dyn Stream,
    ep: &Endpoint,
    absolute: bool,
    deadline: &Deadline,
    now: i64,
) -> Check {
    let host = &ep.host;
    let target = if absolute {
        ep.url.trim_end_matches('/').to_string() + "/"
    } else {
        "/".into()
    };
    let authority = if ep.port == if ep.https { 443 } else { 80 } {
        host.clone()
    } else {
        format!("{host}:{}", ep.port)
    };
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: ecr-login-doctor\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let head = match stream
        .write_all(req.as_bytes())
        .and_then(|()| read_head(stream))
    {
        Ok(h) if !h.is_empty() => h,
        Ok(_) => {
            return Check::skip(
                "network.clock",
                format!("{host} closed the connection without an HTTP answer"),
            );
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return Check::skip(
                "network.clock",
                format!(
                    "no HTTP answer from {host} within {}s",
                    HTTP_LIMIT.as_secs()
                ),
            );
        }
        Err(e) => return Check::skip("network.clock", format!("no HTTP answer from {host}: {e}")),
    };
    let local = deadline.now_ms(now);
    let Some(date) = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("date"))
        })
        .map(|(_, v)| v.trim().to_string())
    else {
        return Check::skip(
            "network.clock",
            format!("{host} answered without a Date header"),
        );
    };
    let Some(server) = http_date(&date) else {
        return Check::skip(
            "network.clock",
            format!(
                "{host}'s Date header is not an HTTP date: {}",
                super::process::first_line(&date)
            ),
        );
    };
    let skew = server - local;
    let minutes = (skew.abs() + 30_000) / 60_000;
    let side = if skew > 0 { "behind" } else { "ahead of" };
    if skew.abs() > MAX_SKEW_MS {
        Check::fail(
            "network.clock",
            format!("this machine's clock is {minutes} min {side} {host}'s (Date: {date}; here: {}): signatures are refused and tokens' lifetimes misjudged", rfc3339(local)),
        )
        .fix("sync the clock: sudo timedatectl set-ntp true (Linux), or set the time automatically (macOS, Windows settings)")
    } else {
        Check::pass(
            "network.clock",
            format!("within {}s of {host}'s clock", skew.abs() / 1000),
        )
    }
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
