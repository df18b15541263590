//! One cached token and the name of its file.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Fetched from ECR by us.
    Fetched,
    /// Handed to us by `docker login` (the `store` action).
    Stored,
}

/// One cached token. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The ECR registry host, or for stored entries the host the client logged in to.
    pub registry: String,
    /// The server (host[:port]) the client last asked for; the daemon renews as if asked again.
    pub server: String,
    pub identity: String,
    /// `AWS_PROFILE` in effect when fetched, so the daemon can fetch as the same profile.
    #[serde(default)]
    pub env_profile: Option<String>,
    pub username: String,
    pub secret: Secret,
    pub source: Source,
    /// Start of the token's life, for the "share of lifetime" policy.
    pub issued_at_ms: i64,
    pub fetched_at_ms: i64,
    /// When the entry stops being valid: the earlier of the token's and its source
    /// credentials' expiry.
    pub expires_at_ms: i64,
    pub token_expires_at_ms: i64,
    #[serde(default)]
    pub proxy_endpoint: Option<String>,
}

impl Entry {
    pub fn key(&self) -> String {
        key(&self.registry, &self.identity)
    }
}

#[cfg(test)]
impl Entry {
    /// A fetched-or-stored entry for unit tests: registry, identity and times as given.
    pub fn sample(source: Source, issued: i64, expires: i64) -> Entry {
        Entry {
            registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            server: "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            identity: "profile:default".into(),
            env_profile: None,
            username: "AWS".into(),
            secret: Secret::new("s"),
            source,
            issued_at_ms: issued,
            fetched_at_ms: issued,
            expires_at_ms: expires,
            token_expires_at_ms: expires,
            proxy_endpoint: None,
        }
    }
}

/// The file name stem for (registry, identity).
pub fn key(registry: &str, identity: &str) -> String {
    let mut h = Sha256::new();
    h.update(registry.as_bytes());
    h.update([0]);
    h.update(identity.as_bytes());
    crate::token::identity::hex(&h.finalize()[..16])
}
