//! The docker credential helper protocol: message types and the one place stdout is written.
//!
//! Key spelling is exact (`ServerURL`, `Username`, `Secret`) because Bazel's rules_oci and
//! the Rust `docker_credential` crate decode case-sensitively (SPEC Part B).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, Read, Write};

/// The reply that tells docker/cli, containers/image and oras to go anonymous.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// Largest stdin we read (SPEC A.6); a larger one is an error, not a truncation.
pub const MAX_STDIN: u64 = 64 * 1024;

/// A value that must never reach a log: `Debug` prints a placeholder, there is no
/// `Display`, and [`Secret::expose`] marks every place the value leaves its box.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `get`'s reply and `store`'s request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(rename = "ServerURL")]
    pub server_url: String,
    #[serde(rename = "Username")]
    pub username: String,
    #[serde(rename = "Secret")]
    pub secret: Secret,
}

/// Reads all of stdin as UTF-8, refusing more than [`MAX_STDIN`] bytes.
pub fn read_stdin() -> Result<String, String> {
    read_bounded(io::stdin().lock())
}

pub fn read_bounded(input: impl Read) -> Result<String, String> {
    let mut buf = Vec::new();
    input
        .take(MAX_STDIN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    if buf.len() as u64 > MAX_STDIN {
        return Err(format!(
            "standard input is larger than {} KiB; expected a registry address",
            MAX_STDIN / 1024
        ));
    }
    String::from_utf8(buf).map_err(|_| "standard input is not UTF-8 text".to_string())
}

/// Writes the protocol reply. A closed pipe is not our error: the caller went away.
pub fn write_stdout(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Serialises a protocol value as one JSON line.
pub fn to_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).expect("protocol types always serialise");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_reply_is_byte_exact() {
        let creds = Credentials {
            server_url: "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            username: "AWS".into(),
            secret: Secret::new("pa\"ss"),
        };
        assert_eq!(
            String::from_utf8(to_line(&creds)).unwrap(),
            "{\"ServerURL\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com\",\"Username\":\"AWS\",\"Secret\":\"pa\\\"ss\"}\n"
        );
    }

    #[test]
    fn store_request_parses_exact_keys() {
        let got: Credentials =
            serde_json::from_str(r#"{"ServerURL":"https://h","Username":"AWS","Secret":"s3"}"#)
                .unwrap();
        assert_eq!(got.server_url, "https://h");
        assert_eq!(got.secret.expose(), "s3");
        // Missing keys are an error, not empty strings.
        assert!(
            serde_json::from_str::<Credentials>(r#"{"ServerURL":"h","Username":"AWS"}"#).is_err()
        );
    }

    #[test]
    fn secret_never_debug_prints() {
        let creds = Credentials {
            server_url: "h".into(),
            username: "AWS".into(),
            secret: Secret::new("hunter2"),
        };
        assert!(!format!("{creds:?}").contains("hunter2"));
    }

    #[test]
    fn stdin_is_bounded_and_utf8() {
        assert_eq!(read_bounded(&b"host\n"[..]).unwrap(), "host\n");
        let big = vec![b'a'; MAX_STDIN as usize + 1];
        assert!(
            read_bounded(&big[..])
                .unwrap_err()
                .contains("larger than 64 KiB")
        );
        assert!(
            read_bounded(&[0xff, 0xfe][..])
                .unwrap_err()
                .contains("not UTF-8")
        );
    }
}
