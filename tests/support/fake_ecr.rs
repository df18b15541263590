//! A fake AWS endpoint for tests and benchmarks: ECR private and ECR Public
//! `GetAuthorizationToken` (awsJson 1.1) and STS `AssumeRole` / `AssumeRoleWithWebIdentity`
//! (query protocol, XML replies), served over plain HTTP/1.1 on 127.0.0.1.
//!
//! It exists so the helper can be tested end to end through the real AWS SDK (signing,
//! retries, error classification, `AWS_ENDPOINT_URL_*` overrides) with no network and no
//! AWS account, and so tests can ask for what AWS will not produce on demand: throttling,
//! 500s, denied or expired credentials, undecodable tokens, slow and hung calls. Every
//! request is recorded, so a test can assert which access key signed which call.
//!
//! std only, and free of `#[cfg(test)]`: it is `#[path]`-included into each integration
//! test crate and into `examples/fake_ecr.rs`. Each includer uses a subset, hence the allow.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The account used in `proxyEndpoint` when the request names no registry.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
pub const ECR_TARGET: &str = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
pub const ECR_PUBLIC_TARGET: &str = "SpencerFrontendService.GetAuthorizationToken";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const MAX_HEAD: u64 = 64 * 1024;
const MAX_BODY: usize = 16 << 20;

/// How the next `GetAuthorizationToken` call (private or public) goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 400 `ThrottlingException` "Rate exceeded".
    Throttle,
    /// 500 `ServerException`.
    ServerError,
    /// 400 `AccessDeniedException`.
    Deny,
    /// 400 `ExpiredTokenException`.
    ExpiredToken,
    /// 400 `UnrecognizedClientException`.
    Unrecognized,
    /// 200, but `authorizationToken` is not base64.
    BadToken,
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Never answer; the connection is closed when the server is dropped.
    Hang,
}

impl Fault {
    /// The awsJson error (status, type, message) this fault answers with, if any.
    fn error(&self, service: &str) -> Option<(u16, &'static str, String)> {
        let (status, kind, message) = match self {
            Fault::Throttle => (400, "ThrottlingException", "Rate exceeded".to_string()),
            Fault::ServerError => (500, "ServerException", "Internal service error".to_string()),
            Fault::Deny => (
                400,
                "AccessDeniedException",
                format!(
                    "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
                     {service}:GetAuthorizationToken on resource: *"
                ),
            ),
            Fault::ExpiredToken => (
                400,
                "ExpiredTokenException",
                "The security token included in the request is expired".into(),
            ),
            Fault::Unrecognized => (
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ),
            Fault::BadToken | Fault::Delay(_) | Fault::Hang => return None,
        };
        Some((status, kind, message))
    }
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// `X-Amz-Target`, or `sts:<Action>` for query-protocol calls.
    pub target: String,
    /// From `Authorization: ... Credential=AKID/DATE/REGION/SERVICE/aws4_request`; empty if unsigned.
    pub access_key_id: String,
    /// The signing region, `us-east-1` when absent.
    pub region: String,
    pub body: String,
    pub authorization: String,
}

/// The running server; dropping it shuts it down and closes every connection.
pub struct FakeEcr {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    stopping: AtomicBool,
    token_calls: AtomicUsize,
    sts_calls: AtomicUsize,
    next_conn: AtomicU64,
    conns: Mutex<HashMap<u64, TcpStream>>,
}

struct State {
    password: Option<String>,
    lifetime: Duration,
    expires_at: Option<f64>,
    faults: VecDeque<Fault>,
    fault: Option<Fault>,
    account: String,
    sts_lifetime: Duration,
    role_keys: HashMap<String, String>,
    roles_seen: Vec<String>,
    recording: bool,
    requests: Vec<Request>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakeEcr {
    /// Starts on a free port. Panics if it cannot listen (a broken test machine).
    pub fn start() -> FakeEcr {
        Self::start_on(0)
    }

    pub fn start_on(port: u16) -> FakeEcr {
        Self::try_start_on(port)
            .unwrap_or_else(|e| panic!("fake ECR: cannot listen on 127.0.0.1:{port}: {e}"))
    }

    pub fn try_start_on(port: u16) -> io::Result<FakeEcr> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                password: None,
                lifetime: Duration::from_secs(12 * 3600),
                expires_at: None,
                faults: VecDeque::new(),
                fault: None,
                account: DEFAULT_ACCOUNT.to_string(),
                sts_lifetime: Duration::from_secs(3600),
                role_keys: HashMap::new(),
                roles_seen: Vec::new(),
                recording: true,
                requests: Vec::new(),
            }),
            stopping: AtomicBool::new(false),
            token_calls: AtomicUsize::new(0),
            sts_calls: AtomicUsize::new(0),
            next_conn: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        });
        let for_thread = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("fake-ecr-accept".into())
            .spawn(move || accept_loop(&listener, &for_thread))?;
        Ok(FakeEcr {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every token from now on decodes to `AWS:<password>`.
    pub fn set_password(&self, password: &str) {
        lock(&self.shared.state).password = Some(password.to_string());
    }

    /// Back to a fresh [`default_password`] per token.
    pub fn clear_password(&self) {
        lock(&self.shared.state).password = None;
    }

    /// `expiresAt` = now + `lifetime` (default 12 h).
    pub fn set_lifetime(&self, lifetime: Duration) {
        lock(&self.shared.state).lifetime = lifetime;
    }

    /// Forces an absolute `expiresAt` (epoch seconds); `None` goes back to now + lifetime.
    pub fn set_expires_at(&self, expires_at: Option<f64>) {
        lock(&self.shared.state).expires_at = expires_at;
    }

    /// Queues a fault for the next token request; queued faults go before [`Self::set_fault`].
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.state).faults.push_back(fault);
    }

    /// The fault applied to every token request once the queue is empty.
    pub fn set_fault(&self, fault: Option<Fault>) {
        lock(&self.shared.state).fault = fault;
    }

    /// The account in `proxyEndpoint` when the request has no `registryIds`.
    pub fn set_default_account(&self, account: &str) {
        lock(&self.shared.state).account = account.to_string();
    }

    /// The access key id STS hands out for `role_arn` (default `ASIAASSUMED<n>`, where n
    /// numbers the distinct role ARNs in the order first seen, from 1).
    pub fn set_role_key(&self, role_arn: &str, access_key_id: &str) {
        lock(&self.shared.state)
            .role_keys
            .insert(role_arn.to_string(), access_key_id.to_string());
    }

    /// Lifetime of STS credentials (default 1 h).
    pub fn set_sts_lifetime(&self, lifetime: Duration) {
        lock(&self.shared.state).sts_lifetime = lifetime;
    }

    /// Turns request recording off (long benchmark runs) or on.
    pub fn set_recording(&self, on: bool) {
        lock(&self.shared.state).recording = on;
    }

    /// ECR and ECR Public `GetAuthorizationToken` requests received, faulted ones included.
    pub fn token_calls(&self) -> usize {
        self.shared.token_calls.load(SeqCst)
    }

    /// STS `AssumeRole*` requests received.
    pub fn sts_calls(&self) -> usize {
        self.shared.sts_calls.load(SeqCst)
    }

    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.state).requests.clone()
    }
}

impl Drop for FakeEcr {
    fn drop(&mut self) {
        self.shared.stopping.store(true, SeqCst);
        // Wake the accept loop; join it only if the wake-up got through.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).is_ok();
        if let Some(handle) = self.acceptor.take().filter(|_| woke) {
            let _ = handle.join();
        }
        for (_, conn) in lock(&self.shared.conns).drain() {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopping.load(SeqCst) {
            break;
        }
        let Ok(stream) = conn else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let id = shared.next_conn.fetch_add(1, SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let for_thread = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("fake-ecr-conn".into())
            .spawn(move || {
                serve(stream, &for_thread);
                lock(&for_thread.conns).remove(&id);
            });
        if spawned.is_err() {
            lock(&shared.conns).remove(&id);
        }
    }
}

/// Serves requests on one keep-alive connection until EOF, an error, or shutdown.
fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    while !shared.stopping.load(SeqCst) {
        let req = match read_request(&mut reader) {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(msg) => {
                let resp = json_error(400, "SerializationException", &msg);
                let _ = write_response(reader.get_mut(), &resp, false);
                return;
            }
        };
        let Some(resp) = shared.handle(&req) else {
            return;
        };
        if write_response(reader.get_mut(), &resp, req.keep_alive).is_err() || !req.keep_alive {
            return;
        }
    }
}

struct HttpRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One line without its CRLF; `Ok(None)` at EOF before any byte.
fn read_line(r: &mut BufReader<TcpStream>) -> Result<Option<String>, String> {
    let mut buf = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_HEAD)
        .read_until(b'\n', &mut buf)
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err("line too long or truncated".into());
    }
    let line = String::from_utf8_lossy(&buf);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn read_request(r: &mut BufReader<TcpStream>) -> Result<Option<HttpRequest>, String> {
    let mut start = String::new();
    for _ in 0..8 {
        match read_line(r)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => {
                start = line;
                break;
            }
        }
    }
    let mut parts = start.split_whitespace();
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("bad request line {start:?}"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("unsupported version {version:?}"));
    }
    let mut headers = Vec::new();
    let mut size = start.len();
    loop {
        let line = read_line(r)?.ok_or("connection closed inside the headers")?;
        if line.is_empty() {
            break;
        }
        size += line.len();
        if size as u64 > MAX_HEAD {
            return Err("headers too large".into());
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header {line:?}"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut req = HttpRequest {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body: Vec::new(),
        keep_alive: true,
    };
    let connection = req.header("connection").unwrap_or("").to_ascii_lowercase();
    req.keep_alive = if version == "HTTP/1.0" {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };
    if req
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        let _ = r.get_mut().write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        req.body = read_chunked(r)?;
    } else if let Some(len) = req.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad Content-Length {len:?}"))?;
        if len > MAX_BODY {
            return Err("body too large".into());
        }
        req.body = vec![0; len];
        r.read_exact(&mut req.body)
            .map_err(|e| format!("short body: {e}"))?;
    }
    Ok(Some(req))
}

fn read_chunked(r: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?.ok_or("connection closed inside a chunked body")?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(r)?
                .ok_or("connection closed inside trailers")?
                .is_empty()
            {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err("body too large".into());
        }
        let at = body.len();
        body.resize(at + size, 0);
        r.read_exact(&mut body[at..])
            .map_err(|e| format!("short chunk: {e}"))?;
        if !read_line(r)?.unwrap_or_default().is_empty() {
            return Err("chunk not followed by CRLF".into());
        }
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn write_response(w: &mut TcpStream, resp: &Response, keep_alive: bool) -> io::Result<()> {
    let reason = match resp.status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Unknown",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        resp.status,
        resp.content_type,
        resp.body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    for (name, value) in &resp.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&resp.body);
    w.write_all(out.as_bytes())?;
    w.flush()
}

fn json_ok(body: String) -> Response {
    let headers = vec![("x-amzn-RequestId", request_id())];
    Response {
        status: 200,
        content_type: "application/x-amz-json-1.1",
        headers,
        body,
    }
}

/// An awsJson 1.1 error, as AWS sends it: type in the header and in `__type`.
fn json_error(status: u16, kind: &str, message: &str) -> Response {
    Response {
        status,
        content_type: "application/x-amz-json-1.1",
        headers: vec![
            ("x-amzn-ErrorType", kind.to_string()),
            ("x-amzn-RequestId", request_id()),
        ],
        body: format!(
            "{{\"__type\":\"{}\",\"message\":\"{}\"}}",
            json_escape(kind),
            json_escape(message)
        ),
    }
}

/// A query-protocol (STS) error.
fn xml_error(code: &str, message: &str) -> Response {
    let id = request_id();
    let body = format!(
        "<ErrorResponse xmlns=\"{STS_NS}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{}</Code>\n    \
         <Message>{}</Message>\n  </Error>\n  <RequestId>{id}</RequestId>\n</ErrorResponse>\n",
        xml_escape(code),
        xml_escape(message),
    );
    Response {
        status: 400,
        content_type: "text/xml",
        headers: vec![("x-amzn-RequestId", id)],
        body,
    }
}

impl Shared {
    /// The reply to one request; `None` means close the connection without one.
    fn handle(&self, req: &HttpRequest) -> Option<Response> {
        let target = req.header("x-amz-target").unwrap_or("").to_string();
        let authorization = req.header("authorization").unwrap_or("").to_string();
        let (access_key_id, region) = parse_credential(&authorization);
        let body = String::from_utf8_lossy(&req.body).into_owned();
        let form = if target.is_empty() {
            parse_form(&body)
        } else {
            Vec::new()
        };
        let action = form_get(&form, "Action").unwrap_or("").to_string();
        let post = req.method == "POST";
        let kind = match target.as_str() {
            ECR_TARGET | ECR_PUBLIC_TARGET if post => "token",
            "" if post && matches!(action.as_str(), "AssumeRole" | "AssumeRoleWithWebIdentity") => {
                "sts"
            }
            _ => "unknown",
        };
        let recorded = if !target.is_empty() {
            target.clone()
        } else if !action.is_empty() {
            format!("sts:{action}")
        } else {
            format!("{} {}", req.method, req.path)
        };
        {
            let mut st = lock(&self.state);
            if st.recording {
                let region = region.clone();
                st.requests.push(Request {
                    target: recorded.clone(),
                    access_key_id,
                    region,
                    body: body.clone(),
                    authorization,
                });
            }
        }
        match kind {
            "token" => {
                self.token_calls.fetch_add(1, SeqCst);
                self.token(target == ECR_PUBLIC_TARGET, &body, &region)
            }
            "sts" => {
                self.sts_calls.fetch_add(1, SeqCst);
                Some(self.sts(&action, &form))
            }
            // A query-protocol (STS-style) request gets its error in XML, as AWS does.
            _ if target.is_empty() && !action.is_empty() => Some(xml_error(
                "InvalidAction",
                &format!("Could not find operation {action} for version 2011-06-15"),
            )),
            _ => Some(json_error(
                400,
                "UnknownOperationException",
                &format!("Unknown operation {recorded}"),
            )),
        }
    }

    /// Sleeps up to `d`; false if the server is shutting down meanwhile.
    fn nap(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while !self.stopping.load(SeqCst) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(Duration::from_millis(20)));
        }
        false
    }

    fn token(&self, public: bool, body: &str, region: &str) -> Option<Response> {
        let fault = {
            let mut st = lock(&self.state);
            st.faults.pop_front().or_else(|| st.fault.clone())
        };
        if fault == Some(Fault::Hang) {
            while self.nap(Duration::from_secs(3600)) {}
            return None;
        }
        if let Some(Fault::Delay(d)) = fault
            && !self.nap(d)
        {
            return None;
        }
        let service = if public { "ecr-public" } else { "ecr" };
        if let Some((status, kind, message)) = fault.as_ref().and_then(|f| f.error(service)) {
            return Some(json_error(status, kind, &message));
        }
        let ids = match registry_ids(body) {
            Ok(ids) => ids,
            Err((kind, message)) => return Some(json_error(400, kind, &message)),
        };
        let (password, exp, account) = {
            let st = lock(&self.state);
            let exp = st
                .expires_at
                .unwrap_or(now_secs() + st.lifetime.as_secs_f64());
            let password = st.password.clone();
            (
                password.unwrap_or_else(|| default_password(exp.floor() as i64)),
                exp,
                st.account.clone(),
            )
        };
        let token = if fault == Some(Fault::BadToken) {
            "!!not*base64:this-token-cannot-be-decoded!!".to_string()
        } else {
            encode_base64(format!("AWS:{password}").as_bytes())
        };
        let token = json_escape(&token);
        if public {
            let data = format!(r#"{{"authorizationToken":"{token}","expiresAt":{exp:.3}}}"#);
            return Some(json_ok(format!(r#"{{"authorizationData":{data}}}"#)));
        }
        // Real ECR answers one entry per registry id; they all share the token.
        let accounts = if ids.is_empty() {
            vec![json_escape(&account)]
        } else {
            ids
        };
        let entries: Vec<String> = accounts
            .iter()
            .map(|acct| {
                let endpoint = format!("https://{acct}.dkr.ecr.{region}.amazonaws.com");
                format!(r#"{{"authorizationToken":"{token}","expiresAt":{exp:.3},"proxyEndpoint":"{endpoint}"}}"#)
            })
            .collect();
        Some(json_ok(format!(
            r#"{{"authorizationData":[{}]}}"#,
            entries.join(",")
        )))
    }

    fn sts(&self, action: &str, form: &[(String, String)]) -> Response {
        let role = form_get(form, "RoleArn").unwrap_or("");
        // arn:PARTITION:iam::ACCOUNT:role/PATH/NAME
        let fields: Vec<&str> = role.splitn(6, ':').collect();
        let (Some(&partition), Some(&account), Some(name)) = (
            fields.get(1),
            fields.get(4),
            fields
                .get(5)
                .and_then(|r| r.strip_prefix("role/"))
                .and_then(|p| p.rsplit('/').next()),
        ) else {
            return xml_error("ValidationError", &format!("Invalid RoleArn {role:?}"));
        };
        let session = form_get(form, "RoleSessionName")
            .filter(|s| !s.is_empty())
            .unwrap_or("fake-session");
        let web = action == "AssumeRoleWithWebIdentity";
        if web && form_get(form, "WebIdentityToken").unwrap_or("").is_empty() {
            return xml_error("ValidationError", "WebIdentityToken is required");
        }
        let (key, index, expires) = {
            let mut st = lock(&self.state);
            let index = match st.roles_seen.iter().position(|r| r == role) {
                Some(i) => i + 1,
                None => {
                    st.roles_seen.push(role.to_string());
                    st.roles_seen.len()
                }
            };
            let key = st
                .role_keys
                .get(role)
                .cloned()
                .unwrap_or_else(|| format!("ASIAASSUMED{index}"));
            (key, index, now_secs() + st.sts_lifetime.as_secs_f64())
        };
        let arn = xml_escape(&format!(
            "arn:{partition}:sts::{account}:assumed-role/{name}/{session}"
        ));
        let role_id = xml_escape(&format!("AROAFAKEROLE{index:08}:{session}"));
        let token = encode_base64(format!("{key}:{role}").as_bytes());
        let (key, expiration) = (xml_escape(&key), iso8601(expires.floor() as i64));
        let web_fields = if web {
            let provider =
                xml_escape(form_get(form, "ProviderId").unwrap_or("oidc.fake.example.com"));
            format!(
                r#"
    <SubjectFromWebIdentityToken>fake-subject</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <Provider>{provider}</Provider>"#
            )
        } else {
            String::new()
        };
        let id = request_id();
        let body = format!(
            r#"<{action}Response xmlns="{STS_NS}">
  <{action}Result>{web_fields}
    <AssumedRoleUser>
      <AssumedRoleId>{role_id}</AssumedRoleId>
      <Arn>{arn}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{key}</AccessKeyId>
      <SecretAccessKey>fake/secret/{key}</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzEFAKE{token}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </{action}Result>
  <ResponseMetadata>
    <RequestId>{id}</RequestId>
  </ResponseMetadata>
</{action}Response>
"#
        );
        let headers = vec![("x-amzn-RequestId", id)];
        Response {
            status: 200,
            content_type: "text/xml",
            headers,
            body,
        }
    }
}

/// `registryIds` from a `GetAuthorizationToken` body; an error is (exception type, message).
fn registry_ids(body: &str) -> Result<Vec<String>, (&'static str, String)> {
    let b = body.trim();
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let malformed = || {
        (
            "SerializationException",
            format!("Malformed request body: {b:?}"),
        )
    };
    if !(b.starts_with('{') && b.ends_with('}')) {
        return Err(malformed());
    }
    let Some(pos) = b.find("\"registryIds\"") else {
        return Ok(Vec::new());
    };
    let rest = b[pos + "\"registryIds\"".len()..].trim_start();
    let rest = rest.strip_prefix(':').ok_or_else(malformed)?.trim_start();
    if rest.starts_with("null") {
        return Ok(Vec::new());
    }
    let rest = rest.strip_prefix('[').ok_or_else(malformed)?;
    let list = &rest[..rest.find(']').ok_or_else(malformed)?];
    let mut ids = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let id = item
            .strip_prefix('"')
            .and_then(|i| i.strip_suffix('"'))
            .ok_or_else(malformed)?;
        if id.len() != 12 || !id.bytes().all(|c| c.is_ascii_digit()) {
            let msg = format!(
                "1 validation error detected: Value '[{id}]' at 'registryIds' failed to satisfy constraint: \
                 Member must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]{{12}}]"
            );
            return Err(("InvalidParameterException", msg));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// (access key id, region) from a SigV4 `Authorization` header.
fn parse_credential(authorization: &str) -> (String, String) {
    let cred = authorization
        .find("Credential=")
        .map(|i| &authorization[i + "Credential=".len()..])
        .and_then(|c| c.split([',', ' ']).next())
        .unwrap_or("");
    let mut parts = cred.split('/');
    let key = parts.next().unwrap_or("").to_string();
    let region = parts
        .nth(1)
        .filter(|r| !r.is_empty() && r.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
        .unwrap_or("us-east-1")
        .to_string();
    (key, region)
}

fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn form_get<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `2026-11-27T20:00:00Z` for an epoch second.
fn iso8601(epoch: i64) -> String {
    let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Pseudo-random bytes (xorshift seeded from the clock and a counter); not cryptographic.
fn random_bytes(n: usize) -> Vec<u8> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = (nanos
        ^ COUNTER
            .fetch_add(1, SeqCst)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15))
        | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn request_id() -> String {
    let h: String = random_bytes(16)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A password shaped like ECR's: base64 of `{"payload":…,"datakey":…,"version":"2",
/// "type":"DATA_KEY","expiration":<epoch secs>}`, about as long as a real one.
pub fn default_password(expiration_epoch_secs: i64) -> String {
    let payload = encode_base64(&random_bytes(1_200));
    let datakey = encode_base64(&random_bytes(280));
    let json = format!(
        "{{\"payload\":\"{payload}\",\"datakey\":\"{datakey}\",\"version\":\"2\",\"type\":\"DATA_KEY\",\
         \"expiration\":{expiration_epoch_secs}}}"
    );
    encode_base64(json.as_bytes())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn encode_base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard (or URL-safe) base64, padding optional; `None` if it is not base64.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let data = text.trim_end_matches('=');
    if data.len() % 4 == 1 || text.len() - data.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in data.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
