//! What fetches a token, and how fetching fails.
//!
//! The token path asks a [`Fetcher`]; the AWS one lives in the `ecr-login` crate (the front
//! binary has none: a miss goes to the full binary), tests pass their own. Failures are a
//! [`FetchError`] whose variants are what callers act on: the daemon backs off harder on
//! throttling, ECR Public falls back to anonymous pulls, waiters on a lock replay the
//! holder's failure. Each variant renders as the one line a user reads, here and nowhere
//! else. No variant ever carries a secret: they are logged and recorded beside the lock.

use crate::secret::Secret;
use crate::token::host::Registry;
use crate::token::identity::Identity;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A token as ECR issued it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub username: String,
    pub secret: Secret,
    pub token_expires_at_ms: i64,
    /// When the credentials that signed the request expire, if they do.
    pub credentials_expire_at_ms: Option<i64>,
    pub proxy_endpoint: Option<String>,
    /// Who signed, as the fetcher found out (else the identity's label stands).
    pub signer: Option<String>,
    /// Files that must still exist for the token to be served (an SSO token cache).
    pub requires: Vec<std::path::PathBuf>,
}

/// How far past its request's budget a fetch may run before it is abandoned (the SDK's
/// own timeouts fire inside the budget; this bounds whatever they miss).
pub const BUDGET_GRACE: Duration = Duration::from_millis(500);

/// One token request: everything the fetcher decides by, so that no fetcher reads the wall
/// clock or finds the cache on its own (the daemon's tests run it under paused time).
#[derive(Debug, Clone, Copy)]
pub struct FetchRequest<'a> {
    pub registry: &'a Registry,
    pub identity: &'a Identity,
    /// Bound on the whole request, credential resolution and retries included.
    pub timeout: Duration,
    /// The request's time (epoch ms): what a session's expiry is judged against.
    pub now: i64,
    /// The cache's directory, where ecr-login keeps MFA sessions (`None`: no cache).
    pub cache_dir: Option<&'a std::path::Path>,
}

/// Gets a token from ECR (or a test double). Blocking: the daemon calls it from a
/// blocking thread.
pub trait Fetcher: Send + Sync {
    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, FetchError>;

    /// Whether the fetch happens in another process, which answers the client itself: the
    /// front binary hands a miss to the full one. The token path then takes no lock (that
    /// process takes it), records no failure, and warns about nothing (that process does);
    /// `fetch` returns only when the hand-off failed.
    fn hands_off(&self) -> bool {
        false
    }

    /// The longest one `fetch` may take, for a request whose own budget is `timeout`:
    /// whoever waits on the entry's lock for it waits that long (plus a grace). The
    /// kubelet's fetcher, patient with throttling, takes longer than one request.
    fn budget(&self, timeout: Duration) -> Duration {
        timeout
    }
}

const CREDENTIALS_HINT: &str = "provide credentials with `aws configure`, `aws sso login`, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or map this registry to a profile in the ecr-login config";

/// Why a token request failed. `identity` fields hold the identity's label (never a key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FetchError {
    /// No credentials anywhere the SDK looked.
    NoCredentials {
        identity: String,
        /// Where we looked, when it is known.
        looked: Option<String>,
    },
    /// Resolving credentials took longer than the budget.
    CredentialsTimedOut { identity: String, after_ms: u64 },
    /// The SSO session behind a profile expired, or was never started.
    SsoExpired { profile: String },
    /// AWS refused the credentials themselves (expired, revoked, unknown).
    CredentialsRejected {
        identity: String,
        code: String,
        detail: String,
        profile: Option<String>,
    },
    /// The AWS configuration cannot be used (a missing profile, a bad file).
    InvalidConfig { identity: String, detail: String },
    /// Assuming a role failed.
    AssumeRole {
        role: String,
        identity: String,
        detail: String,
        /// With a Kubernetes service account token (kubelet mode).
        web_identity: bool,
    },
    /// Credentials could not be loaded for another reason.
    Credentials { identity: String, detail: String },
    /// The identity may not call GetAuthorizationToken.
    AccessDenied { identity: String, detail: String },
    /// ECR throttled us and the SDK's retries ran out.
    Throttled { detail: String },
    /// No answer within the budget.
    TimedOut { after_ms: u64 },
    /// The endpoint could not be reached (refused, reset).
    Unreachable { detail: String },
    /// The server's certificate was refused (an unknown issuer, TLS inspection, expired,
    /// another name). Not retried: it will not change.
    Tls { host: String, reason: String },
    /// The proxy wants credentials (407). `proxy` has no user information.
    ProxyAuth { proxy: String },
    /// A host name did not resolve.
    Dns { host: String },
    /// The CA bundle named by `AWS_CA_BUNDLE` or a profile's `ca_bundle` cannot be used.
    CaBundle {
        path: String,
        origin: String,
        problem: String,
    },
    /// The `aws login` (console) session behind a profile is gone (`aws logout`) or ended.
    LoginExpired { profile: String },
    /// The profile's role needs an MFA code and there is no session for it: the helper
    /// never prompts (there is no terminal under Docker).
    MfaRequired { profile: String, role: String },
    /// ECR answered 5xx.
    ServerError { detail: String },
    /// ECR refused the request for another reason.
    Refused { code: String, detail: String },
    /// ECR's answer could not be used.
    MalformedToken { detail: String },
    /// What ECR just handed out had already expired by this machine's clock (the token, or
    /// the credentials that signed for it): it cannot be cached or renewed. The clock is
    /// wrong, or the credential source hands out stale credentials.
    ExpiredOnArrival { what: Expired, ago_ms: i64 },
    /// Another process was fetching the same token and did not finish within the budget.
    LockTimeout { detail: String },
    /// The front binary could not hand the request to the full binary beside it.
    HandOff { program: String, detail: String },
    /// Anything else (the runtime would not start, an unexpected SDK error).
    Other { detail: String },
}

impl FetchError {
    /// A stable short name, for logs and the failure record: the variant's serde tag
    /// (`kind` in the failure record's JSON), so that the two cannot differ.
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| Some(v.get("kind")?.as_str()?.to_owned()))
            .unwrap_or_default()
    }

    pub fn is_throttling(&self) -> bool {
        matches!(self, FetchError::Throttled { .. })
    }
}

/// What had already expired when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expired {
    /// ECR's token: its `expiresAt` is in this machine's past.
    Token,
    /// The credentials that signed the request (a `credential_process` or cache gave
    /// credentials whose `Expiration` is past).
    Credentials,
}

/// A rough length of time for people: "13 h 2 min", "4 min", "12 s".
fn roughly(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, s / 60 % 60),
    }
}

fn secs(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

fn profile_flag(profile: &Option<String>) -> String {
    profile
        .as_deref()
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default()
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NoCredentials { identity, looked } => {
                write!(f, "no AWS credentials for {identity}")?;
                if let Some(looked) = looked {
                    write!(f, " (looked in {looked})")?;
                }
                write!(f, "; {CREDENTIALS_HINT}")
            }
            FetchError::CredentialsTimedOut { identity, after_ms } => write!(
                f,
                "no AWS credentials found within {} for {identity} (looked in the environment, ~/.aws, SSO and the instance metadata service); {CREDENTIALS_HINT}",
                secs(*after_ms)
            ),
            FetchError::SsoExpired { profile } => write!(
                f,
                "the SSO session for profile \"{profile}\" has expired or was never started; run: aws sso login{}",
                if profile == "default" {
                    String::new()
                } else {
                    format!(" --profile {profile}")
                }
            ),
            FetchError::CredentialsRejected {
                identity,
                code,
                detail,
                profile,
            } => write!(
                f,
                "AWS rejected the credentials of {identity} ({code}: {detail}); refresh them (aws sso login{}, aws configure, or new keys)",
                profile_flag(profile)
            ),
            FetchError::InvalidConfig { identity, detail } => write!(
                f,
                "the AWS configuration for {identity} is invalid: {detail}; fix ~/.aws/config or the profile name"
            ),
            FetchError::AssumeRole {
                role,
                identity,
                detail,
                web_identity: false,
            } => write!(
                f,
                "cannot assume role {role} for {identity}: {detail}; check the role's trust policy and the base credentials"
            ),
            FetchError::AssumeRole {
                role,
                detail,
                web_identity: true,
                ..
            } => write!(
                f,
                "cannot assume role {role} with the service account token ({detail}); check the role's trust policy for this service account"
            ),
            FetchError::Credentials { identity, detail } => {
                write!(
                    f,
                    "cannot load AWS credentials for {identity}: {detail}; run: docker-credential-ecr-login doctor"
                )
            }
            FetchError::AccessDenied { identity, detail } => write!(
                f,
                "access denied for {identity}: {detail}; the identity needs ecr:GetAuthorizationToken (and for ECR Public sts:GetServiceBearerToken)"
            ),
            FetchError::Throttled { detail } => write!(
                f,
                "ECR is throttling token requests and retries ran out ({detail}); try again shortly"
            ),
            FetchError::TimedOut { after_ms } => write!(
                f,
                "ECR did not answer in time ({}); check your network or proxy settings, or raise `timeout` in the ecr-login config; to see which link fails, run: docker-credential-ecr-login doctor",
                secs(*after_ms)
            ),
            FetchError::Unreachable { detail } => write!(
                f,
                "cannot reach the ECR API: {detail}; check your network, proxy and AWS_ENDPOINT_URL_ECR (run: docker-credential-ecr-login doctor)"
            ),
            FetchError::Tls { host, reason } => write!(
                f,
                "TLS to {host} failed: {reason}; if your network inspects TLS (a corporate proxy, Zscaler, Netskope), set AWS_CA_BUNDLE to your organisation's CA bundle"
            ),
            FetchError::ProxyAuth { proxy } => write!(
                f,
                "the proxy {proxy} requires authentication (407 Proxy Authentication Required); put the credentials in the proxy URL: HTTPS_PROXY=http://USER:PASSWORD@host:port (percent-encode special characters)"
            ),
            FetchError::Dns { host } => write!(
                f,
                "cannot resolve {host} (DNS); check your network or VPN, and AWS_ENDPOINT_URL_ECR if you set it"
            ),
            FetchError::CaBundle {
                path,
                origin,
                problem,
            } => write!(
                f,
                "the CA bundle {path} (from {origin}) {problem}; fix the file, or point {origin} at your organisation's PEM bundle"
            ),
            FetchError::LoginExpired { profile } => write!(
                f,
                "the console session (aws login) for profile \"{profile}\" has ended or was logged out; run: aws login{}",
                if profile == "default" {
                    String::new()
                } else {
                    format!(" --profile {profile}")
                }
            ),
            FetchError::MfaRequired { profile, role } => write!(
                f,
                "the role {role} of profile \"{profile}\" needs an MFA code, and there is no MFA session for it (the helper never prompts); run: ecr-login login --profile {profile}"
            ),
            FetchError::ServerError { detail } => {
                write!(f, "ECR had an internal error ({detail}); try again shortly")
            }
            FetchError::Refused { code, detail } => {
                write!(
                    f,
                    "ECR refused the token request ({code}: {detail}); run: docker-credential-ecr-login doctor"
                )
            }
            FetchError::ExpiredOnArrival {
                what: Expired::Token,
                ago_ms,
            } => write!(
                f,
                "ECR's new token expired {} before this machine's clock says it is now, so it cannot be kept; this machine's clock is probably wrong: check it (timedatectl status, or your NTP service)",
                roughly(*ago_ms)
            ),
            FetchError::ExpiredOnArrival {
                what: Expired::Credentials,
                ago_ms,
            } => write!(
                f,
                "the AWS credentials that signed the request had expired {} before this machine's clock says it is now, so the token cannot be kept; check this machine's clock, and the credential source (a credential_process or cache handing out stale credentials)",
                roughly(*ago_ms)
            ),
            FetchError::MalformedToken { detail } => write!(
                f,
                "{detail}; the endpoint does not answer like ECR: check AWS_ENDPOINT_URL_ECR and any proxy in between, or try again shortly"
            ),
            FetchError::LockTimeout { detail } => f.write_str(detail),
            FetchError::HandOff { program, detail } => write!(
                f,
                "cannot run the full binary {program}: {detail}; it is installed beside docker-credential-ecr-login (reinstall ecr-login)"
            ),
            FetchError::Other { detail } => write!(
                f,
                "the ECR token request failed: {detail}; run: docker-credential-ecr-login doctor"
            ),
        }
    }
}

impl std::error::Error for FetchError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_the_serde_tag_of_its_variant() {
        let throttled = FetchError::Throttled { detail: "x".into() };
        assert_eq!(throttled.kind(), "throttled");
        let hand_off = FetchError::HandOff {
            program: "p".into(),
            detail: "d".into(),
        };
        assert_eq!(hand_off.kind(), "hand-off");
        let json = serde_json::to_value(&hand_off).unwrap();
        assert_eq!(json["kind"], hand_off.kind());
        assert_eq!(FetchError::TimedOut { after_ms: 1 }.kind(), "timed-out");
    }

    #[test]
    fn records_round_trip_through_json() {
        let e = FetchError::Throttled {
            detail: "Rate exceeded".into(),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"kind":"throttled","detail":"Rate exceeded"}"#);
        assert_eq!(serde_json::from_str::<FetchError>(&json).unwrap(), e);
        assert!(e.is_throttling());
    }

    #[test]
    fn sso_advice_names_the_profile() {
        let e = FetchError::SsoExpired {
            profile: "dev".into(),
        };
        assert!(e.to_string().ends_with("run: aws sso login --profile dev"));
        let e = FetchError::SsoExpired {
            profile: "default".into(),
        };
        assert!(e.to_string().ends_with("run: aws sso login"));
        assert_eq!(
            FetchError::TimedOut { after_ms: 1500 }.to_string(),
            "ECR did not answer in time (1.5s); check your network or proxy settings, or raise `timeout` in the ecr-login config; to see which link fails, run: docker-credential-ecr-login doctor"
        );
    }
}
