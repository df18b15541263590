//! The docker credential helper protocol's messages.
//!
//! Key spelling is exact (`ServerURL`, `Username`, `Secret`) because Bazel's rules_oci and
//! the Rust `docker_credential` crate decode case-sensitively (SPEC Part B).

use crate::secret::Secret;
use serde::{Deserialize, Serialize};

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
            String::from_utf8(crate::output::json_line(&creds)).unwrap(),
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
}
