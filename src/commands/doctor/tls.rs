//! The TLS step: a rustls handshake trusting what the SDK's client trusts (the platform's
//! roots, `SSL_CERT_FILE` included, and the CA bundle), and what a refusal means for the
//! user, in their words: TLS inspection, a clock, a VPC endpoint's name.

use super::Deadline;
use super::network::Endpoint;
use super::probe::Stream;
use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TLS_LIMIT: Duration = Duration::from_secs(2);

fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// The roots the SDK's client trusts: the platform's, and the bundle.
fn roots(ep: &Endpoint) -> (rustls::RootCertStore, String) {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    let mut trusted = format!("the system roots ({added})");
    if let Ok(Some(b)) = &ep.bundle {
        // Read again: the bundle was checked, but its PEM is the transport's own.
        let ders = rustls::pki_types::CertificateDer::pem_file_iter(&b.path)
            .map(|i| i.flatten().collect::<Vec<_>>())
            .unwrap_or_default();
        roots.add_parsable_certificates(ders);
        trusted.push_str(&format!(" and {}", b.path.display()));
    }
    (roots, trusted)
}

type TlsResult = Result<(Box<dyn Stream>, String), (String, Option<String>)>;

pub fn handshake(sock: TcpStream, ep: &Endpoint, deadline: &Deadline) -> TlsResult {
    let (roots, trusted) = roots(ep);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| (format!("TLS setup: {e}"), None))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(ep.host.clone())
        .map_err(|e| (format!("{} is not a TLS server name: {e}", ep.host), None))?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| (format!("TLS setup: {e}"), None))?;
    let limit = deadline.step(TLS_LIMIT);
    let _ = sock.set_read_timeout(Some(limit));
    let _ = sock.set_write_timeout(Some(limit));
    let mut sock = sock;
    let started = Instant::now();
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            return Err(tls_error(&e, ep, limit));
        }
    }
    let version = conn.protocol_version().map_or("TLS".into(), |v| {
        format!("{v:?}")
            .replace("TLSv1_", "TLS 1.")
            .replace("TLSv1", "TLS 1")
    });
    let detail = format!(
        "{version}; the certificate for {} is trusted through {trusted} ({})",
        ep.host,
        ms(started.elapsed())
    );
    Ok((Box::new(rustls::StreamOwned::new(conn, sock)), detail))
}

fn tls_error(e: &io::Error, ep: &Endpoint, limit: Duration) -> (String, Option<String>) {
    let bundle_fix = "if your network inspects TLS (a corporate proxy, Zscaler, Netskope), set AWS_CA_BUNDLE to your organisation's CA bundle".to_string();
    if matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        return (
            format!(
                "no TLS answer from {} within {}s",
                ep.host,
                limit.as_secs_f32()
            ),
            Some(
                "check the port: something accepts connections there but does not speak TLS".into(),
            ),
        );
    }
    let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return (format!("TLS to {} failed: {e}", ep.host), None);
    };
    use rustls::CertificateError as C;
    let (why, fix) = match r {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => (
                "the certificate is signed by an authority this machine does not trust".into(),
                Some(bundle_fix),
            ),
            C::Expired | C::ExpiredContext { .. } => (
                "the certificate has expired".into(),
                Some(
                    "check this machine's clock; else the server's certificate is out of date"
                        .into(),
                ),
            ),
            C::NotValidYet | C::NotValidYetContext { .. } => (
                "the certificate is not valid yet".into(),
                Some("check this machine's clock".into()),
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => (
                format!("the certificate is not for {}", ep.host),
                Some("check AWS_ENDPOINT_URL_ECR (a VPC endpoint needs its own DNS name)".into()),
            ),
            other => (
                format!("the certificate is not trusted ({other:?})"),
                Some(bundle_fix),
            ),
        },
        other => (format!("the TLS handshake failed ({other})"), None),
    };
    (format!("TLS to {} failed: {why}", ep.host), fix)
}
