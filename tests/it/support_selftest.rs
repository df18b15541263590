//! Tests of the test support for private CAs, proxies and MFA prompts (`support::tls_front`,
//! `support::proxy`, `support::pty`, `support::botocore_cache`), with std sockets and
//! rustls as the client: each would fail if the piece it tests were broken.

use crate::support::botocore_cache::{CliSession, SCRIPT};
use crate::support::fake_ecr::{ECR_TARGET, FakeEcr};
use crate::support::harness::drop_within;
use crate::support::proxy::{ConnectProxy, PROXY_AUTH_REQUIRED, ProxyOptions, ProxyRequest};
use crate::support::pty::{PtyStdio, detach_from_tty, run_in_pty, run_in_pty_with};
use crate::support::tls_front::{Ca, LOCAL_NAMES, TlsFront};
use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, ClientConfig, ClientConnection, StreamOwned};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN_REQUEST: &str = "POST / HTTP/1.1\r\nHost: api.ecr.us-east-1.amazonaws.com\r\n\
    X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken\r\n\
    Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

fn client_config(ca_pem: &str) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// A TLS client session over `tcp` for `name`, handshake done.
fn tls_over<S: Read + Write>(
    ca_pem: &str,
    name: &str,
    tcp: S,
) -> Result<StreamOwned<ClientConnection, S>, io::Error> {
    let name = ServerName::try_from(name.to_string()).unwrap();
    let conn = ClientConnection::new(client_config(ca_pem), name).unwrap();
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

fn tcp(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `request` and reads the whole reply (the request says `Connection: close`).
fn exchange(stream: &mut (impl Read + Write), request: &str) -> String {
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut reply = Vec::new();
    match stream.read_to_end(&mut reply) {
        Ok(_) => {}
        // A peer that closes without close_notify: what was read is still the reply.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("read the reply: {e}"),
    }
    String::from_utf8_lossy(&reply).into_owned()
}

/// The certificate error the client saw, from the io::Error rustls's stream returns.
fn certificate_error(e: &io::Error) -> Option<&CertificateError> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(c) => Some(c),
        _ => None,
    }
}

#[test]
fn tls_front_relays_to_the_fake_with_a_certificate_of_the_private_ca() {
    let fake = FakeEcr::start();
    fake.set_password("through-tls");
    let ca = Ca::new("ecr-login test CA");
    let dir = tempfile::tempdir().unwrap();
    ca.write_pem(dir.path().join("ca.pem"));
    let written = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
    assert_eq!(written, ca.pem());
    assert!(
        written.starts_with("-----BEGIN CERTIFICATE-----"),
        "{written}"
    );
    let (cert, key) = ca.server_cert(LOCAL_NAMES);
    let front = TlsFront::start(fake.port(), &cert, &key);
    assert_eq!(front.url(), format!("https://localhost:{}", front.port()));

    for name in ["localhost", "127.0.0.1"] {
        let mut tls = tls_over(&written, name, tcp(front.port())).expect("handshake");
        let reply = exchange(&mut tls, TOKEN_REQUEST);
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.contains("authorizationToken"), "{reply}");
    }
    assert_eq!(fake.token_calls(), 2);
    // Several requests on one connection, in both directions.
    let mut tls = tls_over(&written, "localhost", tcp(front.port())).unwrap();
    let keep = TOKEN_REQUEST.replace("Connection: close\r\n", "");
    for _ in 0..3 {
        tls.write_all(keep.as_bytes()).unwrap();
        let mut reader = BufReader::new(&mut tls);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK\r\n");
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        assert!(String::from_utf8_lossy(&body).contains("authorizationToken"));
    }
    assert_eq!(fake.token_calls(), 5);
    assert_eq!((front.handshakes(), front.completed_handshakes()), (3, 3));
    assert!(front.handshake_errors().is_empty());
}

#[test]
fn tls_front_rejections_are_counted_once_each() {
    let fake = FakeEcr::start();
    let ca = Ca::new("trusted CA");
    let stranger = Ca::new("untrusted CA");

    // A CA the client does not trust.
    let (cert, key) = stranger.server_cert(LOCAL_NAMES);
    let front = TlsFront::start(fake.port(), &cert, &key);
    let e = tls_over(&ca.pem(), "localhost", tcp(front.port())).expect_err("refused");
    assert_eq!(
        certificate_error(&e),
        Some(&CertificateError::UnknownIssuer),
        "{e}"
    );

    // Expired.
    let (cert, key) = ca.expired_server_cert(LOCAL_NAMES);
    let expired = TlsFront::start(fake.port(), &cert, &key);
    let e = tls_over(&ca.pem(), "localhost", tcp(expired.port())).expect_err("refused");
    assert!(
        matches!(
            certificate_error(&e),
            Some(CertificateError::Expired | CertificateError::ExpiredContext { .. })
        ),
        "{e}"
    );

    // Valid, but for another name.
    let (cert, key) = ca.wrong_name_cert();
    let wrong = TlsFront::start(fake.port(), &cert, &key);
    let e = tls_over(&ca.pem(), "localhost", tcp(wrong.port())).expect_err("refused");
    assert!(
        matches!(
            certificate_error(&e),
            Some(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{e}"
    );

    for f in [&front, &expired, &wrong] {
        f.wait_for_handshake_errors(1, Duration::from_secs(5));
        assert_eq!((f.handshakes(), f.completed_handshakes()), (1, 0));
        assert_eq!(f.handshake_errors().len(), 1, "{:?}", f.handshake_errors());
    }
    // A silent connection is no handshake, and the front still serves after the failures.
    drop(TcpStream::connect(("127.0.0.1", front.port())).unwrap());
    let mut good = tls_over(&stranger.pem(), "localhost", tcp(front.port())).unwrap();
    assert!(exchange(&mut good, TOKEN_REQUEST).starts_with("HTTP/1.1 200 OK"));
    assert_eq!((front.handshakes(), front.completed_handshakes()), (2, 1));
    assert_eq!(fake.token_calls(), 1);
}

#[test]
fn dropping_the_tls_front_closes_its_connections() {
    let fake = FakeEcr::start();
    let ca = Ca::new("CA");
    let (cert, key) = ca.server_cert(LOCAL_NAMES);
    let front = TlsFront::start(fake.port(), &cert, &key);
    let mut tls = tls_over(&ca.pem(), "localhost", tcp(front.port())).unwrap();
    let start = drop_within(front, Duration::from_secs(2));
    let mut buf = [0u8; 16];
    let read = tls.read(&mut buf);
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

/// Sends a CONNECT and returns the proxy's reply head, the stream ready for the tunnel.
fn connect(proxy: &ConnectProxy, target: &str, auth: Option<(&str, &str)>) -> (String, TcpStream) {
    let mut s = tcp(proxy.port());
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, pass)) = auth {
        let basic = crate::support::fake_ecr::encode_base64(format!("{user}:{pass}").as_bytes());
        req.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
    }
    s.write_all(format!("{req}\r\n").as_bytes()).unwrap();
    // Byte by byte: nothing of the tunnel may be read here.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    (String::from_utf8_lossy(&head).into_owned(), s)
}

#[test]
fn proxy_requires_credentials_then_tunnels() {
    let fake = FakeEcr::start();
    let auth = Some(("alice".to_string(), "p@ss:w/rd".to_string()));
    let proxy = ConnectProxy::start(ProxyOptions {
        basic_auth: auth,
        redirect_to: None,
    });
    assert_eq!(proxy.url(), format!("http://127.0.0.1:{}", proxy.port()));
    assert_eq!(
        proxy.url_with_auth("alice", "p@ss:w/rd"),
        format!("http://alice:p%40ss%3Aw%2Frd@127.0.0.1:{}", proxy.port())
    );
    let target = format!("127.0.0.1:{}", fake.port());

    let (none, _) = connect(&proxy, &target, None);
    assert_eq!(none, PROXY_AUTH_REQUIRED);
    let (wrong, _) = connect(&proxy, &target, Some(("alice", "nope")));
    assert!(wrong.starts_with("HTTP/1.1 407 "), "{wrong}");
    let (ok, mut tunnel) = connect(&proxy, &target, Some(("alice", "p@ss:w/rd")));
    assert_eq!(ok, "HTTP/1.1 200 Connection established\r\n\r\n");
    let reply = exchange(&mut tunnel, TOKEN_REQUEST);
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert_eq!(fake.token_calls(), 1);

    let (unreachable, _) = connect(&proxy, "127.0.0.1:1", Some(("alice", "p@ss:w/rd")));
    assert!(unreachable.starts_with("HTTP/1.1 502 "), "{unreachable}");
    let request = |target: &str, authorized, status| ProxyRequest {
        method: "CONNECT".into(),
        target: target.into(),
        authorized,
        status,
    };
    assert_eq!(
        proxy.requests(),
        [
            request(&target, false, 407),
            request(&target, false, 407),
            request(&target, true, 200),
            request("127.0.0.1:1", true, 502),
        ]
    );
}

#[test]
fn proxy_redirects_an_aws_host_to_the_tls_front() {
    let fake = FakeEcr::start();
    let ca = Ca::new("corporate CA");
    let aws = "api.ecr.us-east-1.amazonaws.com";
    let (cert, key) = ca.server_cert(&[aws]);
    let front = TlsFront::start(fake.port(), &cert, &key);
    let proxy = ConnectProxy::start(ProxyOptions {
        basic_auth: None,
        redirect_to: Some(front.port()),
    });
    let (head, tunnel) = connect(&proxy, &format!("{aws}:443"), None);
    assert_eq!(head, "HTTP/1.1 200 Connection established\r\n\r\n");
    let mut tls = tls_over(&ca.pem(), aws, tunnel).expect("TLS through the tunnel");
    let reply = exchange(&mut tls, TOKEN_REQUEST);
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert_eq!(front.completed_handshakes(), 1);
    assert_eq!(fake.requests()[0].target, ECR_TARGET);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].target.as_str(), seen[0].authorized),
        ("api.ecr.us-east-1.amazonaws.com:443", true)
    );
}

#[test]
fn proxy_forwards_absolute_form_http_requests() {
    let fake = FakeEcr::start();
    let proxy = ConnectProxy::start(ProxyOptions {
        basic_auth: Some(("u".into(), "p".into())),
        redirect_to: None,
    });
    let url = format!("http://127.0.0.1:{}/", fake.port());
    let basic = crate::support::fake_ecr::encode_base64(b"u:p");
    let request = |auth: bool| {
        let auth = if auth {
            format!("Proxy-Authorization: Basic {basic}\r\n")
        } else {
            String::new()
        };
        TOKEN_REQUEST
            .replacen("POST / ", &format!("POST {url} "), 1)
            .replace("Connection: close\r\n", &auth)
    };
    let mut s = tcp(proxy.port());
    // Two requests on one connection (keep-alive to the proxy), then one refused.
    for _ in 0..2 {
        s.write_all(request(true).as_bytes()).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(
                s.read(&mut byte).unwrap(),
                1,
                "{}",
                String::from_utf8_lossy(&head)
            );
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0; len];
        s.read_exact(&mut body).unwrap();
        assert!(String::from_utf8_lossy(&body).contains("authorizationToken"));
    }
    assert_eq!(exchange(&mut s, &request(false)), PROXY_AUTH_REQUIRED);
    assert_eq!(fake.token_calls(), 2);
    // The fake saw origin-form requests without the proxy's credentials.
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.target == ECR_TARGET));
    let seen: Vec<(String, bool, u16)> = proxy
        .requests()
        .into_iter()
        .map(|r| (r.method, r.authorized, r.status))
        .collect();
    let post = |a, s| ("POST".to_string(), a, s);
    assert_eq!(seen, [post(true, 200), post(true, 200), post(false, 407)]);
    assert!(proxy.requests().iter().all(|r| r.target == url));
}

#[test]
fn dropping_the_proxy_closes_its_tunnels() {
    let fake = FakeEcr::start();
    let proxy = ConnectProxy::start(ProxyOptions::default());
    let (head, mut tunnel) = connect(&proxy, &format!("localhost:{}", fake.port()), None);
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    drop_within(proxy, Duration::from_secs(2));
    let mut buf = [0u8; 16];
    assert_eq!(tunnel.read(&mut buf).unwrap_or(0), 0);
}

const PROMPT_SCRIPT: &str = r#"printf "Code: " > /dev/tty; read x < /dev/tty; echo got=$x"#;

#[test]
fn pty_answers_a_prompt_on_the_terminal() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", PROMPT_SCRIPT]);
    let out = run_in_pty(cmd, &[("Code: ", "123456")], Duration::from_secs(10));
    assert!(out.status.success() && !out.timed_out, "{out:?}");
    assert_eq!(out.answered, 1);
    assert!(out.output.contains("Code: "), "{out:?}");
    assert!(out.output.contains("got=123456\n"), "{out:?}");
    assert_eq!(out.stdout, "");

    // stdout a pipe: the answer goes there, the prompt stays on the terminal.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", PROMPT_SCRIPT]);
    let stdio = PtyStdio::keep_stdout_piped();
    let out = run_in_pty_with(cmd, &[("Code: ", "654321")], Duration::from_secs(10), stdio);
    assert_eq!(out.stdout, "got=654321\n", "{out:?}");
    assert!(
        out.output.contains("Code: ") && !out.output.contains("got="),
        "{out:?}"
    );

    // A credential helper's shape: the request on stdin, the reply on stdout, two prompts.
    let mut cmd = Command::new("sh");
    let script = r#"read r; for i in 1 2; do printf "Code $i: " > /dev/tty; read c < /dev/tty; done; echo "$r/$c"; echo oops >&2; exit 3"#;
    cmd.args(["-c", script]);
    let answers = [("Code 1: ", "111111"), ("Code 2: ", "222222")];
    let out = run_in_pty_with(
        cmd,
        &answers,
        Duration::from_secs(10),
        PtyStdio::helper(b"reg\n"),
    );
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(out.stdout, "reg/222222\n", "{out:?}");
    assert!(
        out.output.contains("oops"),
        "stderr is the terminal: {out:?}"
    );
    assert_eq!(out.answered, 2);

    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo on-tty; echo on-stderr >&2"]);
    let stdio = PtyStdio {
        pipe_stderr: true,
        ..PtyStdio::terminal()
    };
    let out = run_in_pty_with(cmd, &[], Duration::from_secs(10), stdio);
    assert_eq!(
        (out.output.as_str(), out.stderr.as_str()),
        ("on-tty\n", "on-stderr\n")
    );
}

#[test]
fn pty_kills_a_child_at_the_timeout() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"printf "Code: " > /dev/tty; sleep 30"#]);
    let start = Instant::now();
    let out = run_in_pty(cmd, &[("Never: ", "x")], Duration::from_millis(500));
    assert!(out.timed_out && !out.status.success(), "{out:?}");
    assert_eq!(out.answered, 0);
    assert!(out.output.contains("Code: "), "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn detached_child_has_no_terminal() {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "if (: < /dev/tty) 2>/dev/null; then echo tty; else echo none; fi; [ -t 0 ] && echo stdin-tty; true",
    ]);
    cmd.stdin(Stdio::null());
    detach_from_tty(&mut cmd);
    let out = cmd.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "none\n");
    // And the same script on a pty does find one.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "if (: < /dev/tty) 2>/dev/null; then echo tty; else echo none; fi",
    ]);
    let out = run_in_pty(cmd, &[], Duration::from_secs(10));
    assert_eq!(out.output, "tty\n", "{out:?}");
}

#[test]
#[ignore = "needs python3 with botocore (pip install botocore): tests/run-all.sh runs it"]
fn botocore_writes_the_cli_cache_entry() {
    let dir = tempfile::tempdir().unwrap();
    let role = "arn:aws:iam::123456789012:role/ecr-pull";
    let serial = "arn:aws:iam::111111111111:mfa/alice";
    let hour = Duration::from_secs(3600);
    let write = |serial, duration_seconds| {
        let session = CliSession {
            role_arn: role,
            serial,
            key_id: "ASIAX",
            secret: "s3cret",
            token: "tok",
            duration_seconds,
        };
        session
            .write(dir.path(), hour)
            .unwrap_or_else(|| panic!("botocore is not importable by python3 ({SCRIPT})"))
    };
    // The keys botocore 1.43 and 1.44 compute (sha1 of the sorted JSON of the arguments).
    let with_duration = write(serial, Some(3600));
    assert_eq!(with_duration, "d3e0e69e7135fb76aa38fa849af50a55fc38d067");
    assert_eq!(
        write(serial, None),
        "f62125309a2c1226126be12d3ad71323f6c72204"
    );
    let no_mfa = write("", None);
    assert_ne!(no_mfa, with_duration);

    let text = std::fs::read_to_string(dir.path().join(format!("{with_duration}.json"))).unwrap();
    let entry: serde_json::Value = serde_json::from_str(&text).unwrap();
    let creds = &entry["Credentials"];
    assert_eq!(creds["AccessKeyId"], "ASIAX");
    assert_eq!(creds["SecretAccessKey"], "s3cret");
    assert_eq!(creds["SessionToken"], "tok");
    assert_eq!(creds["AccountId"], "123456789012");
    let expiration = creds["Expiration"].as_str().unwrap();
    let soon = (time::OffsetDateTime::now_utc() + hour)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]"
        ))
        .unwrap();
    assert!(
        expiration.starts_with(&soon) && expiration.ends_with("UTC"),
        "{expiration}"
    );
    assert!(
        entry["AssumedRoleUser"]["Arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sts::123456789012:assumed-role/ecr-pull/botocore-session-")
    );
    // Rewriting replaces the entry, even one still valid; a past expiration is written as is.
    let past = time::macros::datetime!(2020-01-02 03:04:05 UTC);
    let again = CliSession {
        role_arn: role,
        serial,
        key_id: "ASIAY",
        secret: "s",
        token: "t",
        duration_seconds: Some(3600),
    }
    .write_expiring_at(dir.path(), past);
    assert_eq!(again.as_deref(), Some(with_duration.as_str()));
    let text = std::fs::read_to_string(dir.path().join(format!("{with_duration}.json"))).unwrap();
    assert!(text.contains(r#""AccessKeyId": "ASIAY""#), "{text}");
    assert!(
        text.contains(r#""Expiration": "2020-01-02T03:04:05UTC""#),
        "{text}"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "no temp files left: {names:?}");
}
