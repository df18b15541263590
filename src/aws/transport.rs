//! The one HTTPS client every AWS call goes through: ECR, ECR Public, STS, SSO, Sign-In,
//! and the container and instance-metadata endpoints (the SDK hands the client it is
//! loaded with to every credential provider). It is the SDK's own default client (rustls
//! with aws-lc, the proxy from `HTTPS_PROXY`/`NO_PROXY`) with what the AWS CLI has and the
//! Rust SDK lacks:
//!
//! - **The CLI's CA bundle**: `AWS_CA_BUNDLE`, else `ca_bundle` in the profile in effect,
//!   added to the system roots (so `SSL_CERT_FILE` keeps working too). A bundle that
//!   cannot be used is an error naming the file and where it came from, never a silent
//!   fall back to the system roots.
//! - **Failures that say what to do**: a certificate we do not trust, or a proxy that
//!   wants credentials (407), will not change in the next 200 ms, so they are not retried;
//!   they, and a name that does not resolve, carry the host they happened on. Why a
//!   certificate was refused, and its fix, are worded once ([`Refusal`]).
//!
//! `doctor` asks an endpoint for its clock through the same client ([`get`]), so what it
//! finds on the way is what a token request finds.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Builder, Connector, tls};
use aws_smithy_runtime_api::client::connection::CaptureSmithyConnection;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use ecr_login_core::fetch::FetchError;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// CA bundles larger than this are not bundles.
const MAX_BUNDLE: u64 = 16 * 1024 * 1024;

/// A CA bundle, read and checked.
#[derive(Clone)]
pub(crate) struct Bundle {
    pub(crate) path: PathBuf,
    /// Where it was named: `AWS_CA_BUNDLE`, or `ca_bundle in profile "x"`.
    pub(crate) origin: String,
    pub(crate) certificates: usize,
    pem: Vec<u8>,
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {} certificates)",
            self.path.display(),
            self.origin,
            self.certificates
        )
    }
}

impl Bundle {
    /// Reads and checks the bundle at `path`: every PEM certificate in it must be one
    /// rustls accepts as a root, and there must be at least one.
    pub(crate) fn load(path: &Path, origin: &str) -> Result<Bundle, FetchError> {
        let bad = |problem: String| FetchError::CaBundle {
            path: path.display().to_string(),
            origin: origin.to_string(),
            problem,
        };
        // Bounded, and never a blocking open: a FIFO there is an error, not a hang.
        let pem = ecr_login_core::files::read_limited(path, MAX_BUNDLE)
            .map_err(|e| bad(format!("cannot be read ({e})")))?;
        if pem.iter().all(u8::is_ascii_whitespace) {
            return Err(bad("is empty".into()));
        }
        use rustls_pki_types::pem::PemObject;
        let ders = rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("is not a PEM file ({e})")))?;
        if ders.is_empty() {
            return Err(bad(
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        let mut roots = rustls::RootCertStore::empty();
        for (i, der) in ders.into_iter().enumerate() {
            roots.add(der).map_err(|e| {
                bad(format!(
                    "holds a certificate that cannot be used (#{}: {e})",
                    i + 1
                ))
            })?;
        }
        Ok(Bundle {
            path: path.to_path_buf(),
            origin: origin.to_string(),
            certificates: roots.len(),
            pem,
        })
    }
}

/// The bundle the AWS CLI would use: `AWS_CA_BUNDLE`, else the profile's `ca_bundle`.
pub(crate) fn bundle(
    env_value: Option<&str>,
    profile: Option<(&str, &str)>,
) -> Result<Option<Bundle>, FetchError> {
    if let Some(path) = env_value.map(str::trim).filter(|p| !p.is_empty()) {
        return Bundle::load(Path::new(path), "AWS_CA_BUNDLE").map(Some);
    }
    match profile {
        Some((name, path)) if !path.trim().is_empty() => {
            let path = expand_home(path.trim());
            Bundle::load(&path, &format!("ca_bundle in profile \"{name}\"")).map(Some)
        }
        _ => Ok(None),
    }
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

/// The proxy variables that are set but that the SDK's client cannot parse as a proxy
/// URL (a space in the password, a trailing newline, a missing `]`), by name. The client
/// ignores such a variable without a word and connects directly (issue 27). hyper-util's
/// own parser decides, the one the client uses: of each pair, the variable it reads
/// (the upper-case one when set) is tried alone.
pub(crate) fn unusable_proxies() -> Vec<&'static str> {
    use hyper_util::client::proxy::matcher::Matcher;
    let probe: http::Uri = http::Uri::from_static("http://proxy-probe.invalid/");
    let mut unusable = Vec::new();
    for pair in [
        ["HTTPS_PROXY", "https_proxy"],
        ["HTTP_PROXY", "http_proxy"],
        ["ALL_PROXY", "all_proxy"],
    ] {
        let Some((name, value)) = pair
            .iter()
            .find_map(|n| std::env::var(n).ok().map(|v| (*n, v)))
        else {
            continue;
        };
        let parsed = Matcher::builder().http(value.as_str()).build();
        if !value.is_empty() && parsed.intercept(&probe).is_none() {
            unusable.push(name);
        }
    }
    unusable
}

/// What an ignored proxy variable means, for `get`'s warning and `doctor`'s check (never
/// its value: it may hold a password).
pub(crate) fn unusable_proxy_line(var: &str) -> String {
    format!("{var} is set but is not a proxy URL the SDK can use: it connects directly")
}

/// The client: the SDK's default, trusting `bundle` on top of the system roots.
pub(crate) fn client(bundle: Option<&Bundle>) -> SharedHttpClient {
    for var in unusable_proxies() {
        let line = unusable_proxy_line(var);
        tracing::warn!("{line}; set {var}=http://host:port (or unset it)");
    }
    let context = context(bundle);
    let inner = Builder::new().build_with_connector_fn(move |settings, components| {
        connector(&context, settings, components)
    });
    SharedHttpClient::new(Explained(inner))
}

fn context(bundle: Option<&Bundle>) -> tls::TlsContext {
    let mut trust = tls::TrustStore::default();
    if let Some(b) = bundle {
        trust = trust.with_pem_certificate(b.pem.clone());
    }
    tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context with a trust store always builds")
}

/// The SDK's connector (rustls with aws-lc, the proxy from the environment); without
/// runtime components its timeouts sleep on tokio.
fn connector(
    context: &tls::TlsContext,
    settings: Option<&HttpConnectorSettings>,
    components: Option<&RuntimeComponents>,
) -> Connector {
    let mut b = Connector::builder()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context.clone())
        .proxy_config(ProxyConfig::from_env());
    b.set_connector_settings(settings.cloned());
    if let Some(c) = components {
        b.set_sleep_impl(c.sleep_impl());
    }
    b.build()
}

/// What one `GET` met on its way to an endpoint (see [`get`]).
#[derive(Debug)]
pub(crate) struct Trip {
    /// Whether a connection was made: TCP, the proxy's tunnel and TLS, all of it.
    pub(crate) connected: bool,
    /// The address it connected to (the proxy's, through one).
    pub(crate) remote: Option<SocketAddr>,
    /// The answer's `Date` header (`None`: it has none), or why there is no answer, as a
    /// token request would fail there.
    pub(crate) answer: Result<Option<String>, FetchError>,
}

/// One `GET url` through the client every AWS call takes (its proxy, its trust, its
/// failures explained as a token request's): a connection within `connect`, then an answer
/// within `answer`. What `doctor` asks an endpoint for its clock, and learns the way from
/// when no token request goes there.
pub(crate) async fn get(
    url: &str,
    bundle: Option<&Bundle>,
    connect: Duration,
    answer: Duration,
) -> Trip {
    let settings = HttpConnectorSettings::builder()
        .connect_timeout(connect)
        .build();
    let client = ExplainedConnector(SharedHttpConnector::new(connector(
        &context(bundle),
        Some(&settings),
        None,
    )));
    let capture = CaptureSmithyConnection::new();
    let result = match HttpRequest::get(url) {
        Ok(mut request) => {
            request.add_extension(capture.clone());
            let call = answered(client.call(request), &capture, answer);
            // The connector's own bound on the connection, and this one, on the whole.
            tokio::time::timeout(connect + answer, call)
                .await
                .ok()
                .flatten()
        }
        Err(e) => Some(Err(ConnectorError::user(e.into()))),
    };
    let connection = capture.get();
    let unconnected = || FetchError::Unreachable {
        detail: format!("no connection within {}s", connect.as_secs_f32()),
    };
    let answer = match result {
        Some(Ok(response)) => Ok(response.headers().get("date").map(str::to_string)),
        Some(Err(e)) if e.is_timeout() => Err(unconnected()),
        Some(Err(e)) => Err(Failure::find(&e).map_or_else(
            || FetchError::Unreachable { detail: line(&e) },
            Failure::fetch_error,
        )),
        None if connection.is_none() => Err(unconnected()),
        None => Err(FetchError::TimedOut {
            after_ms: answer.as_millis() as u64,
        }),
    };
    Trip {
        connected: connection.is_some(),
        remote: connection.and_then(|c| c.remote_addr()),
        answer,
    }
}

/// `call`'s outcome, or `None` when a connection was made and no answer came within
/// `answer` of it (the connector bounds the connection itself).
async fn answered(
    call: HttpConnectorFuture,
    capture: &CaptureSmithyConnection,
    answer: Duration,
) -> Option<Result<HttpResponse, ConnectorError>> {
    let mut call = std::pin::pin!(call);
    // The client says when it connected only when asked.
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while capture.get().is_none() {
        tokio::select! {
            done = &mut call => return Some(done),
            _ = tick.tick() => {}
        }
    }
    tokio::time::timeout(answer, call).await.ok()
}

/// A transport failure with its host, for the user's line (see [`FetchError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Failure {
    /// The server's certificate was refused: unknown issuer, expired, another name.
    #[error("TLS to {host} failed: {refusal}")]
    Tls { host: String, refusal: Refusal },
    /// The proxy answered 407.
    #[error("the proxy {proxy} requires authentication (407)")]
    ProxyAuth { proxy: String },
    /// The host name did not resolve.
    #[error("cannot resolve {host}")]
    Dns { host: String },
}

impl Failure {
    /// The typed error a request fails with.
    pub(crate) fn fetch_error(&self) -> FetchError {
        match self.clone() {
            Failure::Tls { host, refusal } => FetchError::Tls {
                host,
                reason: refusal.to_string(),
            },
            Failure::ProxyAuth { proxy } => FetchError::ProxyAuth { proxy },
            Failure::Dns { host } => FetchError::Dns { host },
        }
    }

    /// The [`Failure`] anywhere in an error's chain, if there is one.
    pub(crate) fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Failure> {
        let mut next = Some(e);
        while let Some(err) = next {
            if let Some(f) = err.downcast_ref::<Failure>() {
                return Some(f);
            }
            next = err.source();
        }
        None
    }
}

/// Why a server's certificate, or the handshake, was refused, and what fixes it: the one
/// wording of `get`'s error line, the failure on record and `doctor`'s checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("the certificate is signed by an unknown authority")]
    UnknownIssuer,
    #[error("the certificate has expired")]
    Expired,
    #[error("the certificate is not valid yet (check this machine's clock)")]
    NotValidYet,
    #[error("the certificate is for another host name")]
    OtherName,
    #[error("the certificate was revoked")]
    Revoked,
    /// Another certificate error, in rustls's words.
    #[error("the certificate is not trusted ({0})")]
    Untrusted(String),
    /// The handshake failed for another reason.
    #[error("the TLS handshake failed ({0})")]
    Handshake(String),
}

/// What fixes a certificate we do not trust.
const BUNDLE_FIX: &str = "if your network inspects TLS (a corporate proxy, Zscaler, Netskope), set AWS_CA_BUNDLE to your organisation's CA bundle";

impl Refusal {
    fn of(e: &rustls::Error) -> Refusal {
        use rustls::CertificateError as C;
        match e {
            rustls::Error::InvalidCertificate(c) => match c {
                C::UnknownIssuer => Refusal::UnknownIssuer,
                C::Expired | C::ExpiredContext { .. } => Refusal::Expired,
                C::NotValidYet | C::NotValidYetContext { .. } => Refusal::NotValidYet,
                C::NotValidForName | C::NotValidForNameContext { .. } => Refusal::OtherName,
                C::Revoked => Refusal::Revoked,
                other => Refusal::Untrusted(format!("{other:?}")),
            },
            other => Refusal::Handshake(other.to_string()),
        }
    }

    /// Through another copy of rustls the type does not match: its words do.
    fn of_words(rest: &str) -> Refusal {
        let lower = rest.to_ascii_lowercase();
        let has = |a: &str, b: &str| lower.contains(a) || lower.contains(b);
        if has("unknownissuer", "unknown issuer") {
            Refusal::UnknownIssuer
        } else if lower.contains("expired") {
            Refusal::Expired
        } else if has("not valid for name", "notvalidforname") {
            Refusal::OtherName
        } else if has("not valid yet", "notvalidyet") {
            Refusal::NotValidYet
        } else {
            Refusal::Untrusted(rest.to_string())
        }
    }

    fn fix(&self) -> Option<&'static str> {
        match self {
            Refusal::UnknownIssuer | Refusal::Revoked | Refusal::Untrusted(_) => Some(BUNDLE_FIX),
            Refusal::Expired => {
                Some("check this machine's clock; else the server's certificate is out of date")
            }
            Refusal::NotValidYet => Some("check this machine's clock"),
            Refusal::OtherName => {
                Some("check AWS_ENDPOINT_URL_ECR (a VPC endpoint needs its own DNS name)")
            }
            Refusal::Handshake(_) => None,
        }
    }
}

/// What fixes a [`FetchError::Tls`], from its reason (one of [`Refusal`]'s lines): the
/// refusal's own fix, else the CA bundle's (what `get`'s line says of every TLS failure).
pub(crate) fn tls_fix(reason: &str) -> Option<&'static str> {
    let named = [
        Refusal::UnknownIssuer,
        Refusal::Expired,
        Refusal::NotValidYet,
        Refusal::OtherName,
        Refusal::Revoked,
    ];
    match named.iter().find(|r| r.to_string() == reason) {
        Some(r) => r.fix(),
        None => Some(BUNDLE_FIX),
    }
}

/// The SDK's client, with its connectors' failures explained.
#[derive(Debug)]
struct Explained(SharedHttpClient);

impl HttpClient for Explained {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ExplainedConnector(
            self.0.http_connector(settings, components),
        ))
    }
}

#[derive(Debug)]
struct ExplainedConnector(SharedHttpConnector);

impl HttpConnector for ExplainedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let host = host_of(request.uri());
        let call = self.0.call(request);
        HttpConnectorFuture::new(async move { call.await.map_err(|e| explain(e, &host)) })
    }
}

fn host_of(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    authority.to_string()
}

/// `e`, or a failure that names its host: not retried (`other`) when retrying cannot help.
fn explain(e: ConnectorError, host: &str) -> ConnectorError {
    if let Some(refusal) = refusal(&e) {
        let failure = Failure::Tls {
            host: host.to_string(),
            refusal,
        };
        return ConnectorError::other(Box::new(failure), None);
    }
    let text = line(&e).to_ascii_lowercase();
    if text.contains("proxy authorization required") {
        let failure = Failure::ProxyAuth {
            proxy: proxy_in_use(),
        };
        return ConnectorError::other(Box::new(failure), None);
    }
    if text.contains("dns error") || text.contains("failed to lookup address") {
        // A resolver can fail for a moment: this one stays retryable.
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h).to_string();
        return ConnectorError::io(Box::new(Failure::Dns { host }));
    }
    e
}

/// The proxy the SDK would use, user information removed.
fn proxy_in_use() -> String {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()))
        .map_or_else(|| "in use".into(), |p| ecr_login_core::redact::userinfo(&p))
}

/// Every message in the chain, through `io::Error`'s payloads (whose `source()` skips
/// them), once each: one that a message before it already holds is left out.
fn line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    walk(e, &mut |err| {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        false
    });
    parts.join(": ")
}

/// Calls `visit` on `e` and each cause, stopping when it returns true.
fn walk(
    e: &(dyn std::error::Error + 'static),
    visit: &mut dyn FnMut(&(dyn std::error::Error + 'static)) -> bool,
) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if visit(err) {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && walk(inner, visit)
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// Why rustls refused the server, if it did.
fn refusal(e: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut found = None;
    walk(e, &mut |err| {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            found = Some(Refusal::of(r));
        } else if let Some((_, rest)) = err.to_string().split_once("invalid peer certificate: ") {
            found = Some(Refusal::of_words(rest));
        }
        found.is_some()
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 30: `get`, the failure record and `doctor` word a refusal, and its fix, alike.
    #[test]
    fn a_refusal_is_worded_once_and_its_fix_found_from_its_words() {
        use rustls::CertificateError as C;
        let cases = [
            (C::UnknownIssuer, "unknown authority", "AWS_CA_BUNDLE"),
            (C::Expired, "has expired", "clock; else"),
            (
                C::NotValidYet,
                "not valid yet",
                "check this machine's clock",
            ),
            (
                C::NotValidForName,
                "another host name",
                "AWS_ENDPOINT_URL_ECR",
            ),
            (
                C::BadSignature,
                "not trusted (BadSignature)",
                "AWS_CA_BUNDLE",
            ),
        ];
        for (error, words, fix) in cases {
            let refusal = Refusal::of(&rustls::Error::InvalidCertificate(error.clone()));
            let reason = refusal.to_string();
            assert!(reason.contains(words), "{error:?}: {reason}");
            assert!(
                tls_fix(&reason).is_some_and(|f| f.contains(fix)),
                "{reason}"
            );
            // Through another copy of rustls, only its words: the same refusal.
            if !matches!(refusal, Refusal::Untrusted(_)) {
                assert_eq!(Refusal::of_words(&format!("{error:?}")), refusal);
            }
        }
    }

    #[test]
    fn hosts_are_named_without_user_information() {
        assert_eq!(
            host_of("https://api.ecr.us-east-1.amazonaws.com/"),
            "api.ecr.us-east-1.amazonaws.com"
        );
        assert_eq!(host_of("https://u:p@h.example:8443/x?y"), "h.example:8443");
    }

    #[test]
    fn a_bad_bundle_is_one_line_naming_the_file_and_its_origin() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "\n").unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let missing = dir.path().join("missing.pem");
        for (path, problem) in [
            (&empty, "is empty"),
            (&junk, "holds no PEM certificate"),
            (&broken, "cannot be used"),
            (&missing, "cannot be read"),
        ] {
            let e = bundle(Some(path.to_str().unwrap()), None).unwrap_err();
            let line = e.to_string();
            assert!(line.contains(problem), "{line}");
            assert!(line.contains(path.to_str().unwrap()), "{line}");
            assert!(line.contains("AWS_CA_BUNDLE"), "{line}");
            assert_eq!(line.lines().count(), 1);
        }
        let e = bundle(None, Some(("corp", missing.to_str().unwrap()))).unwrap_err();
        assert!(
            e.to_string().contains("ca_bundle in profile \"corp\""),
            "{e}"
        );
        assert!(bundle(None, None).unwrap().is_none());
    }
}
