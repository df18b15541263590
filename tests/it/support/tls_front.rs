//! HTTPS in front of the fake AWS endpoint: a private CA made at test time ([`Ca`]) and a
//! TLS-terminating relay ([`TlsFront`]) that serves one of its certificates on 127.0.0.1 and
//! passes the plaintext to the fake's plain HTTP port.
//!
//! So a test can point the helper at `https://localhost:PORT` and check what it does with a
//! certificate it must trust only through a CA bundle, an untrusted, expired or wrong-name
//! certificate, and count how often it tried ([`TlsFront::handshakes`]).
//!
//! One thread per connection, std sockets and `poll(2)`; every connection is shut down when
//! the [`TlsFront`] is dropped.

use super::listener::{Conns, Served, Server, lock};
use super::wait::{Signal, wait_until};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// The names [`Ca::server_cert`] is usually given: what [`TlsFront::url`] connects to.
pub const LOCAL_NAMES: &[&str] = &["localhost", "127.0.0.1"];

/// A private certificate authority, made fresh (new key) for each test.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    /// A self-signed CA whose subject CN is `name`, valid from a day ago for ten years.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "ecr-login tests");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("self-sign the CA");
        Ca { issuer }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes [`Self::pem`] to `path` (a CA bundle file).
    pub fn write_pem(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        std::fs::write(path, self.pem())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// A server certificate for `hosts` (DNS names or IP addresses), valid from an hour ago
    /// for 30 days: (certificate PEM, private key PEM). The certificate is the whole chain
    /// the server sends (the leaf; the CA is what the client must trust).
    pub fn server_cert(&self, hosts: &[&str]) -> (String, String) {
        let now = OffsetDateTime::now_utc();
        let validity = (
            now - time::Duration::hours(1),
            now + time::Duration::days(30),
        );
        self.leaf(hosts, validity.0, validity.1)
    }

    /// Like [`Self::server_cert`] but expired: valid for 30 days until a day ago.
    pub fn expired_server_cert(&self, hosts: &[&str]) -> (String, String) {
        let now = OffsetDateTime::now_utc();
        let validity = (
            now - time::Duration::days(31),
            now - time::Duration::days(1),
        );
        self.leaf(hosts, validity.0, validity.1)
    }

    /// A valid certificate for `wrong.example.invalid` only: not for localhost, not for
    /// 127.0.0.1, not for any AWS name.
    pub fn wrong_name_cert(&self) -> (String, String) {
        self.server_cert(&["wrong.example.invalid"])
    }

    /// A server certificate for `hosts` valid from `not_before` to `not_after`.
    pub fn leaf(
        &self,
        hosts: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> (String, String) {
        let names: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("server cert names");
        let cn = hosts.first().copied().unwrap_or("server");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the server certificate");
        (cert.pem(), key.serialize_pem())
    }
}

/// The running TLS front; dropping it shuts it down and closes every connection.
pub struct TlsFront {
    server: Server<Shared>,
}

struct Shared {
    config: Arc<ServerConfig>,
    upstream: u16,
    /// Every open socket (client and upstream sides), shut down on drop.
    conns: Conns,
    state: Mutex<State>,
    /// Raised at each failed handshake.
    failed: Signal,
}

#[derive(Default)]
struct State {
    handshakes: usize,
    completed: usize,
    errors: Vec<String>,
}

/// How long a handshake may take, and a relayed write may block.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

impl TlsFront {
    /// Listens on 127.0.0.1 (a free port) with `cert_pem` (a chain, leaf first) and
    /// `key_pem`, relaying each connection to `127.0.0.1:upstream_port` in plaintext.
    /// Panics on a bad certificate or key, or if it cannot listen.
    pub fn start(upstream_port: u16, cert_pem: &str, key_pem: &str) -> TlsFront {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("certificate PEM");
        assert!(!chain.is_empty(), "no CERTIFICATE in the certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("private key PEM");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("certificate and key");
        let config = Arc::new(config);
        let shared = Shared {
            config,
            upstream: upstream_port,
            conns: Conns::default(),
            state: Mutex::default(),
            failed: Signal::default(),
        };
        TlsFront {
            server: Server::on_free_port("TLS front", shared),
        }
    }

    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// `https://localhost:PORT`
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port())
    }

    /// TLS handshakes attempted: connections that sent at least one byte (a connection
    /// opened and closed in silence is not counted).
    pub fn handshakes(&self) -> usize {
        lock(&self.server.shared().state).handshakes
    }

    /// Handshakes that succeeded.
    pub fn completed_handshakes(&self) -> usize {
        lock(&self.server.shared().state).completed
    }

    /// Why each failed handshake failed, as the server saw it (for example `received
    /// fatal alert: UnknownCA`).
    pub fn handshake_errors(&self) -> Vec<String> {
        lock(&self.server.shared().state).errors.clone()
    }

    /// Blocks until `n` handshakes have failed (the server may still be reading the
    /// client's alert when the client has given up).
    pub fn wait_for_handshake_errors(&self, n: usize, limit: Duration) {
        let failed = &self.server.shared().failed;
        wait_until(&format!("{n} failed handshakes"), limit, failed, || {
            self.handshake_errors().len() >= n
        });
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

fn serve(mut client: TcpStream, shared: &Shared) {
    let _ = client.set_read_timeout(Some(IO_TIMEOUT));
    let _ = client.set_write_timeout(Some(IO_TIMEOUT));
    // A silent connection (the drop's wake-up, a port probe) is no handshake.
    if !matches!(client.peek(&mut [0u8; 1]), Ok(n) if n > 0) {
        return;
    }
    lock(&shared.state).handshakes += 1;
    let Ok(mut tls) = ServerConnection::new(Arc::clone(&shared.config)) else {
        return;
    };
    if let Err(e) = handshake(&mut tls, &mut client) {
        lock(&shared.state).errors.push(e);
        shared.failed.raise();
        return;
    }
    lock(&shared.state).completed += 1;
    let Ok(up) = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], shared.upstream)),
        IO_TIMEOUT,
    ) else {
        tls.send_close_notify();
        let _ = tls.write_tls(&mut client);
        return;
    };
    let Some(up_id) = shared.conns.track(&up) else {
        return;
    };
    let _ = up.set_nodelay(true);
    let _ = up.set_write_timeout(Some(IO_TIMEOUT));
    let _ = client.set_read_timeout(None);
    tls.set_buffer_limit(None);
    relay(tls, client, up, shared);
    shared.conns.untrack(up_id);
}

/// Runs the server handshake to completion; the error as text. (A `String` error on purpose:
/// a test fixture's only use of it is the line it logs; nothing branches on it.)
fn handshake(tls: &mut ServerConnection, client: &mut TcpStream) -> Result<(), String> {
    while tls.is_handshaking() {
        match tls.complete_io(client) {
            Ok((0, 0)) if tls.is_handshaking() => {
                return Err("connection closed during the handshake".into());
            }
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

/// Relays plaintext between the TLS client and the upstream until both sides are done, an
/// error, or the front stops.
fn relay(mut tls: ServerConnection, mut client: TcpStream, mut up: TcpStream, shared: &Shared) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut client_open = true;
    loop {
        // Plaintext from the client (some may have come with the handshake's last flight).
        loop {
            match tls.reader().read(&mut buf) {
                Ok(0) => {
                    // close_notify: no more requests.
                    client_open = false;
                    let _ = up.shutdown(Shutdown::Write);
                    break;
                }
                Ok(n) => {
                    if up.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        while tls.wants_write() {
            if tls.write_tls(&mut client).is_err() {
                return;
            }
        }
        if shared.conns.stopping() {
            return;
        }
        let mut fds = [
            libc::pollfd {
                fd: if client_open { client.as_raw_fd() } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: up.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfd structs (a negative fd is ignored by poll).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, 200) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        let ready = libc::POLLIN | libc::POLLHUP | libc::POLLERR;
        if client_open && fds[0].revents & ready != 0 {
            match tls.read_tls(&mut client) {
                Ok(0) => {
                    client_open = false;
                    let _ = up.shutdown(Shutdown::Write);
                }
                Ok(_) => {
                    if tls.process_new_packets().is_err() {
                        let _ = tls.write_tls(&mut client);
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
        if fds[1].revents & ready != 0 {
            match up.read(&mut buf) {
                Ok(0) | Err(_) => {
                    tls.send_close_notify();
                    while tls.wants_write() {
                        if tls.write_tls(&mut client).is_err() {
                            break;
                        }
                    }
                    return;
                }
                Ok(n) => {
                    if tls.writer().write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    }
}
