//! Who asks for a token: the credential source the AWS SDK would use, named from the
//! environment and the local files alone (no network, no credential process, no SDK
//! call), so a hit stays cheap, yet named so that a hit never hands one AWS identity's
//! token to another.
//!
//! The SDK's default chain tries environment keys, then the profile from the config and
//! credentials files, then web identity, then container credentials, then the instance
//! metadata service. Which of those signs can depend on what the files hold (a profile
//! that does not exist falls through to web identity), and reading that is the full
//! binary's business at fetch time. So the key ([`Identity::key`]) does not decide: it
//! holds everything that *could* decide. Environment keys alone when the SDK would use
//! them; otherwise every SDK variable and the content of the files in effect
//! ([`source`]). Over-splitting after an edit costs one fetch; a collision would be a
//! security bug. The label ([`Identity::label`]) is for people; the full binary refines it
//! when it fetches (`Fetched::signer`).

pub(crate) mod fingerprint;
pub(crate) mod source;

use crate::env::Env;
use crate::env::is_secret_var;
use crate::secret::Secret;
use crate::token::config::RegistryRule;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Variables a profile named in our config makes irrelevant: the SDK is told to use that
/// profile and nothing else, so it sees none of the other sources.
const OTHER_SOURCES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// The endpoint overrides that make a token another token (a test double's, a VPC
/// endpoint's), shown in the label.
const ENDPOINT_VARS: [&str; 3] = [
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_ECR_PUBLIC",
    "AWS_ENDPOINT_URL",
];

/// The AWS SDK's variables for one identity: what the SDK sees when it fetches as it.
/// `Debug` shows the names of secrets, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AwsEnv(BTreeMap<String, String>);

impl AwsEnv {
    /// A variable that is set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Every variable, as set (secrets included: for the SDK only).
    pub fn all(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The variables that may be written down with an entry: everything but secrets.
    pub(crate) fn recordable(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter(|(k, _)| !is_secret_var(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl fmt::Debug for AwsEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown = if is_secret_var(k) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k, shown)
            }))
            .finish()
    }
}

/// The AWS identity that signs a registry's token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The AWS profile the SDK loads (our config's, else `AWS_PROFILE`); `None` = default.
    pub profile: Option<String>,
    /// The profile comes from our config, so it wins over every other source.
    pub profile_from_config: bool,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// API region override from our config.
    pub region: Option<String>,
    /// Kubelet service-account mode: assume `role_arn` with this web identity token.
    pub web_identity_token: Option<Secret>,
    /// The SDK's variables for this identity.
    pub env: AwsEnv,
    /// Who signs, for people, as far as the environment tells: the source, then
    /// [`Self::qualifiers`].
    pub label: String,
    /// What our config and the endpoint add to the source (the full binary puts them after
    /// the source it finds out itself).
    pub qualifiers: Qualifiers,
    /// What decides who signs: hashed with the registry into the entry's file name.
    pub key: String,
    /// Whether `docker login` credentials may answer for it (never for a service account).
    pub accepts_stored: bool,
}

/// What qualifies a credential source in a label: the role our config assumes on top (with
/// its external ID, fingerprinted), the region override, the endpoint (user information
/// redacted). Shown as ` role:… external-id:… region:… endpoint:…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Qualifiers {
    pub role: Option<String>,
    pub external_id: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

impl fmt::Display for Qualifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in [
            ("role", &self.role),
            ("external-id", &self.external_id),
            ("region", &self.region),
            ("endpoint", &self.endpoint),
        ] {
            if let Some(v) = value {
                write!(f, " {name}:{v}")?;
            }
        }
        Ok(())
    }
}

/// The home directory as the SDK finds it (`HOME`, on Windows `USERPROFILE` or
/// `HOMEDRIVE` + `HOMEPATH`), for `~` in profile file paths.
pub(crate) fn home_dir(env: &dyn Env) -> Option<PathBuf> {
    if let Some(home) = env.var("HOME") {
        return Some(home.into());
    }
    if cfg!(windows) {
        if let Some(home) = env.var("USERPROFILE") {
            return Some(home.into());
        }
        if let (Some(drive), Some(path)) = (env.var("HOMEDRIVE"), env.var("HOMEPATH")) {
            return Some(format!("{drive}{path}").into());
        }
    }
    None
}

impl Identity {
    pub fn new(rule: Option<&RegistryRule>, env: &dyn Env) -> Identity {
        let rule = rule.cloned().unwrap_or_default();
        let mut vars = env.aws_vars();
        if let Some(profile) = &rule.profile {
            for v in OTHER_SOURCES {
                vars.remove(*v);
            }
            vars.insert("AWS_PROFILE".into(), profile.clone());
            vars.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
        }
        let aws = AwsEnv(vars);
        let mut key = format!("v2;{}", source::vars_text(&aws));
        let source_label = if let Some(profile) = &rule.profile {
            key.push_str(&source::files_text(&aws, home_dir(env).as_deref()));
            format!("profile:{profile}")
        } else if let Some(key_id) = source::env_key_id(&aws) {
            format!("env:{}", fingerprint::fingerprint(key_id.as_bytes()))
        } else {
            key.push_str(&source::files_text(&aws, home_dir(env).as_deref()));
            if let Some(profile) = aws.get("AWS_PROFILE") {
                format!("profile:{profile}")
            } else {
                source::ambient_label(&aws).unwrap_or_else(|| "profile:default".into())
            }
        };
        let mut qualifiers = Qualifiers::default();
        if let Some(role) = &rule.role_arn {
            qualifiers.role = Some(role.clone());
            key.push_str(&format!("role={role};"));
            if let Some(id) = &rule.external_id {
                let id = fingerprint::fingerprint(id.as_bytes());
                key.push_str(&format!("external-id=#{id};"));
                qualifiers.external_id = Some(id);
            }
        }
        if let Some(region) = &rule.region {
            qualifiers.region = Some(region.clone());
            key.push_str(&format!("region={region};"));
        }
        qualifiers.endpoint = endpoint(&aws);
        let label = format!("{source_label}{qualifiers}");
        Identity {
            profile: aws.get("AWS_PROFILE").map(str::to_string),
            profile_from_config: rule.profile.is_some(),
            role_arn: rule.role_arn,
            external_id: rule.external_id,
            region: rule.region,
            web_identity_token: None,
            env: aws,
            label,
            qualifiers,
            key,
            accepts_stored: true,
        }
    }

    /// The identity of a Kubernetes service account that assumes `role_arn` with its
    /// projected token. Keyed by role, account (`subject`) and the account's UID, so one
    /// pod's token is never served to a pod whose service account could not assume the
    /// role itself, nor to a re-created account of the same name. Without a UID claim the
    /// token itself (hashed) stands in: one fetch per token.
    pub(crate) fn web_identity(
        role_arn: &str,
        token: Secret,
        subject: &str,
        uid: Option<&str>,
        region: Option<String>,
        env: &dyn Env,
    ) -> Identity {
        let aws = AwsEnv(env.aws_vars());
        let uid = uid.map_or_else(
            || format!("#{}", fingerprint::fingerprint(token.expose().as_bytes())),
            str::to_string,
        );
        let key = format!(
            "v2;service-account;role={role_arn};sub={subject};uid={uid};{}",
            source::vars_text(&aws)
        );
        let qualifiers = Qualifiers {
            endpoint: endpoint(&aws),
            ..Qualifiers::default()
        };
        let label = format!("web-identity:{role_arn} sa:{subject}{qualifiers}");
        Identity {
            profile: None,
            profile_from_config: false,
            role_arn: Some(role_arn.to_string()),
            external_id: None,
            region,
            web_identity_token: Some(token),
            env: aws,
            label,
            qualifiers,
            key,
            accepts_stored: false,
        }
    }
}

/// The endpoint override in effect, for labels (user information redacted).
fn endpoint(aws: &AwsEnv) -> Option<String> {
    ENDPOINT_VARS
        .iter()
        .find_map(|v| aws.get(v))
        .map(crate::redact::userinfo)
}

/// First 16 hex digits of SHA-256: enough to tell keys apart, useless to recover one.
pub(crate) fn short_hash(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes())[..8])
}

/// Lower-case hex, two digits a byte. By table: every hit hexes a few digests, and a
/// `format!` per byte was a fifth of a hit's instructions (benches/README.md).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests;
