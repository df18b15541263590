//! Tests of the fake AWS endpoint itself (`fake_ecr.rs`), over raw HTTP/1.1 from std's
//! TcpStream. A sibling module of `fake_ecr` in the test binary; together they use every
//! item of the fake, so it needs no `dead_code` allowance.

use super::fake_ecr::*;
use super::harness::drop_within;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecr/aws4_request, \
                      SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123abcd";

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: fake\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req + "\r\n" + body
}

/// One request on a fresh connection (`Connection: close`), read to EOF.
fn call(fake: &FakeEcr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut headers = headers.to_vec();
    headers.push(("Connection", "close"));
    s.write_all(request(method, path, &headers, body).as_bytes())
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no reply: {raw:?}"));
    let status = head[9..12].parse().unwrap();
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn ecr(fake: &FakeEcr, target: &str, body: &str) -> Reply {
    let headers = [
        ("X-Amz-Target", target),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Authorization", SIGNED),
    ];
    call(fake, "POST", "/", &headers, body)
}

fn sts(fake: &FakeEcr, form: &[(&str, &str)]) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    call(fake, "POST", "/", &headers, &body)
}

fn sso(fake: &FakeEcr, account: &str, role: &str, bearer: &str) -> Reply {
    let path = format!("/federation/credentials?role_name={role}&account_id={account}");
    call(
        fake,
        "GET",
        &path,
        &[("x-amz-sso_bearer_token", bearer)],
        "",
    )
}

/// Credentials as the fake makes them for `key_id` (the names of the key id, secret and
/// session token fields vary by API): its secret, and a session token of the fake's.
#[track_caller]
fn assert_fake_credentials(creds: &Value, [id, secret, token]: [&str; 3], key_id: &str) {
    assert_eq!(creds[id], key_id);
    assert_eq!(creds[secret], format!("fake/secret/{key_id}"));
    let session = creds[token].as_str().unwrap();
    assert!(session.starts_with("FwoGZXIvYXdzEFAKE"), "{session}");
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn password_of(entry: &Value) -> String {
    let token = entry["authorizationToken"].as_str().unwrap();
    let decoded = String::from_utf8(decode_base64(token).unwrap()).unwrap();
    decoded.strip_prefix("AWS:").unwrap().to_string()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {text}"))
        + open.len();
    &text[start..start + text[start..].find(close).unwrap()]
}

fn epoch_of_rfc3339(text: &str) -> f64 {
    OffsetDateTime::parse(text, &Rfc3339)
        .unwrap()
        .unix_timestamp() as f64
}

#[test]
fn signed_ecr_request_is_recorded_with_its_key_and_region() {
    let fake = FakeEcr::start();
    fake.set_password("pw-one");
    let body = r#"{"registryIds":["210987654321","123456789012"]}"#;
    let reply = ecr(&fake, ECR_TARGET, body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert_eq!(reply.header("x-amzn-RequestId").map(str::len), Some(36));
    let data = reply.json()["authorizationData"]
        .as_array()
        .unwrap()
        .clone();
    let endpoints: Vec<&str> = data
        .iter()
        .map(|d| d["proxyEndpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        [
            "https://210987654321.dkr.ecr.us-east-1.amazonaws.com",
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"
        ]
    );
    assert_eq!(password_of(&data[0]), "pw-one");
    let left = data[0]["expiresAt"].as_f64().unwrap() - now();
    assert!((left - 12.0 * 3600.0).abs() < 5.0, "{left}");

    let signed_eu = SIGNED.replace("AKID/20260101/us-east-1", "AKIAOTHER/20260101/eu-west-1");
    let headers = [
        ("X-Amz-Target", ECR_TARGET),
        ("Authorization", signed_eu.as_str()),
    ];
    let reply = call(&fake, "POST", "/", &headers, "{}");
    let endpoint = &reply.json()["authorizationData"][0]["proxyEndpoint"];
    assert_eq!(
        endpoint,
        &format!("https://{DEFAULT_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com")
    );

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0],
        Request {
            target: ECR_TARGET.into(),
            access_key_id: "AKID".into(),
            region: "us-east-1".into(),
            body: body.into(),
            authorization: SIGNED.into(),
        }
    );
    assert_eq!(
        (reqs[1].access_key_id.as_str(), reqs[1].region.as_str()),
        ("AKIAOTHER", "eu-west-1")
    );
    assert_eq!(fake.token_calls(), 2);
}

#[test]
fn ecr_public_default_account_and_bad_bodies() {
    let fake = FakeEcr::start();
    fake.set_default_account("999988887777");
    fake.set_expires_at(Some(1_430_000_000.5));
    let reply = ecr(&fake, ECR_PUBLIC_TARGET, "{}");
    let data = &reply.json()["authorizationData"];
    assert!(data.is_object(), "{data}");
    assert_eq!(data["expiresAt"].as_f64(), Some(1_430_000_000.5));
    // No password set: a fresh ECR-shaped one per token, carrying its expiration.
    let first = password_of(data);
    let doc: Value = serde_json::from_slice(&decode_base64(&first).unwrap()).unwrap();
    assert_eq!(doc["expiration"], 1_430_000_000);
    assert_eq!(doc["type"], "DATA_KEY");
    assert!(first.len() > 2000, "{}", first.len());
    fake.set_expires_at(None);
    fake.set_lifetime(Duration::from_secs(60));
    let reply = ecr(&fake, ECR_TARGET, "");
    let entry = &reply.json()["authorizationData"][0];
    assert_eq!(
        entry["proxyEndpoint"],
        "https://999988887777.dkr.ecr.us-east-1.amazonaws.com"
    );
    assert!((entry["expiresAt"].as_f64().unwrap() - now() - 60.0).abs() < 5.0);
    assert_ne!(password_of(entry), first);
    fake.set_password("fixed");
    fake.clear_password();
    assert_ne!(
        password_of(&ecr(&fake, ECR_TARGET, "").json()["authorizationData"][0]),
        "fixed"
    );

    let reply = ecr(&fake, ECR_TARGET, r#"{"registryIds":["12345"]}"#);
    assert_eq!(
        (reply.status, reply.header("x-amzn-ErrorType")),
        (400, Some("InvalidParameterException"))
    );
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("Value '[12345]' at 'registryIds'")
    );
    for bad in [
        "not json",
        "[1]",
        r#"{"registryIds":"x"}"#,
        r#"{"registryIds":[1]}"#,
    ] {
        let reply = ecr(&fake, ECR_TARGET, bad);
        assert_eq!(
            reply.header("x-amzn-ErrorType"),
            Some("SerializationException"),
            "{bad}"
        );
        assert_eq!(reply.json()["__type"], "SerializationException");
    }
}

#[test]
fn faults_apply_in_order_then_the_persistent_one() {
    let fake = FakeEcr::start();
    fake.set_password("pw");
    let queued = [
        (Fault::Throttle, 400, "ThrottlingException"),
        (Fault::ServerError, 500, "ServerException"),
        (Fault::Deny, 400, "AccessDeniedException"),
        (Fault::ExpiredToken, 400, "ExpiredTokenException"),
        (Fault::Unrecognized, 400, "UnrecognizedClientException"),
    ];
    for (fault, _, _) in &queued {
        fake.push_fault(fault.clone());
    }
    fake.push_fault(Fault::BadToken);
    fake.push_fault(Fault::Delay(Duration::from_millis(300)));
    for (_, status, kind) in queued {
        let reply = ecr(&fake, ECR_TARGET, "{}");
        assert_eq!(
            (reply.status, reply.header("x-amzn-ErrorType")),
            (status, Some(kind))
        );
        assert_eq!(reply.json()["__type"], kind);
    }
    let reply = ecr(&fake, ECR_PUBLIC_TARGET, "{}");
    let token = reply.json()["authorizationData"]["authorizationToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(decode_base64(&token), None, "BadToken: {token}");
    let start = Instant::now();
    assert_eq!(ecr(&fake, ECR_TARGET, "{}").status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    fake.set_fault(Some(Fault::Deny));
    fake.push_fault(Fault::Throttle);
    let kinds: Vec<String> = (0..3)
        .map(|_| {
            ecr(&fake, ECR_PUBLIC_TARGET, "{}")
                .header("x-amzn-ErrorType")
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "ThrottlingException",
            "AccessDeniedException",
            "AccessDeniedException"
        ]
    );
    let message = ecr(&fake, ECR_PUBLIC_TARGET, "{}").json()["message"].clone();
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("ecr-public:GetAuthorizationToken"),
        "{message}"
    );
    fake.set_fault(None);
    assert_eq!(ecr(&fake, ECR_TARGET, "{}").status, 200);
    assert_eq!(fake.token_calls(), 12);
}

#[test]
fn drop_releases_hung_and_delayed_calls_and_closes_idle_connections() {
    let fake = FakeEcr::start();
    fake.push_fault(Fault::Hang);
    fake.push_fault(Fault::Delay(Duration::from_secs(60)));
    // An idle keep-alive connection, after one answered request.
    let mut idle = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
    idle.write_all(request("GET", "/nothing", &[], "").as_bytes())
        .unwrap();
    let mut buf = [0u8; 4096];
    assert!(idle.read(&mut buf).unwrap() > 0);
    let (done, finished) = mpsc::channel();
    for _ in 0..2 {
        let mut s = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
        s.write_all(request("POST", "/", &[("X-Amz-Target", ECR_TARGET)], "{}").as_bytes())
            .unwrap();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let read = s.read_to_end(&mut got);
            done.send((read.is_ok(), got.len())).unwrap();
        });
    }
    fake.wait_for_token_calls(2, Duration::from_secs(5));
    assert!(
        finished.recv_timeout(Duration::from_millis(300)).is_err(),
        "answered too early"
    );
    drop_within(fake, Duration::from_secs(1));
    for _ in 0..2 {
        let (ok, len) = finished
            .recv_timeout(Duration::from_secs(1))
            .expect("released by the drop");
        assert!(ok && len == 0, "closed without a reply: ok={ok} len={len}");
    }
    idle.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    assert_eq!(idle.read(&mut buf).unwrap(), 0, "idle connection closed");
}

#[test]
fn many_parallel_clients_are_served_at_once() {
    let fake = FakeEcr::start();
    fake.set_fault(Some(Fault::Delay(Duration::from_millis(500))));
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..40)
            .map(|_| s.spawn(|| ecr(&fake, ECR_TARGET, "{}").status))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 200);
        }
    });
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(fake.token_calls(), 40);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let fake = FakeEcr::start();
    let mut s = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..3 {
        s.write_all(request("POST", "/", &[("X-Amz-Target", ECR_TARGET)], "{}").as_bytes())
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        // The reply is complete once Content-Length bytes follow the head.
        loop {
            let n = s.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = between(head, "Content-Length: ", "\r").parse().unwrap();
                if body.len() == len {
                    assert!(
                        head.starts_with("HTTP/1.1 200 OK") && !head.contains("Connection: close")
                    );
                    break;
                }
            }
        }
    }
    assert_eq!(fake.token_calls(), 3);
}

#[test]
fn sts_assume_role_replies_in_xml() {
    let fake = FakeEcr::start();
    let role = "arn:aws:iam::123456789012:role/ci/push";
    let form = [
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role),
        ("RoleSessionName", "ecr-login"),
        ("ExternalId", "ext-42"),
    ];
    let reply = sts(&fake, &form);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("text/xml"));
    let xml = &reply.body;
    assert!(
        xml.starts_with(
            r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#
        ),
        "{xml}"
    );
    assert_eq!(between(xml, "<AccessKeyId>", "<"), "ASIAASSUMED1");
    assert_eq!(
        between(xml, "<SecretAccessKey>", "<"),
        "fake/secret/ASIAASSUMED1"
    );
    assert!(between(xml, "<SessionToken>", "<").starts_with("FwoGZXIvYXdzEFAKE"));
    assert_eq!(
        between(xml, "<Arn>", "<"),
        "arn:aws:sts::123456789012:assumed-role/push/ecr-login"
    );
    assert_eq!(
        between(xml, "<AssumedRoleId>", "<"),
        "AROAFAKEROLE00000001:ecr-login"
    );
    assert_eq!(
        between(xml, "<RequestId>", "<"),
        reply.header("x-amzn-RequestId").unwrap()
    );
    let expiration = between(xml, "<Expiration>", "<");
    assert!(
        expiration.ends_with('Z') && expiration.len() == 20,
        "{expiration}"
    );
    assert!((epoch_of_rfc3339(expiration) - now() - 3600.0).abs() < 5.0);

    let req = &fake.requests()[0];
    assert_eq!(req.target, "sts:AssumeRole");
    assert!(
        req.body
            .contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci%2Fpush")
    );
    assert!(req.body.contains("ExternalId=ext-42"));

    fake.set_role_key("arn:aws:iam::123456789012:role/named", "ASIANAMED");
    fake.set_sts_lifetime(Duration::from_secs(900));
    let named = sts(
        &fake,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", "arn:aws:iam::123456789012:role/named"),
        ],
    );
    assert_eq!(between(&named.body, "<AccessKeyId>", "<"), "ASIANAMED");
    assert_eq!(
        between(&named.body, "<Arn>", "<"),
        "arn:aws:sts::123456789012:assumed-role/named/fake-session"
    );
    let expiration = epoch_of_rfc3339(between(&named.body, "<Expiration>", "<"));
    assert!((expiration - now() - 900.0).abs() < 5.0);
    let third = sts(
        &fake,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", "arn:aws-cn:iam::210987654321:role/x"),
        ],
    );
    assert_eq!(between(&third.body, "<AccessKeyId>", "<"), "ASIAASSUMED3");
    let again = sts(&fake, &form);
    assert_eq!(between(&again.body, "<AccessKeyId>", "<"), "ASIAASSUMED1");
    assert_eq!(fake.sts_calls(), 4);
}

#[test]
fn sts_web_identity_and_errors() {
    let fake = FakeEcr::start();
    let role = ("RoleArn", "arn:aws:iam::123456789012:role/puller");
    let action = ("Action", "AssumeRoleWithWebIdentity");
    let reply = sts(
        &fake,
        &[
            action,
            role,
            ("WebIdentityToken", "eyJ.x.y"),
            ("RoleSessionName", "apps@puller"),
        ],
    );
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .body
            .starts_with("<AssumeRoleWithWebIdentityResponse "),
        "{}",
        reply.body
    );
    assert_eq!(
        between(&reply.body, "<Provider>", "<"),
        "oidc.fake.example.com"
    );
    assert_eq!(
        between(&reply.body, "<SubjectFromWebIdentityToken>", "<"),
        "fake-subject"
    );

    let missing = sts(&fake, &[action, role]);
    assert_eq!(
        (missing.status, between(&missing.body, "<Code>", "<")),
        (400, "ValidationError")
    );
    let bad_arn = sts(&fake, &[("Action", "AssumeRole"), ("RoleArn", "nope")]);
    assert_eq!(between(&bad_arn.body, "<Code>", "<"), "ValidationError");
    let unknown = sts(&fake, &[("Action", "GetCallerIdentity")]);
    assert_eq!(
        (unknown.status, between(&unknown.body, "<Code>", "<")),
        (400, "InvalidAction")
    );
    assert_eq!(fake.sts_calls(), 3);
    let targets: Vec<String> = fake.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets[3], "sts:GetCallerIdentity");

    // Issue 29: STS's RoleSessionName rule (2-64 of [\w+=,.@-]), and every call recorded.
    let long = "s".repeat(65);
    for (session, ok) in [
        ("ab", true),
        (&"s".repeat(64)[..], true),
        ("a", false),
        (&long[..], false),
        ("apps/puller", false),
        ("apps puller", false),
    ] {
        let reply = sts(
            &fake,
            &[
                action,
                role,
                ("WebIdentityToken", "eyJ.x.y"),
                ("RoleSessionName", session),
            ],
        );
        assert_eq!(reply.status == 200, ok, "{session}: {}", reply.body);
    }
    let calls = fake.web_identity_calls();
    assert_eq!(calls.len(), 8);
    assert_eq!(calls[0], (role.1.to_string(), "apps@puller".to_string()));
    assert_eq!(calls[1].1, "", "the call without a session name");
    assert_eq!(calls[7].1, "apps puller");
}

#[test]
fn sts_assume_role_with_mfa() {
    let fake = FakeEcr::start();
    let role = "arn:aws:iam::123456789012:role/ecr-pull";
    let serial = "arn:aws:iam::111111111111:mfa/alice";
    fake.require_mfa(role, serial, "123456");
    let base = [
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let form: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
        sts(&fake, &form)
    };
    let denied = |reply: &Reply| {
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert_eq!(reply.header("content-type"), Some("text/xml"));
        assert!(
            reply.body.starts_with("<ErrorResponse xmlns="),
            "{}",
            reply.body
        );
        assert_eq!(between(&reply.body, "<Type>", "<"), "Sender");
        assert_eq!(between(&reply.body, "<Code>", "<"), "AccessDenied");
        between(&reply.body, "<Message>", "<").to_string()
    };
    let invalid = "MultiFactorAuthentication failed with invalid MFA one time pass code.";

    let none = with(&[("DurationSeconds", "900")]);
    assert_eq!(
        denied(&none),
        format!(
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
             sts:AssumeRole on resource: {role}"
        )
    );
    let wrong_code = with(&[("SerialNumber", serial), ("TokenCode", "654321")]);
    assert_eq!(denied(&wrong_code), invalid);
    let no_code = with(&[("SerialNumber", serial)]);
    assert_eq!(denied(&no_code), invalid);
    let bob = "arn:aws:iam::111111111111:mfa/bob";
    let wrong_serial = with(&[("SerialNumber", bob), ("TokenCode", "123456")]);
    assert_eq!(denied(&wrong_serial), invalid);
    let form = fake.last_assume_role_form().unwrap();
    assert!(form.contains(&("SerialNumber".into(), bob.into())));

    let good = with(&[
        ("SerialNumber", serial),
        ("TokenCode", "123456"),
        ("DurationSeconds", "3600"),
    ]);
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(between(&good.body, "<AccessKeyId>", "<"), "ASIAASSUMED1");
    let form = fake.last_assume_role_form().unwrap();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(
        (field("RoleArn"), field("SerialNumber"), field("TokenCode")),
        (Some(role), Some(serial), Some("123456"))
    );
    assert_eq!(
        fake.assume_role_durations(),
        [
            Some("900".to_string()),
            None,
            None,
            None,
            Some("3600".to_string())
        ]
    );

    // Other roles, and web identity, need no MFA.
    let other = sts(
        &fake,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", "arn:aws:iam::123456789012:role/other"),
        ],
    );
    assert_eq!(other.status, 200, "{}", other.body);
    let web = sts(
        &fake,
        &[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("RoleArn", role),
            ("WebIdentityToken", "eyJ.x.y"),
            ("RoleSessionName", "ecr-login"),
        ],
    );
    assert_eq!(web.status, 200, "{}", web.body);
    let last = fake.last_assume_role_form().unwrap();
    assert!(last.contains(&(
        "RoleArn".into(),
        "arn:aws:iam::123456789012:role/other".into()
    )));
    assert_eq!(fake.assume_role_durations().len(), 6);
    assert_eq!(fake.sts_calls(), 7);
}

#[test]
fn sso_portal_get_role_credentials() {
    let fake = FakeEcr::start();
    let reply = sso(&fake, "111122223333", "ReadOnly", "portal-token");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let creds = &reply.json()["roleCredentials"];
    assert_fake_credentials(
        creds,
        ["accessKeyId", "secretAccessKey", "sessionToken"],
        "ASIASSO1",
    );
    let expiration = creds["expiration"]
        .as_i64()
        .expect("integer epoch milliseconds");
    assert!(
        (expiration as f64 / 1000.0 - now() - 3600.0).abs() < 5.0,
        "{expiration}"
    );

    fake.set_sso_role_key("111122223333", "Admin", "ASIACONFIGURED");
    let admin = sso(&fake, "111122223333", "Admin", "portal-token").json();
    assert_eq!(admin["roleCredentials"]["accessKeyId"], "ASIACONFIGURED");
    let other = sso(&fake, "444455556666", "ReadOnly", "portal-token").json();
    assert_eq!(other["roleCredentials"]["accessKeyId"], "ASIASSO3");

    for bearer in ["", "revoked-token"] {
        fake.revoke_sso_token("revoked-token");
        let reply = sso(&fake, "111122223333", "ReadOnly", bearer);
        assert_eq!(
            (reply.status, reply.header("x-amzn-ErrorType")),
            (401, Some("UnauthorizedException"))
        );
    }
    let reply = call(
        &fake,
        "GET",
        "/federation/credentials?role_name=x",
        &[("x-amz-sso_bearer_token", "t")],
        "",
    );
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        Some("InvalidRequestException")
    );

    let reqs = fake.requests();
    assert_eq!(reqs[0].target, "sso:GetRoleCredentials");
    assert_eq!(reqs[0].authorization, "portal-token");
    assert_eq!(reqs[0].access_key_id, "");
    assert_eq!(reqs[4].authorization, "revoked-token");
}

#[test]
fn container_credentials_with_and_without_a_token() {
    let fake = FakeEcr::start();
    fake.add_container_credentials("/v1/credentials", "ASIAPOD", Some("pod-token"));
    fake.add_container_credentials("/creds", "ASIAECS", None);
    let get = |path: &str, auth: Option<&str>| {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        call(&fake, "GET", path, &headers, "")
    };
    assert_eq!(get("/v1/credentials", None).status, 401);
    let wrong = get("/v1/credentials", Some("other"));
    assert_eq!(
        (wrong.status, wrong.json()["code"].as_str()),
        (403, Some("Forbidden"))
    );
    let reply = get("/v1/credentials", Some("pod-token"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let creds = reply.json();
    assert_fake_credentials(
        &creds,
        ["AccessKeyId", "SecretAccessKey", "Token"],
        "ASIAPOD",
    );
    let expiration = creds["Expiration"].as_str().unwrap();
    assert!(
        (epoch_of_rfc3339(expiration) - now() - 3600.0).abs() < 5.0,
        "{expiration}"
    );
    assert_eq!(
        get("/creds", Some("anything")).json()["AccessKeyId"],
        "ASIAECS"
    );
    assert_eq!(get("/creds", None).status, 200);
    // POST is not a credentials fetch; neither is an unknown path.
    assert_eq!(call(&fake, "POST", "/creds", &[], "").status, 400);
    assert_eq!(
        get("/other", None).header("x-amzn-ErrorType"),
        Some("UnknownOperationException")
    );

    let reqs = fake.requests();
    let targets: Vec<&str> = reqs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets[..3], ["container:/v1/credentials"; 3]);
    assert_eq!(targets[3..5], ["container:/creds"; 2]);
    assert_eq!(targets[5..], ["POST /creds", "GET /other"]);
    assert_eq!(reqs[2].authorization, "pod-token");
    assert_eq!(fake.token_calls() + fake.sts_calls(), 0);
}

#[test]
fn unknown_and_malformed_requests() {
    let fake = FakeEcr::start();
    let reply = call(&fake, "POST", "/", &[("X-Amz-Target", "Foo.Bar")], "{}");
    assert_eq!(
        (reply.status, reply.header("x-amzn-ErrorType")),
        (400, Some("UnknownOperationException"))
    );
    assert_eq!(reply.json()["message"], "Unknown operation Foo.Bar");
    // A GetAuthorizationToken target over GET is not a token call.
    assert_eq!(
        call(&fake, "GET", "/", &[("X-Amz-Target", ECR_TARGET)], "").status,
        400
    );
    assert_eq!(fake.token_calls(), 0);

    let mut s = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
    s.write_all(b"NOT A REQUEST\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(
        raw.starts_with("HTTP/1.1 400 ") && raw.contains("SerializationException"),
        "{raw}"
    );
    assert!(raw.contains("\r\nConnection: close\r\n"), "{raw}");
    let mut s = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
    // Chunked bodies are refused (the SDK always sends Content-Length); body not sent, so the
    // close is a clean FIN rather than a reset over unread bytes.
    s.write_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 400 "), "{raw}");
}

#[test]
fn recording_can_be_turned_off() {
    let fake = FakeEcr::start();
    fake.set_recording(false);
    ecr(&fake, ECR_TARGET, "{}");
    assert!(fake.requests().is_empty());
    assert_eq!(fake.token_calls(), 1);
    fake.set_recording(true);
    ecr(&fake, ECR_TARGET, "{}");
    assert_eq!(fake.requests().len(), 1);
    assert!(fake.url().starts_with("http://127.0.0.1:"));
}

#[test]
fn base64_helpers() {
    assert_eq!(encode_base64(b"AWS:pw"), "QVdTOnB3");
    assert_eq!(decode_base64(" QVdTOnB3 ").unwrap(), b"AWS:pw");
    // URL-safe alphabet, unpadded: as in a JWT.
    assert_eq!(decode_base64("-_8").unwrap(), [0xfb, 0xff]);
    assert_eq!(decode_base64("+/8=").unwrap(), [0xfb, 0xff]);
    assert_eq!(decode_base64("QQ").unwrap(), b"A");
    assert_eq!(
        decode_base64("QR").unwrap(),
        b"A",
        "trailing bits are tolerated"
    );
    assert_eq!(decode_base64("Q"), None);
    assert_eq!(decode_base64("QQ==="), None);
    assert_eq!(decode_base64("not*base64"), None);
    let password = default_password(1_700_000_000);
    let doc: Value = serde_json::from_slice(&decode_base64(&password).unwrap()).unwrap();
    assert_eq!(doc["version"], "2");
}

/// Issue 29: the quota lets a burst through, then throttles (no refill at 0 a second).
#[test]
fn quota_throttles_past_the_burst() {
    let fake = FakeEcr::start();
    fake.set_quota(0.0, 5.0);
    let statuses: Vec<u16> = (0..8)
        .map(|_| ecr(&fake, ECR_TARGET, "{}").status)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 400, 400, 400]);
    assert_eq!(fake.throttled_calls(), 3);
    assert_eq!(fake.token_calls(), 8);
}
