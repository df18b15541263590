//! An HTTP proxy on 127.0.0.1, as `HTTPS_PROXY` / `HTTP_PROXY` name one: `CONNECT` tunnels
//! (what the AWS SDK uses for `https://` endpoints) and absolute-form forwarding (`GET
//! http://host:port/path`, what it uses for `http://` endpoints: aws-smithy-http-client's
//! rustls connector tunnels only HTTPS and sends plain HTTP to the proxy in absolute form,
//! with `Proxy-Authorization` on the request itself).
//!
//! Optionally requires Basic proxy credentials (407 otherwise), and can send every request
//! to one local port whatever host it names ([`ProxyOptions::redirect_to`]), so a test can
//! use a real AWS host name through the proxy and still reach a local server. Records every
//! request head it receives.
//!
//! One thread per connection (two while tunnelling); every socket is shut down when the
//! [`ConnectProxy`] is dropped.

use super::listener::{Conns, Served, Server, lock, split};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The exact 407 answer.
pub const PROXY_AUTH_REQUIRED: &str = "HTTP/1.1 407 Proxy Authentication Required\r\n\
    Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n";
const ESTABLISHED: &str = "HTTP/1.1 200 Connection established\r\n\r\n";
const BAD_GATEWAY: &str =
    "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const BAD_REQUEST: &str =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// Required `Proxy-Authorization: Basic base64(user:pass)`; `None` lets everyone through.
    pub basic_auth: Option<(String, String)>,
    /// Every tunnel and forwarded request goes to `127.0.0.1:<port>` instead of the host it names.
    pub redirect_to: Option<u16>,
}

/// One request head the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// `CONNECT`, `GET`, `POST`, ...
    pub method: String,
    /// As sent: `host:port` for CONNECT, the absolute URL otherwise.
    pub target: String,
    /// It carried the required credentials (always true without [`ProxyOptions::basic_auth`]).
    pub authorized: bool,
    /// What the proxy answered: 200 (tunnel established, or the upstream's status when
    /// forwarding), 407, 400 or 502.
    pub status: u16,
}

/// The running proxy; dropping it shuts it down and closes every connection and tunnel.
pub struct ConnectProxy {
    server: Server<Shared>,
}

struct Shared {
    options: ProxyOptions,
    conns: Conns,
    requests: Mutex<Vec<ProxyRequest>>,
}

impl ConnectProxy {
    /// Listens on a free port of 127.0.0.1. Panics if it cannot.
    pub fn start(options: ProxyOptions) -> ConnectProxy {
        let shared = Shared {
            options,
            conns: Conns::default(),
            requests: Mutex::default(),
        };
        ConnectProxy {
            server: Server::on_free_port("proxy", shared),
        }
    }

    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// `http://USER:PASS@127.0.0.1:PORT`, user and password percent-encoded.
    pub fn url_with_auth(&self, user: &str, pass: &str) -> String {
        let addr = self.server.addr();
        format!("http://{}:{}@{addr}", encode(user), encode(pass))
    }

    /// Every request head received, in order.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        lock(&self.server.shared().requests).clone()
    }
}

/// Userinfo percent-encoding: everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Served for Shared {
    fn conns(&self) -> &Conns {
        &self.conns
    }

    fn serve(&self, stream: TcpStream) {
        serve(stream, self);
    }
}

impl Shared {
    fn record(&self, method: &str, target: &str, authorized: bool, status: u16) {
        lock(&self.requests).push(ProxyRequest {
            method: method.to_string(),
            target: target.to_string(),
            authorized,
            status,
        });
    }

    fn authorized(&self, header: Option<&str>) -> bool {
        let Some((user, pass)) = &self.options.basic_auth else {
            return true;
        };
        let expected = STANDARD.encode(format!("{user}:{pass}"));
        header.is_some_and(|h| {
            let mut parts = h.split_whitespace();
            let scheme = parts.next().unwrap_or("");
            scheme.eq_ignore_ascii_case("basic") && parts.next() == Some(expected.as_str())
        })
    }

    /// Where to connect for `host:port`.
    fn connect(&self, authority: &str) -> io::Result<TcpStream> {
        if let Some(port) = self.options.redirect_to {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            return TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT);
        }
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in authority.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

struct Head {
    method: String,
    target: String,
    /// As received, in order.
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }
}

/// One request head; `Ok(None)` at EOF between requests.
fn read_head(r: &mut BufReader<TcpStream>) -> Result<Option<Head>, ()> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let room = MAX_HEAD.saturating_sub(head.len()) as u64;
        match r.by_ref().take(room).read_until(b'\n', &mut head) {
            Ok(0) if head.is_empty() => return Ok(None),
            Ok(0) | Err(_) => return Err(()),
            Ok(_) if head == b"\r\n" => head.clear(),
            Ok(_) => {}
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; 100];
    let mut parsed = httparse::Request::new(&mut slots);
    if !matches!(parsed.parse(&head), Ok(httparse::Status::Complete(_))) {
        return Err(());
    }
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(Some(Head {
        method: parsed.method.unwrap_or_default().to_string(),
        target: parsed.path.unwrap_or_default().to_string(),
        headers: parsed
            .headers
            .iter()
            .map(|h| (h.name.to_string(), lossy(h.value)))
            .collect(),
    }))
}

/// Serves one client connection: forwarded requests until EOF, or one tunnel.
fn serve(stream: TcpStream, shared: &Shared) {
    let Some((mut input, mut out)) = split(stream) else {
        return;
    };
    loop {
        let head = match read_head(&mut input) {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(()) => {
                let _ = out.write_all(BAD_REQUEST.as_bytes());
                return;
            }
        };
        let authorized = shared.authorized(head.header("proxy-authorization"));
        if head.method.eq_ignore_ascii_case("CONNECT") {
            if !authorized {
                shared.record(&head.method, &head.target, false, 407);
                let _ = out.write_all(PROXY_AUTH_REQUIRED.as_bytes());
                return;
            }
            return tunnel(&head, input, out, shared);
        }
        if !forward(&head, authorized, &mut input, &mut out, shared) {
            return;
        }
    }
}

/// Answers a CONNECT and relays both ways until either side is done.
fn tunnel(head: &Head, input: BufReader<TcpStream>, mut out: TcpStream, shared: &Shared) {
    let up = match shared.connect(&head.target) {
        Ok(up) => up,
        Err(_) => {
            shared.record(&head.method, &head.target, true, 502);
            let _ = out.write_all(BAD_GATEWAY.as_bytes());
            return;
        }
    };
    let Some(up_id) = shared.conns.track(&up) else {
        return;
    };
    shared.record(&head.method, &head.target, true, 200);
    let _ = up.set_nodelay(true);
    if out.write_all(ESTABLISHED.as_bytes()).is_err() {
        shared.conns.untrack(up_id);
        return;
    }
    // Bytes the client sent after the head are already in the reader's buffer: the reader
    // goes to the upstream as it is.
    let (Ok(mut up_write), Ok(mut up_read)) = (up.try_clone(), up.try_clone()) else {
        shared.conns.untrack(up_id);
        return;
    };
    let mut from_client = input;
    let to_up = thread::spawn(move || {
        let _ = io::copy(&mut from_client, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut up_read, &mut out);
    let _ = out.shutdown(Shutdown::Write);
    let _ = to_up.join();
    shared.conns.untrack(up_id);
}

/// Forwards one absolute-form request and its answer; false to close the connection.
fn forward(
    head: &Head,
    authorized: bool,
    input: &mut BufReader<TcpStream>,
    out: &mut TcpStream,
    shared: &Shared,
) -> bool {
    let refuse = |out: &mut TcpStream, status: u16, reply: &str| {
        shared.record(&head.method, &head.target, authorized, status);
        let _ = out.write_all(reply.as_bytes());
        false
    };
    let Some(rest) = head.target.strip_prefix("http://") else {
        return refuse(out, 400, BAD_REQUEST);
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let authority = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    if head.header("transfer-encoding").is_some() {
        return refuse(out, 400, BAD_REQUEST);
    }
    let len: usize = match head.header("content-length").map(|v| v.trim().parse()) {
        None => 0,
        Some(Ok(n)) if n <= MAX_BODY => n,
        Some(_) => return refuse(out, 400, BAD_REQUEST),
    };
    // The body is read even when refused: closing on unread bytes would reset the 407.
    let mut body = vec![0; len];
    if input.read_exact(&mut body).is_err() {
        return false;
    }
    if !authorized {
        shared.record(&head.method, &head.target, false, 407);
        let _ = out.write_all(PROXY_AUTH_REQUIRED.as_bytes());
        return false;
    }
    let Ok(up) = shared.connect(&authority) else {
        return refuse(out, 502, BAD_GATEWAY);
    };
    let Some(up_id) = shared.conns.track(&up) else {
        return false;
    };
    let (status, keep) = relay_one(head, path, &body, up, out);
    shared.conns.untrack(up_id);
    shared.record(&head.method, &head.target, true, status);
    keep
}

/// Sends the request in origin form (one request per upstream connection) and copies the
/// answer back: (status, whether the client connection can carry another request).
fn relay_one(
    head: &Head,
    path: &str,
    body: &[u8],
    up: TcpStream,
    out: &mut TcpStream,
) -> (u16, bool) {
    let mut req = format!("{} {path} HTTP/1.1\r\n", head.method);
    for (k, v) in &head.headers {
        let hop = [
            "proxy-authorization",
            "proxy-connection",
            "connection",
            "keep-alive",
        ];
        if !hop.iter().any(|h| k.eq_ignore_ascii_case(h)) {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    req.push_str("Connection: close\r\n\r\n");
    let Ok(mut up_write) = up.try_clone() else {
        return (502, false);
    };
    if up_write.write_all(req.as_bytes()).is_err() || up_write.write_all(body).is_err() {
        let _ = out.write_all(BAD_GATEWAY.as_bytes());
        return (502, false);
    }
    let mut reader = BufReader::new(up);
    let mut reply = Vec::new();
    while !reply.ends_with(b"\r\n\r\n") {
        let room = MAX_HEAD.saturating_sub(reply.len()) as u64;
        match reader.by_ref().take(room).read_until(b'\n', &mut reply) {
            Ok(0) | Err(_) => {
                let _ = out.write_all(BAD_GATEWAY.as_bytes());
                return (502, false);
            }
            Ok(_) => {}
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; 100];
    let mut parsed = httparse::Response::new(&mut slots);
    if !matches!(parsed.parse(&reply), Ok(httparse::Status::Complete(_))) {
        let _ = out.write_all(BAD_GATEWAY.as_bytes());
        return (502, false);
    }
    let status = parsed.code.unwrap_or(502);
    let header = |name: &str| {
        let h = parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name));
        h.map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    let closes = header("connection").is_some_and(|v| v.contains("close"));
    let no_body =
        head.method.eq_ignore_ascii_case("HEAD") || matches!(status, 100..=199 | 204 | 304);
    if out.write_all(&reply).is_err() {
        return (status, false);
    }
    match length {
        _ if no_body => (status, !closes),
        Some(n) => {
            let copied = io::copy(&mut reader.by_ref().take(n), out).unwrap_or(0);
            (status, copied == n && !closes)
        }
        // Framed by the end of the connection: the client's ends too.
        None => {
            let _ = io::copy(&mut reader, out);
            (status, false)
        }
    }
}
