//! A fake AWS endpoint for the integration tests and benchmarks, on plain HTTP/1.1 at
//! 127.0.0.1: ECR and ECR Public `GetAuthorizationToken` (awsJson 1.1), STS `AssumeRole` (with
//! MFA when a test requires it) and `AssumeRoleWithWebIdentity` (query protocol, XML replies),
//! the SSO portal's `GetRoleCredentials` (`GET /federation/credentials`, via
//! `AWS_ENDPOINT_URL_SSO`) and container credentials (ECS / EKS Pod Identity style, via
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI`).
//!
//! It exists so the helper can be tested end to end through the real AWS SDK (signing,
//! retries, error classification, endpoint overrides, the credential chain) with no network
//! and no AWS account, and so tests can ask for what AWS will not produce on demand:
//! throttling, 500s, denied or expired credentials, undecodable tokens, slow and hung calls.
//! Every request is recorded, so a test can assert which access key signed which call.
//!
//! `#[path]`-included by the integration tests and by `examples/fake_ecr.rs`. One thread per
//! connection; `httparse` reads request heads (bodies need a `Content-Length`, as the SDK
//! sends). Dropping the [`FakeEcr`] shuts every connection down, hung calls unanswered.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::{Engine as _, alphabet, engine::DecodePaddingMode};
use listener::{Conns, Served, Server, lock};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use wait::Signal;

// What every test server shares, and the tests' one way of waiting: here, so that the
// example that includes this file has them.
#[path = "listener.rs"]
pub mod listener;
#[path = "wait.rs"]
pub mod wait;

/// The account used in `proxyEndpoint` when the request names no registry.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
pub const ECR_TARGET: &str = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
pub const ECR_PUBLIC_TARGET: &str = "SpencerFrontendService.GetAuthorizationToken";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 << 20;
/// Padding optional, sloppy trailing bits allowed ([`decode_base64`] maps URL-safe input).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

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
        let denied = format!(
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
             {service}:GetAuthorizationToken on resource: *"
        );
        let expired = "The security token included in the request is expired";
        let invalid = "The security token included in the request is invalid.";
        Some(match self {
            Fault::Throttle => (400, "ThrottlingException", "Rate exceeded".into()),
            Fault::ServerError => (500, "ServerException", "Internal service error".into()),
            Fault::Deny => (400, "AccessDeniedException", denied),
            Fault::ExpiredToken => (400, "ExpiredTokenException", expired.into()),
            Fault::Unrecognized => (400, "UnrecognizedClientException", invalid.into()),
            Fault::BadToken | Fault::Delay(_) | Fault::Hang => return None,
        })
    }
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// `X-Amz-Target`, `sts:<Action>` for query-protocol calls, `sso:GetRoleCredentials`,
    /// `container:<path>`, else `<METHOD> <path>`.
    pub target: String,
    /// From `Authorization: ... Credential=AKID/DATE/REGION/SERVICE/aws4_request`; empty if unsigned.
    pub access_key_id: String,
    /// The signing region, `us-east-1` when absent.
    pub region: String,
    pub body: String,
    /// The `Authorization` header; for SSO, the `x-amz-sso_bearer_token` header.
    pub authorization: String,
}

/// The running server; dropping it shuts it down and closes every connection.
pub struct FakeEcr {
    server: Server<Shared>,
}

struct Shared {
    conns: Conns,
    state: Mutex<State>,
    /// Notified when `stopping` turns true: wakes delayed and hung calls.
    wake: Condvar,
    /// Raised on every token request: what [`FakeEcr::wait_for_token_calls`] waits on.
    called: Signal,
}

#[derive(Default)]
struct State {
    /// Set when the server is dropped: delayed and hung calls end unanswered.
    stopping: bool,
    password: Option<String>,
    lifetime: Duration,
    expires_at: Option<f64>,
    faults: VecDeque<Fault>,
    fault: Option<Fault>,
    account: String,
    sts_lifetime: Duration,
    role_keys: HashMap<String, String>,
    roles_seen: Vec<String>,
    sso_keys: HashMap<(String, String), String>,
    sso_seen: Vec<(String, String)>,
    sso_revoked: HashSet<String>,
    /// Container credentials by path: access key id, required `Authorization` value.
    containers: HashMap<String, (String, Option<String>)>,
    /// Roles whose `AssumeRole` needs MFA: (serial number, token code).
    mfa: HashMap<String, (String, String)>,
    /// The form of the last `AssumeRole` call.
    last_assume_role_form: Option<Vec<(String, String)>>,
    /// `DurationSeconds` of each `AssumeRole` call, as sent.
    assume_role_durations: Vec<Option<String>>,
    /// `RoleArn` and `RoleSessionName` of each `AssumeRoleWithWebIdentity` call, as sent.
    web_identity_calls: Vec<(String, String)>,
    /// GetAuthorizationToken's quota, when enforced: past it, `ThrottlingException`.
    quota: Option<Quota>,
    recording: bool,
    requests: Vec<Request>,
    token_calls: usize,
    throttled: usize,
    sts_calls: usize,
}

/// A token bucket, as AWS meters an API per account and region: `burst` calls at once, then
/// `per_second` more each second.
struct Quota {
    per_second: f64,
    burst: f64,
    tokens: f64,
    since: std::time::Instant,
}

impl Quota {
    /// Takes one call's token; false when the bucket is empty (throttled).
    fn take(&mut self) -> bool {
        let now = std::time::Instant::now();
        let refill = now.duration_since(self.since).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.since = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl FakeEcr {
    /// Starts on a free port. Panics if it cannot listen (a broken test machine).
    pub fn start() -> FakeEcr {
        Self::try_start_on(0).unwrap_or_else(|e| panic!("fake ECR: cannot listen: {e}"))
    }

    pub fn try_start_on(port: u16) -> io::Result<FakeEcr> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let state = State {
            lifetime: Duration::from_secs(12 * 3600),
            account: DEFAULT_ACCOUNT.to_string(),
            sts_lifetime: Duration::from_secs(3600),
            recording: true,
            ..State::default()
        };
        let shared = Shared {
            conns: Conns::default(),
            state: Mutex::new(state),
            wake: Condvar::new(),
            called: Signal::default(),
        };
        Ok(FakeEcr {
            server: Server::start(listener, shared)?,
        })
    }

    fn shared(&self) -> &Shared {
        self.server.shared()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared().state)
    }

    fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// Every token from now on decodes to `AWS:<password>`.
    pub fn set_password(&self, password: &str) {
        self.state().password = Some(password.to_string());
    }

    /// Back to a fresh [`default_password`] per token.
    pub fn clear_password(&self) {
        self.state().password = None;
    }

    /// `expiresAt` = now + `lifetime` (default 12 h).
    pub fn set_lifetime(&self, lifetime: Duration) {
        self.state().lifetime = lifetime;
    }

    /// Forces an absolute `expiresAt` (epoch seconds); `None` goes back to now + lifetime.
    pub fn set_expires_at(&self, expires_at: Option<f64>) {
        self.state().expires_at = expires_at;
    }

    /// Queues a fault for the next token request; queued faults go before [`Self::set_fault`].
    pub fn push_fault(&self, fault: Fault) {
        self.state().faults.push_back(fault);
    }

    /// The fault applied to every token request once the queue is empty.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.state().fault = fault;
    }

    /// The account in `proxyEndpoint` when the request has no `registryIds`.
    pub fn set_default_account(&self, account: &str) {
        self.state().account = account.to_string();
    }

    /// The access key id STS hands out for `role_arn` (default `ASIAASSUMED<n>`, where n
    /// numbers the distinct role ARNs in the order first seen, from 1).
    pub fn set_role_key(&self, role_arn: &str, access_key_id: &str) {
        let key = access_key_id.to_string();
        self.state().role_keys.insert(role_arn.to_string(), key);
    }

    /// Lifetime of the credentials from STS, SSO and container endpoints (default 1 h).
    pub fn set_sts_lifetime(&self, lifetime: Duration) {
        self.state().sts_lifetime = lifetime;
    }

    /// The access key id SSO hands out for (account, role) (default `ASIASSO<n>`, n numbering
    /// the distinct pairs in the order first seen, from 1).
    pub fn set_sso_role_key(&self, account_id: &str, role_name: &str, access_key_id: &str) {
        let (pair, key) = ((account_id.into(), role_name.into()), access_key_id.into());
        self.state().sso_keys.insert(pair, key);
    }

    /// SSO answers 401 `UnauthorizedException` to this bearer token, as to an empty one.
    pub fn revoke_sso_token(&self, token: &str) {
        self.state().sso_revoked.insert(token.to_string());
    }

    /// Serves container credentials at `GET <path>`; with `auth_token`, only to that exact
    /// `Authorization` header (401 without one, 403 with another).
    pub fn add_container_credentials(&self, path: &str, key: &str, auth_token: Option<&str>) {
        let creds = (key.to_string(), auth_token.map(str::to_string));
        self.state().containers.insert(path.to_string(), creds);
    }

    /// `AssumeRole` of `role_arn` from now on needs `SerialNumber` = `serial` and `TokenCode` =
    /// `code`, and answers 403 `AccessDenied` as STS does otherwise: "not authorized to
    /// perform: sts:AssumeRole" without a serial number, "MultiFactorAuthentication failed
    /// with invalid MFA one time pass code." with a wrong (or no) code or another serial.
    pub fn require_mfa(&self, role_arn: &str, serial: &str, code: &str) {
        let mfa = (serial.to_string(), code.to_string());
        self.state().mfa.insert(role_arn.to_string(), mfa);
    }

    /// The form fields (decoded, in order) of the last `AssumeRole` call, answered or not.
    pub fn last_assume_role_form(&self) -> Option<Vec<(String, String)>> {
        self.state().last_assume_role_form.clone()
    }

    /// `DurationSeconds` of each `AssumeRole` call in order, as sent (`None`: absent).
    pub fn assume_role_durations(&self) -> Vec<Option<String>> {
        self.state().assume_role_durations.clone()
    }

    /// Turns request recording off (long benchmark runs) or on.
    #[allow(dead_code)] // only the example turns it off
    pub fn set_recording(&self, on: bool) {
        self.state().recording = on;
    }

    /// ECR and ECR Public `GetAuthorizationToken` requests received, faulted ones included.
    pub fn token_calls(&self) -> usize {
        self.state().token_calls
    }

    /// Blocks until at least `n` token requests have arrived (woken by each one, no
    /// polling); panics after `limit`.
    #[allow(dead_code)] // not every user of this file waits
    pub fn wait_for_token_calls(&self, n: usize, limit: Duration) {
        let arrived = wait::wait_for(limit, &self.shared().called, || self.token_calls() >= n);
        assert!(
            arrived,
            "{} token requests within {limit:?}, not {n}",
            self.token_calls()
        );
    }

    /// Raised on every token request, for a test that waits on something else besides.
    #[allow(dead_code)] // not every user of this file waits
    pub fn token_called(&self) -> &Signal {
        &self.shared().called
    }

    /// `(RoleArn, RoleSessionName)` of each `AssumeRoleWithWebIdentity` call in order, as
    /// sent, refused ones included.
    pub fn web_identity_calls(&self) -> Vec<(String, String)> {
        self.state().web_identity_calls.clone()
    }

    /// Enforces a GetAuthorizationToken quota from now on: `burst` calls at once, `per_second`
    /// more each second (SPEC Part H: design for 20/s with a burst of 200); the calls past it
    /// get `ThrottlingException`.
    pub fn set_quota(&self, per_second: f64, burst: f64) {
        self.state().quota = Some(Quota {
            per_second,
            burst,
            tokens: burst,
            since: std::time::Instant::now(),
        });
    }

    /// Token requests refused by the quota.
    pub fn throttled_calls(&self) -> usize {
        self.state().throttled
    }

    /// STS `AssumeRole*` requests received.
    pub fn sts_calls(&self) -> usize {
        self.state().sts_calls
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }
}

impl Drop for FakeEcr {
    /// Wakes delayed and hung calls; the server (dropped next) closes every connection.
    fn drop(&mut self) {
        self.state().stopping = true;
        self.shared().wake.notify_all();
    }
}

impl Served for Shared {
    fn conns(&self) -> &Conns {
        &self.conns
    }

    fn serve(&self, stream: TcpStream) {
        serve(stream, self);
    }
}

/// Serves requests on one keep-alive connection until EOF, an error, or a hung call.
fn serve(stream: TcpStream, shared: &Shared) {
    let Some((mut input, mut out)) = listener::split(stream) else {
        return;
    };
    loop {
        let (reply, keep_alive) = match read_request(&mut input) {
            Ok(None) => return,
            Ok(Some(req)) => match shared.handle(&req) {
                Some(reply) => (reply, req.keep_alive),
                None => return,
            },
            Err(e) => {
                let reply = json_error(400, "SerializationException", &e);
                (
                    reply.replacen("\r\n", "\r\nConnection: close\r\n", 1),
                    false,
                )
            }
        };
        if out.write_all(reply.as_bytes()).is_err() || !keep_alive {
            return;
        }
    }
}

struct HttpRequest {
    method: String,
    /// Path and query.
    target: String,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: String,
    keep_alive: bool,
}

impl HttpRequest {
    fn header(&self, name: &str) -> &str {
        let found = self.headers.iter().find(|(k, _)| k == name);
        found.map_or("", |(_, v)| v.as_str())
    }
}

/// One request; `Ok(None)` at EOF between requests. (A `String` error on purpose: the fake
/// sends it back as the body of a 400, and nothing branches on it.)
fn read_request(r: &mut BufReader<TcpStream>) -> Result<Option<HttpRequest>, String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let room = MAX_HEAD.saturating_sub(head.len()) as u64;
        match r.by_ref().take(room).read_until(b'\n', &mut head) {
            Ok(0) if head.is_empty() => return Ok(None),
            Ok(0) | Err(_) => return Err("request head cut short or over 64 KiB".into()),
            Ok(_) if head == b"\r\n" => head.clear(), // a stray CRLF between requests
            Ok(_) => {}
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut slots);
    if !matches!(parsed.parse(&head), Ok(httparse::Status::Complete(_))) {
        let head = String::from_utf8_lossy(&head);
        return Err(format!("malformed request head {head:?}"));
    }
    let header = |h: &httparse::Header| (h.name.to_ascii_lowercase(), lossy(h.value));
    let mut req = HttpRequest {
        method: parsed.method.unwrap_or_default().to_string(),
        target: parsed.path.unwrap_or_default().to_string(),
        headers: parsed.headers.iter().map(header).collect(),
        body: String::new(),
        keep_alive: false,
    };
    let connection = req.header("connection").to_ascii_lowercase();
    req.keep_alive = match parsed.version {
        Some(0) => connection.contains("keep-alive"),
        _ => !connection.contains("close"),
    };
    if !req.header("transfer-encoding").is_empty() {
        return Err("chunked request bodies are not supported".into());
    }
    let len = match req.header("content-length") {
        "" => 0,
        n => n
            .parse()
            .ok()
            .filter(|n| *n <= MAX_BODY)
            .ok_or("bad Content-Length")?,
    };
    let mut body = vec![0; len];
    r.read_exact(&mut body).map_err(|e| e.to_string())?;
    req.body = lossy(&body);
    Ok(Some(req))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A whole HTTP/1.1 response, with an `x-amzn-RequestId`.
fn http(
    status: u16,
    content_type: &str,
    id: &str,
    extra: Option<(&str, &str)>,
    body: &str,
) -> String {
    let reason = if status == 200 { "OK" } else { "Error" };
    let extra = extra.map_or(String::new(), |(name, value)| {
        format!("{name}: {value}\r\n")
    });
    let len = body.len();
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n\
         x-amzn-RequestId: {id}\r\n{extra}\r\n{body}"
    )
}

const AWS_JSON: &str = "application/x-amz-json-1.1";
const JSON: &str = "application/json";

/// A JSON reply; an error (typed in a header too, as AWS does) if it has a `__type`.
fn json_reply(status: u16, content_type: &str, body: Value) -> String {
    let error = body["__type"]
        .as_str()
        .map(|kind| ("x-amzn-ErrorType", kind));
    let (id, text) = (request_id(), body.to_string());
    http(status, content_type, &id, error, &text)
}

/// A 200 awsJson 1.1 reply.
fn aws_json(body: Value) -> String {
    json_reply(200, AWS_JSON, body)
}

fn json_error(status: u16, kind: &str, message: &str) -> String {
    let body = json!({ "__type": kind, "message": message });
    json_reply(status, AWS_JSON, body)
}

/// A query-protocol (STS) error.
fn xml_error(code: &str, message: &str) -> String {
    xml_error_status(400, code, message)
}

/// A query-protocol (STS) error with another status than 400.
fn xml_error_status(status: u16, code: &str, message: &str) -> String {
    let (id, code, message) = (request_id(), xml_escape(code), xml_escape(message));
    let body = format!(
        "<ErrorResponse xmlns=\"{STS_NS}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    \
         <Message>{message}</Message>\n  </Error>\n  <RequestId>{id}</RequestId>\n</ErrorResponse>\n"
    );
    http(status, "text/xml", &id, None, &body)
}

impl Shared {
    /// The reply to one request; `None` means close the connection without one.
    fn handle(&self, req: &HttpRequest) -> Option<String> {
        let (method, body) = (req.method.as_str(), req.body.as_str());
        let target = req.header("x-amz-target");
        let form = parse_query(if target.is_empty() { body } else { "" });
        let action = form_get(&form, "Action").unwrap_or("");
        let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
        let plain_get = method == "GET" && target.is_empty() && action.is_empty();
        let sso = plain_get && path == "/federation/credentials";
        let container = lock(&self.state).containers.get(path).cloned();
        let container = container.filter(|_| plain_get);
        let recorded = match () {
            _ if !target.is_empty() => target.to_string(),
            _ if !action.is_empty() => format!("sts:{action}"),
            _ if sso => "sso:GetRoleCredentials".to_string(),
            _ if container.is_some() => format!("container:{path}"),
            _ => format!("{method} {}", req.target),
        };
        let authorization = req.header(if sso {
            "x-amz-sso_bearer_token"
        } else {
            "authorization"
        });
        let (access_key_id, region) = parse_credential(authorization);
        let mut st = lock(&self.state);
        if st.recording {
            st.requests.push(Request {
                target: recorded.clone(),
                access_key_id,
                region: region.clone(),
                body: body.to_string(),
                authorization: authorization.to_string(),
            });
        }
        let post = method == "POST";
        Some(match (target, action, container) {
            (ECR_TARGET | ECR_PUBLIC_TARGET, _, _) if post => {
                st.token_calls += 1;
                drop(st);
                self.called.raise();
                return self.token(target == ECR_PUBLIC_TARGET, body, &region);
            }
            ("", "AssumeRole" | "AssumeRoleWithWebIdentity", _) if post => {
                st.sts_calls += 1;
                sts(&mut st, action, &form)
            }
            // A query-protocol (STS-style) request gets its error in XML, as AWS does.
            ("", action, _) if !action.is_empty() => {
                let message = format!("Could not find operation {action} for version 2011-06-15");
                xml_error("InvalidAction", &message)
            }
            _ if sso => sso_credentials(&mut st, &parse_query(query), authorization),
            (_, _, Some((key, token))) => container_credentials(&st, &key, token, authorization),
            _ => {
                let message = format!("Unknown operation {recorded}");
                json_error(400, "UnknownOperationException", &message)
            }
        })
    }

    /// Waits up to `d`; false if the server is shutting down.
    fn pause(&self, d: Duration) -> bool {
        let st = lock(&self.state);
        let woken = self.wake.wait_timeout_while(st, d, |st| !st.stopping);
        !woken.unwrap_or_else(PoisonError::into_inner).0.stopping
    }

    fn token(&self, public: bool, body: &str, region: &str) -> Option<String> {
        let fault = {
            let mut st = lock(&self.state);
            let over_quota = st.quota.as_mut().is_some_and(|q| !q.take());
            if over_quota {
                st.throttled += 1;
                Some(Fault::Throttle)
            } else {
                st.faults.pop_front().or_else(|| st.fault.clone())
            }
        };
        match fault {
            Some(Fault::Hang) => while self.pause(Duration::from_secs(3600)) {},
            Some(Fault::Delay(d)) => _ = self.pause(d),
            _ => {}
        }
        if lock(&self.state).stopping {
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
        let st = lock(&self.state);
        let lifetime = st.lifetime.as_secs_f64();
        let exp = st.expires_at.unwrap_or(now_secs() + lifetime);
        let password = st.password.clone();
        let password = password.unwrap_or_else(|| default_password(exp.floor() as i64));
        let token = match fault {
            Some(Fault::BadToken) => "!!not*base64:this-token-cannot-be-decoded!!".to_string(),
            _ => encode_base64(format!("AWS:{password}").as_bytes()),
        };
        let exp = (exp * 1e3).round() / 1e3;
        let mut data = json!({ "authorizationToken": token, "expiresAt": exp });
        if public {
            return Some(aws_json(json!({ "authorizationData": data })));
        }
        // Real ECR answers one entry per registry id; they all share the token.
        let accounts = if ids.is_empty() {
            vec![st.account.clone()]
        } else {
            ids
        };
        let entries: Vec<Value> = accounts
            .iter()
            .map(|acct| {
                let endpoint = format!("https://{acct}.dkr.ecr.{region}.amazonaws.com");
                data["proxyEndpoint"] = endpoint.into();
                data.clone()
            })
            .collect();
        Some(aws_json(json!({ "authorizationData": entries })))
    }
}

fn sts(st: &mut State, action: &str, form: &[(String, String)]) -> String {
    let role = form_get(form, "RoleArn").unwrap_or("");
    // arn:PARTITION:iam::ACCOUNT:role/PATH/NAME
    let fields: Vec<&str> = role.splitn(6, ':').collect();
    let name = fields.get(5).and_then(|r| r.strip_prefix("role/"));
    let (Some(partition), Some(account), Some(name)) = (fields.get(1), fields.get(4), name) else {
        return xml_error("ValidationError", &format!("Invalid RoleArn {role:?}"));
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    if action == "AssumeRole" {
        st.last_assume_role_form = Some(form.to_vec());
        let duration = form_get(form, "DurationSeconds").map(str::to_string);
        st.assume_role_durations.push(duration);
        if let Some(denied) = mfa_denied(st.mfa.get(role), form, role) {
            return denied;
        }
    }
    let session = form_get(form, "RoleSessionName").filter(|s| !s.is_empty());
    let web = action == "AssumeRoleWithWebIdentity";
    if web {
        let sent = session.unwrap_or("").to_string();
        st.web_identity_calls.push((role.to_string(), sent));
        // STS's own rule (botocore's `roleSessionNameType`): 2-64 of [\w+=,.@-].
        let valid = session.is_some_and(|s| {
            (2..=64).contains(&s.len())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
        });
        if !valid {
            let message = format!(
                "1 validation error detected: Value {session:?} at 'roleSessionName' failed to satisfy constraint"
            );
            return xml_error("ValidationError", &message);
        }
        if form_get(form, "WebIdentityToken").unwrap_or("").is_empty() {
            return xml_error("ValidationError", "WebIdentityToken is required");
        }
    }
    let session = session.unwrap_or("fake-session");
    let index = nth_seen(&mut st.roles_seen, role.to_string());
    let key = st.role_keys.get(role).cloned();
    let key = key.unwrap_or_else(|| format!("ASIAASSUMED{index}"));
    let arn = xml_escape(&format!(
        "arn:{partition}:sts::{account}:assumed-role/{name}/{session}"
    ));
    let role_id = xml_escape(&format!("AROAFAKEROLE{index:08}:{session}"));
    let token = session_token(&key, role);
    let (key, expiration) = (xml_escape(&key), rfc3339(st.sts_lifetime));
    let web_fields = if web {
        let provider = form_get(form, "ProviderId").unwrap_or("oidc.fake.example.com");
        format!(
            r#"
    <SubjectFromWebIdentityToken>fake-subject</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <Provider>{}</Provider>"#,
            xml_escape(provider)
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
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </{action}Result>
  <ResponseMetadata>
    <RequestId>{id}</RequestId>
  </ResponseMetadata>
</{action}Response>
"#
    );
    http(200, "text/xml", &id, None, &body)
}

/// The 403 STS answers when `AssumeRole` of a role that needs MFA lacks it or gets it wrong.
fn mfa_denied(
    required: Option<&(String, String)>,
    form: &[(String, String)],
    role: &str,
) -> Option<String> {
    let (serial, code) = required?;
    let (sent_serial, sent_code) = (form_get(form, "SerialNumber"), form_get(form, "TokenCode"));
    if sent_serial.is_none_or(str::is_empty) {
        let message = format!(
            "User: arn:aws:iam::{DEFAULT_ACCOUNT}:user/ci is not authorized to perform: \
             sts:AssumeRole on resource: {role}"
        );
        return Some(xml_error_status(403, "AccessDenied", &message));
    }
    if sent_serial != Some(serial.as_str()) || sent_code != Some(code.as_str()) {
        let message = "MultiFactorAuthentication failed with invalid MFA one time pass code.";
        return Some(xml_error_status(403, "AccessDenied", message));
    }
    None
}

/// SSO `GetRoleCredentials`: `GET /federation/credentials?role_name=…&account_id=…`.
fn sso_credentials(st: &mut State, query: &[(String, String)], bearer: &str) -> String {
    let refuse = |status, kind, message| {
        json_reply(status, JSON, json!({ "__type": kind, "message": message }))
    };
    let account = form_get(query, "account_id");
    let (Some(account), Some(role)) = (account, form_get(query, "role_name")) else {
        let message = "account_id and role_name are required";
        return refuse(400, "InvalidRequestException", message);
    };
    if bearer.is_empty() || st.sso_revoked.contains(bearer) {
        let message = "Session token not found or invalid";
        return refuse(401, "UnauthorizedException", message);
    }
    let pair = (account.to_string(), role.to_string());
    let n = nth_seen(&mut st.sso_seen, pair.clone());
    let key = st.sso_keys.get(&pair).cloned();
    let key = key.unwrap_or_else(|| format!("ASIASSO{n}"));
    let expiration_ms = ((now_secs() + st.sts_lifetime.as_secs_f64()) * 1e3) as i64;
    let creds = json!({
        "accessKeyId": key,
        "secretAccessKey": format!("fake/secret/{key}"),
        "sessionToken": session_token(&key, &format!("sso/{account}/{role}")),
        "expiration": expiration_ms,
    });
    json_reply(200, JSON, json!({ "roleCredentials": creds }))
}

/// ECS / EKS Pod Identity style credentials, the `Authorization` header checked if required.
fn container_credentials(st: &State, key: &str, required: Option<String>, auth: &str) -> String {
    let refuse = |status, code, message| {
        json_reply(status, JSON, json!({ "code": code, "message": message }))
    };
    match required {
        Some(_) if auth.is_empty() => refuse(401, "Unauthorized", "no Authorization header"),
        Some(token) if token != auth => refuse(403, "Forbidden", "wrong Authorization header"),
        _ => json_reply(
            200,
            JSON,
            json!({
                "AccessKeyId": key,
                "SecretAccessKey": format!("fake/secret/{key}"),
                "Token": session_token(key, "container"),
                "Expiration": rfc3339(st.sts_lifetime),
            }),
        ),
    }
}

/// `registryIds` from a `GetAuthorizationToken` body; an error is (exception type, message).
fn registry_ids(body: &str) -> Result<Vec<String>, (&'static str, String)> {
    let malformed = || {
        (
            "SerializationException",
            format!("Malformed request body: {body:?}"),
        )
    };
    let doc: Value = match body.trim() {
        "" => return Ok(Vec::new()),
        text => serde_json::from_str(text).map_err(|_| malformed())?,
    };
    let ids = match doc.as_object().ok_or_else(malformed)?.get("registryIds") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(ids) => ids.as_array().ok_or_else(malformed)?,
    };
    let check = |id: &Value| match id.as_str().ok_or_else(malformed)? {
        id if id.len() == 12 && id.bytes().all(|c| c.is_ascii_digit()) => Ok(id.to_string()),
        id => Err((
            "InvalidParameterException",
            format!(
                "1 validation error detected: Value '[{id}]' at 'registryIds' failed to satisfy constraint: \
             Member must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]{{12}}]"
            ),
        )),
    };
    ids.iter().map(check).collect()
}

/// (access key id, region) from a SigV4 `Authorization` header.
fn parse_credential(authorization: &str) -> (String, String) {
    let cred = authorization
        .split_once("Credential=")
        .map_or("", |(_, c)| c);
    let mut parts = cred.split([',', ' ']).next().unwrap_or("").split('/');
    let key = parts.next().unwrap_or("").to_string();
    let region = parts
        .nth(1)
        .filter(|r| !r.is_empty() && r.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    (key, region.unwrap_or("us-east-1").to_string())
}

/// An `application/x-www-form-urlencoded` body or a query string.
fn parse_query(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn form_get<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// 1-based position of `item` among those seen, adding it if new.
fn nth_seen<T: PartialEq>(seen: &mut Vec<T>, item: T) -> usize {
    if let Some(i) = seen.iter().position(|s| *s == item) {
        return i + 1;
    }
    seen.push(item);
    seen.len()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn session_token(key: &str, what: &str) -> String {
    let token = encode_base64(format!("{key}:{what}").as_bytes());
    format!("FwoGZXIvYXdzEFAKE{token}")
}

fn now_secs() -> f64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH);
    now.map_or(0.0, |d| d.as_secs_f64())
}

/// `2026-11-27T20:00:00Z`: now + `lifetime`, to the whole second.
fn rfc3339(lifetime: Duration) -> String {
    let t = (OffsetDateTime::now_utc() + lifetime).replace_nanosecond(0);
    t.unwrap()
        .format(&Rfc3339)
        .expect("a year between 0 and 9999")
}

fn request_id() -> String {
    let h = format!("{:032x}", fastrand::u128(..));
    [&h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]].join("-")
}

/// A password shaped like ECR's: base64 of `{"payload":…,"datakey":…,"version":"2",
/// "type":"DATA_KEY","expiration":<epoch secs>}`, about as long as a real one.
pub fn default_password(expiration_epoch_secs: i64) -> String {
    let random = |n| {
        let bytes: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..))
            .take(n)
            .collect();
        encode_base64(&bytes)
    };
    let (payload, datakey) = (random(1_200), random(280));
    let json = format!(
        r#"{{"payload":"{payload}","datakey":"{datakey}","version":"2","type":"DATA_KEY","expiration":{expiration_epoch_secs}}}"#
    );
    encode_base64(json.as_bytes())
}

/// Standard base64 with padding.
pub fn encode_base64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Standard (or URL-safe) base64, padding optional; `None` if it is not base64.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    LENIENT
        .decode(text.trim().replace('-', "+").replace('_', "/"))
        .ok()
}
