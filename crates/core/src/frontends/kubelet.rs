//! `kubelet`: the kubelet image credential provider protocol
//! (`credentialprovider.kubelet.k8s.io/v1`, also v1beta1 and v1alpha1), served from the
//! same host parser, config, cache and single-flight fetch as `get`.
//!
//! The kubelet decodes our answer strictly (unknown fields are an error, the apiVersion
//! must be the one it sent), so the response is a fixed struct with exactly its fields.

use crate::env::Env;
use crate::frontends::error::Error;
use crate::secret::Secret;
use crate::token::config::{Config, KubeletSettings};
use crate::token::fetch::Fetcher;
use crate::token::identity::Identity;
use crate::token::identity::Key;
use crate::token::policy;
use crate::token::resolve::{self, Context, Route, Target};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const API_VERSIONS: [&str; 3] = [
    "credentialprovider.kubelet.k8s.io/v1",
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1alpha1",
];

/// The EKS annotation that names the role a service account pulls with (our default).
#[cfg(test)]
pub(crate) const ROLE_ANNOTATION: &str = crate::token::config::ECR_ROLE_ANNOTATION;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request {
    pub api_version: String,
    pub kind: String,
    pub image: String,
    #[serde(default)]
    pub service_account_token: Option<Secret>,
    #[serde(default)]
    pub service_account_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct AuthConfig {
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response {
    pub api_version: String,
    pub kind: &'static str,
    pub cache_key_type: &'static str,
    pub cache_duration: String,
    pub auth: BTreeMap<String, AuthConfig>,
}

/// The registry part of an image reference: `host[:port]` before the first `/`.
/// Docker Hub short names (`nginx`, `library/nginx`) have no registry host.
pub(crate) fn image_registry(image: &str) -> Result<&str, Error> {
    let image = image.trim();
    let (first, rest) = image.split_once('/').ok_or_else(|| not_ecr(image))?;
    let looks_like_host = first.contains('.') || first.contains(':') || first == "localhost";
    if !looks_like_host || rest.is_empty() {
        return Err(not_ecr(image));
    }
    Ok(first)
}

fn not_ecr(image: &str) -> Error {
    Error::Input(format!(
        "image {image:?} is not in an ECR registry (nor an alias in the ecr-login config); the kubelet will pull it without credentials"
    ))
}

/// Parses and validates one request into the target it asks for (no I/O).
pub(crate) fn parse(
    input: &str,
    config: &Config,
    env: &dyn Env,
    key: &Key,
) -> Result<(Request, Target), Error> {
    let req: Request = serde_json::from_str(input.trim()).map_err(|e| {
        Error::Input(format!(
            "expected a CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1) on standard input: {}",
            crate::redact::serde_message(&e)
        ))
    })?;
    if !API_VERSIONS.contains(&req.api_version.as_str()) {
        return Err(Error::Input(format!(
            "unsupported apiVersion {:?}; expected one of {}",
            req.api_version,
            API_VERSIONS.join(", ")
        )));
    }
    if req.kind != "CredentialProviderRequest" {
        return Err(Error::Input(format!(
            "unexpected kind {:?}; expected CredentialProviderRequest",
            req.kind
        )));
    }
    let host = image_registry(&req.image)?;
    let Some(route) = Route::of(host, config) else {
        return Err(not_ecr(&req.image));
    };
    let Some(token) = req.service_account_token.clone() else {
        return Ok((req, route.target(env, key)));
    };
    let claims = token_claims(&token).ok_or_else(|| {
        Error::Input("the service account token is not a JWT with a `sub` claim".into())
    })?;
    let rule = route.rule.clone().unwrap_or_default();
    let settings = &config.kubelet;
    let Some((role, source)) = role_for(&req, &rule, settings, env) else {
        if settings.require_role {
            return Err(Error::Input(format!(
                "service account {} has no role: none of its annotations {} is set, this registry has no role_arn in the ecr-login config, and AWS_ECR_ROLE_ARN is not set; refusing ([kubelet] require_role = true)",
                claims.account(),
                settings.role_annotations.join(", ")
            )));
        }
        // As AWS's provider does (cloud-provider-aws #1281): the node's own credentials.
        tracing::debug!(
            "service account {} names no role: the node's credentials answer",
            claims.account()
        );
        return Ok((req, route.target(env, key)));
    };
    if !crate::token::config::is_role_arn(&role) {
        // Never repeated: it came from the cluster, and a newline in it would forge a line
        // in the kubelet's log.
        return Err(Error::Input(format!(
            "the role from {source} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        )));
    }
    let mut identity = Identity::web_identity(
        &role,
        token,
        &claims.subject,
        claims.uid.as_deref(),
        rule.region,
        env,
        key,
    );
    identity.role_session_name = Some(session_name(&claims));
    Ok((req, route.target_as(identity)))
}

/// The role a service account's token is exchanged for, and where it came from: the first
/// of our role annotations the account carries, else the registry's `role_arn`, else
/// `AWS_ECR_ROLE_ARN` in the provider's environment (the kubelet's `env`).
fn role_for(
    req: &Request,
    rule: &crate::token::config::RegistryRule,
    settings: &KubeletSettings,
    env: &dyn Env,
) -> Option<(String, String)> {
    let present = |v: &&String| !v.trim().is_empty();
    settings
        .role_annotations
        .iter()
        .find_map(|key| {
            let value = req.service_account_annotations.get(key).filter(present)?;
            Some((
                value.clone(),
                format!("the service account's {key} annotation"),
            ))
        })
        .or_else(|| {
            let role = rule.role_arn.clone()?;
            Some((role, "role_arn in the ecr-login config".to_string()))
        })
        .or_else(|| Some((env.var(ROLE_ENV)?, ROLE_ENV.to_string())))
}

/// The variable AWS's provider reads a default role from (set in the provider's `env`).
pub(crate) const ROLE_ENV: &str = "AWS_ECR_ROLE_ARN";

/// STS allows 2-64 characters of `[\w+=,.@-]` in a session name (botocore's
/// `roleSessionNameType`).
const SESSION_MAX: usize = 64;

/// The STS session name for a service account: `<namespace>@<name>`, so CloudTrail tells
/// workloads apart. A longer one keeps a share of each part and ends with a hash of the
/// whole, so two long names never share a session name. The claims are not verified (STS
/// does that), so anything outside STS's characters becomes `-`.
pub(crate) fn session_name(claims: &Claims) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let (namespace, name) = claims.namespace_and_name();
    let (namespace, name) = (clean(&namespace), clean(&name));
    let whole = format!("{namespace}@{name}");
    if whole.len() <= SESSION_MAX {
        return whole;
    }
    let hash = crate::token::identity::short_hash(&format!("{namespace}/{name}"));
    // `<ns>@<name>-<8 hex>`: 54 characters for the two parts, each keeps at least half.
    let room = SESSION_MAX - 1 - 1 - 8;
    let ns_len = namespace
        .len()
        .min(room.saturating_sub(name.len()).max(room / 2));
    let name_len = name.len().min(room - ns_len);
    format!(
        "{}@{}-{}",
        &namespace[..ns_len],
        &name[..name_len],
        &hash[..8]
    )
}

/// Parses one request, serves it, and returns the response JSON line.
pub fn handle(
    input: &str,
    ctx: &Context,
    fetcher: &dyn Fetcher,
    now: i64,
) -> Result<Vec<u8>, Error> {
    let (req, target) = parse(input, ctx.config, ctx.env, ctx.key()?)?;
    let entry = resolve::serve(&target, ctx, fetcher, now).map_err(super::token_error)?;
    let until = policy::serve_until(&entry, ctx.config.cache.min_remaining);
    let response = Response {
        api_version: req.api_version,
        kind: "CredentialProviderResponse",
        cache_key_type: "Registry",
        cache_duration: crate::duration::go(until.saturating_sub(now)),
        auth: BTreeMap::from([(
            target.authority.to_string(),
            AuthConfig {
                username: entry.username,
                password: entry.secret,
            },
        )]),
    };
    Ok(crate::frontends::output::json_line(&response))
}

/// What a service account token says about its account (not verified: the kubelet minted
/// it; STS verifies it).
pub(crate) struct Claims {
    subject: String,
    /// `kubernetes.io.serviceaccount.uid`: differs when an account is re-created.
    uid: Option<String>,
    /// `kubernetes.io.namespace` and `kubernetes.io.serviceaccount.name`.
    namespace: Option<String>,
    name: Option<String>,
}

impl Claims {
    /// Namespace and name: from the `kubernetes.io` claims, else from the subject
    /// (`system:serviceaccount:<namespace>:<name>`), else `unknown`.
    fn namespace_and_name(&self) -> (String, String) {
        let from_subject = self
            .subject
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'));
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        let namespace = given(&self.namespace)
            .or_else(|| from_subject.map(|(ns, _)| ns.to_string()))
            .filter(|v| !v.is_empty());
        let name = given(&self.name)
            .or_else(|| from_subject.map(|(_, n)| n.to_string()))
            .filter(|v| !v.is_empty());
        (
            namespace.unwrap_or_else(|| "unknown".into()),
            name.unwrap_or_else(|| "unknown".into()),
        )
    }

    /// `namespace/name`, safe to print: only the characters Kubernetes names may hold.
    fn account(&self) -> String {
        let (namespace, name) = self.namespace_and_name();
        let safe = |s: String| -> String {
            s.chars()
                .take(253)
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                        c
                    } else {
                        '?'
                    }
                })
                .collect()
        };
        format!("{}/{}", safe(namespace), safe(name))
    }
}

fn token_claims(token: &Secret) -> Option<Claims> {
    use base64::Engine;
    let payload = token.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let text = |path: &str| {
        claims
            .pointer(path)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Some(Claims {
        subject: claims.get("sub")?.as_str()?.to_string(),
        uid: text("/kubernetes.io/serviceaccount/uid"),
        namespace: text("/kubernetes.io/namespace"),
        name: text("/kubernetes.io/serviceaccount/name"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_of_every_shape() {
        for (image, host) in [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app/api@sha256:abcd",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com:443/app",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com:443",
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            ),
            ("public.ecr.aws/nginx/nginx:latest", "public.ecr.aws"),
            (
                "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1",
                "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            ),
            (
                "123456789012.dkr-ecr.us-west-2.on.aws/app:1",
                "123456789012.dkr-ecr.us-west-2.on.aws",
            ),
            ("localhost:5000/app", "localhost:5000"),
        ] {
            assert_eq!(image_registry(image).unwrap(), host, "{image}");
        }
        for image in [
            "nginx",
            "library/nginx:1",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "host.example/",
        ] {
            assert!(image_registry(image).is_err(), "{image}");
        }
    }

    #[test]
    fn response_has_exactly_the_kubelet_fields() {
        let r = Response {
            api_version: API_VERSIONS[0].into(),
            kind: "CredentialProviderResponse",
            cache_key_type: "Registry",
            cache_duration: "5h59m12s".into(),
            auth: BTreeMap::from([(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com".to_string(),
                AuthConfig {
                    username: "AWS".into(),
                    password: Secret::new("pw"),
                },
            )]),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"5h59m12s","auth":{"123456789012.dkr.ecr.us-east-1.amazonaws.com":{"username":"AWS","password":"pw"}}}"#
        );
    }

    #[test]
    fn malformed_requests_are_clear_errors() {
        let c = Config::default();
        let env = crate::env::MapEnv::default();
        for (input, needle) in [
            ("", "CredentialProviderRequest"),
            ("{}", "CredentialProviderRequest"),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"x/y"}"#,
                "unsupported apiVersion",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Other","image":"x/y"}"#,
                "unexpected kind",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx"}"#,
                "not in an ECR registry",
            ),
            (
                r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"docker.io/library/nginx"}"#,
                "not in an ECR registry",
            ),
        ] {
            let e = parse(input, &c, &env, &Key::fixed())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{input}: {e}");
        }
    }

    /// Issue 22: a newline in the role annotation forged a line in the kubelet's log.
    #[test]
    fn a_role_annotation_must_be_a_role_arn_and_is_never_echoed() {
        let c = Config::default();
        let env = crate::env::MapEnv::default();
        let request = |role: &str| {
            serde_json::json!({
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                "kind": "CredentialProviderRequest",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
                "serviceAccountToken": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig",
                "serviceAccountAnnotations": {ROLE_ANNOTATION: role},
            })
            .to_string()
        };
        for role in [
            "arn:aws:iam::123456789012:role/x\nE1203 forged kubelet line",
            "arn:aws:iam::12345:role/short-account",
            "arn:aws:s3:::bucket",
            "not-an-arn",
        ] {
            let e = parse(&request(role), &c, &env, &Key::fixed())
                .unwrap_err()
                .to_string();
            assert!(e.contains("not an IAM role ARN"), "{role}: {e}");
            assert!(!e.contains("forged") && !e.contains('\n'), "{e}");
        }
        let (_, target) = parse(
            &request("arn:aws-us-gov:iam::123456789012:role/team/puller"),
            &c,
            &env,
            &Key::fixed(),
        )
        .unwrap();
        assert!(
            target
                .identity
                .key
                .contains("role=arn:aws-us-gov:iam::123456789012:role/team/puller")
        );
    }

    #[test]
    fn jwt_claims() {
        use base64::Engine;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            r#"{"sub":"system:serviceaccount:default:puller","kubernetes.io":{"serviceaccount":{"name":"puller","uid":"5b1c"}}}"#,
        );
        let token = Secret::new(format!("eyJhbGciOiJSUzI1NiJ9.{claims}.sig"));
        let got = token_claims(&token).unwrap();
        assert_eq!(got.subject, "system:serviceaccount:default:puller");
        assert_eq!(got.uid.as_deref(), Some("5b1c"));
        assert!(token_claims(&Secret::new("not-a-jwt")).is_none());
    }

    fn claims(namespace: &str, name: &str) -> Claims {
        Claims {
            subject: format!("system:serviceaccount:{namespace}:{name}"),
            uid: None,
            namespace: Some(namespace.into()),
            name: Some(name.into()),
        }
    }

    /// Issue 29: the session name carries namespace and account within STS's rules (2-64
    /// characters of `[\w+=,.@-]`), and two long names never share one.
    #[test]
    fn session_names_name_the_workload_within_sts_rules() {
        let long63 = "a".repeat(62) + "b";
        let long253 = "n".repeat(253);
        let a = |n: usize| "a".repeat(n);
        for (namespace, name, want_prefix) in [
            ("apps", "puller", "apps@puller".to_string()),
            ("a", "b", "a@b".to_string()),
            (&long63, "puller", format!("{}@puller-", a(48))),
            ("kube-system", &long63, format!("kube-system@{}-", a(43))),
            (&long63, &long63, format!("{}@{}-", a(27), a(27))),
            (&long63, &long253, format!("{}@{}-", a(27), "n".repeat(27))),
            ("ns", "bad name\nforged", "ns@bad-name-forged".to_string()),
        ] {
            let got = session_name(&claims(namespace, name));
            assert!(got.starts_with(&want_prefix), "{namespace}/{name}: {got}");
            assert!((2..=64).contains(&got.len()), "{got}");
            assert!(
                got.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
                "{got}"
            );
        }
        assert_ne!(
            session_name(&claims(&long63, &format!("{long63}x"))),
            session_name(&claims(&long63, &format!("{long63}y"))),
            "the hash keeps truncated names apart"
        );
        let from_subject = Claims {
            subject: "system:serviceaccount:team:builder".into(),
            uid: None,
            namespace: None,
            name: None,
        };
        assert_eq!(session_name(&from_subject), "team@builder");
        let empty = Claims {
            subject: "x".into(),
            uid: None,
            namespace: Some(String::new()),
            name: Some(String::new()),
        };
        assert_eq!(
            session_name(&empty),
            "unknown@unknown",
            "never under 2 characters"
        );
    }
}
