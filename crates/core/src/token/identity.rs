//! Who asks for a token, computed from configuration alone.
//!
//! The Go helper keys its cache by the resolved access key, which costs a network round
//! trip for SSO and assume-role users and changes every session, so they never hit the
//! cache. Ours is the profile name, the role from our config, and for environment
//! credentials a hash of the access key ID: no network, no credential resolution.

use crate::env::Env;
use crate::secret::Secret;
use crate::token::config::RegistryRule;
use sha2::{Digest, Sha256};

const ENDPOINT_VARS: [&str; 3] = [
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_ECR_PUBLIC",
    "AWS_ENDPOINT_URL",
];

/// The AWS identity that signs a registry's token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The AWS profile to load: named by our config, else `AWS_PROFILE`; `None` = default.
    pub profile: Option<String>,
    /// The profile comes from our config, so it wins over environment credentials.
    pub profile_from_config: bool,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// API region override from our config.
    pub region: Option<String>,
    /// Kubelet service-account mode: assume `role_arn` with this web identity token.
    pub web_identity_token: Option<Secret>,
    /// A readable, stable label: part of the cache key and shown by `status`.
    pub label: String,
}

impl Identity {
    pub fn new(rule: Option<&RegistryRule>, env: &dyn Env) -> Identity {
        let rule = rule.cloned().unwrap_or_default();
        let mut label = if let Some(profile) = &rule.profile {
            format!("profile:{profile}")
        } else if let Some(key_id) = env.var("AWS_ACCESS_KEY_ID") {
            format!("env:{}", short_hash(&key_id))
        } else if let (Some(role), Some(_)) = (
            env.var("AWS_ROLE_ARN"),
            env.var("AWS_WEB_IDENTITY_TOKEN_FILE"),
        ) {
            format!("web-identity:{role}")
        } else {
            let profile = env
                .var("AWS_PROFILE")
                .or_else(|| env.var("AWS_DEFAULT_PROFILE"))
                .unwrap_or_else(|| "default".into());
            format!("profile:{profile}")
        };
        if let Some(role) = &rule.role_arn {
            label.push_str(" role:");
            label.push_str(role);
            if let Some(id) = &rule.external_id {
                label.push_str(" external-id:");
                label.push_str(&short_hash(id));
            }
        }
        if let Some(region) = &rule.region {
            label.push_str(" region:");
            label.push_str(region);
        }
        // A token minted by another endpoint (a test double, a VPC endpoint) is another token.
        if let Some(url) = ENDPOINT_VARS.iter().find_map(|v| env.var(v)) {
            label.push_str(" endpoint:");
            label.push_str(&url);
        }
        let profile_from_config = rule.profile.is_some();
        let profile = rule.profile.or_else(|| {
            env.var("AWS_PROFILE")
                .or_else(|| env.var("AWS_DEFAULT_PROFILE"))
        });
        Identity {
            profile,
            profile_from_config,
            role_arn: rule.role_arn,
            external_id: rule.external_id,
            region: rule.region,
            web_identity_token: None,
            label,
        }
    }

    /// The identity of a Kubernetes service account that assumes `role_arn` with its
    /// projected token. Keyed by role *and* account (`subject`), so one pod's token is
    /// never served to a pod whose service account could not assume the role itself.
    pub fn web_identity(
        role_arn: &str,
        token: Secret,
        subject: &str,
        region: Option<String>,
        env: &dyn Env,
    ) -> Identity {
        let mut label = format!("web-identity:{role_arn} sa:{subject}");
        if let Some(url) = ENDPOINT_VARS.iter().find_map(|v| env.var(v)) {
            label.push_str(" endpoint:");
            label.push_str(&url);
        }
        Identity {
            profile: None,
            profile_from_config: false,
            role_arn: Some(role_arn.to_string()),
            external_id: None,
            region,
            web_identity_token: Some(token),
            label,
        }
    }
}

/// First 16 hex digits of SHA-256: enough to tell keys apart, useless to recover one.
pub fn short_hash(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes())[..8])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MapEnv;

    fn env(pairs: &[(&'static str, &'static str)]) -> MapEnv {
        MapEnv::new(pairs.iter().copied())
    }

    #[test]
    fn labels() {
        let rule = |profile: Option<&str>, role: Option<&str>| RegistryRule {
            profile: profile.map(Into::into),
            role_arn: role.map(Into::into),
            ..RegistryRule::default()
        };
        let cases: &[(Option<RegistryRule>, MapEnv, &str)] = &[
            (None, env(&[]), "profile:default"),
            (None, env(&[("AWS_PROFILE", "dev")]), "profile:dev"),
            (None, env(&[("AWS_DEFAULT_PROFILE", "old")]), "profile:old"),
            // The config's profile beats the environment, as the SDK is told to use it.
            (
                Some(rule(Some("prod"), None)),
                env(&[("AWS_PROFILE", "dev")]),
                "profile:prod",
            ),
            (
                Some(rule(Some("prod"), Some("arn:aws:iam::1:role/r"))),
                env(&[]),
                "profile:prod role:arn:aws:iam::1:role/r",
            ),
            (
                None,
                env(&[
                    ("AWS_ROLE_ARN", "arn:r"),
                    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                ]),
                "web-identity:arn:r",
            ),
            (
                None,
                env(&[("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:1")]),
                "profile:default endpoint:http://127.0.0.1:1",
            ),
        ];
        for (rule, vars, want) in cases {
            assert_eq!(Identity::new(rule.as_ref(), vars).label, *want);
        }
    }

    #[test]
    fn access_keys_are_hashed_not_shown() {
        let id = Identity::new(None, &env(&[("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY123")]));
        assert!(id.label.starts_with("env:"));
        assert!(!id.label.contains("AKIA"));
        let other = Identity::new(None, &env(&[("AWS_ACCESS_KEY_ID", "AKIAOTHERKEY45678")]));
        assert_ne!(id.label, other.label);
    }
}
