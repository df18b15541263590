//! One cached token and the name of its file.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

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
    /// What decided who signed (`Identity::key`); with the registry, it names the file.
    pub identity: String,
    /// Who signed, for people: `profile:dev (sso)`, `env:1a2b…`, `docker-login`.
    #[serde(default)]
    pub signer: String,
    /// The AWS SDK's variables the token was fetched with, secrets left out, so the daemon
    /// renews it as exactly that source (or leaves it to expire when it cannot).
    #[serde(default)]
    pub aws_env: BTreeMap<String, String>,
    /// Files that must still exist for the entry to be served: an SSO session's token
    /// cache, which `aws sso logout` removes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<PathBuf>,
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

    /// Whether every file the entry requires still exists.
    pub fn requirements_met(&self) -> bool {
        self.requires.iter().all(|p| p.exists())
    }
}

#[cfg(test)]
impl Entry {
    /// A fetched-or-stored entry for unit tests: registry, identity and times as given.
    pub(crate) fn sample(source: Source, issued: i64, expires: i64) -> Entry {
        Entry {
            registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            server: "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            identity: "profile:default".into(),
            signer: "profile:default".into(),
            aws_env: BTreeMap::new(),
            requires: Vec::new(),
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
