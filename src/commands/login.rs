//! `login`: start an MFA session for a profile whose role needs a code (`role_arn`,
//! `source_profile`, `mfa_serial`), then fetch the tokens that will be asked for.
//!
//! The code is read from the terminal (`/dev/tty`; the console on Windows), never from
//! stdin and never echoed to stdout, so it works under `docker login`-style redirections
//! and cannot leak into a pipe. AssumeRole goes out with `SerialNumber` and `TokenCode`;
//! the session is kept 0600 in the cache directory in the AWS CLI's own layout
//! ([`crate::aws::mfa`]), and from then on `get`, the kubelet, Bazel and the daemon sign
//! with it until it expires.

use crate::aws::{mfa, sdk, transport};
use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use ecr_login_core::cache::{self, Cache};
use ecr_login_core::config::Config;
use ecr_login_core::duration;
use ecr_login_core::env::{Env as _, MapEnv, ProcessEnv};
use ecr_login_core::error::Error;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::resolve::{Context, Route};
use ecr_login_core::secret::Secret;
use std::fmt::Write as _;
use std::time::Duration;

/// Why an MFA session could not be started. Each renders the user's one line, and prints its
/// cause's words, so none returns it from `source()`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    /// The session is kept in the cache, which is turned off.
    #[error("login keeps its session in the cache, and AWS_ECR_DISABLE_CACHE is set")]
    NoCache,
    #[error("{0}")]
    Runtime(std::io::Error),
    /// The code could not be read from the terminal.
    #[error("{0}")]
    Code(super::tty::TtyError),
    /// The profile's HTTPS set-up (its CA bundle) failed.
    #[error("cannot start the MFA session for profile {profile}: {error}")]
    Setup { profile: String, error: FetchError },
    #[error("no credentials in source profile {source_profile} of profile {profile}")]
    NoSourceCredentials {
        source_profile: String,
        profile: String,
    },
    #[error(
        "the credentials of profile {source_profile} took longer than {}",
        human(after)
    )]
    SourceTimedOut {
        source_profile: String,
        after: Duration,
    },
    #[error("cannot load the credentials of source profile {source_profile}: {detail}")]
    SourceCredentials {
        source_profile: String,
        detail: String,
    },
    #[error("STS did not answer within {}", human(.0))]
    StsTimedOut(Duration),
    /// STS refused the code.
    #[error(
        "the MFA code was not accepted for {serial} ({detail}); run login again with a fresh code"
    )]
    CodeRejected { serial: String, detail: String },
    #[error("cannot assume role {role} with MFA: {detail}")]
    AssumeRole { role: String, detail: String },
    #[error("STS answered without credentials")]
    NoCredentials,
    #[error("STS answered an unusable expiration: {0}")]
    BadExpiration(String),
    /// The session could not be kept.
    #[error("{0}")]
    Save(std::io::Error),
}

/// A length of time for the user's line ("4 min").
fn human(d: &Duration) -> String {
    duration::human(d.as_millis() as i64)
}

impl From<LoginError> for Error {
    fn from(e: LoginError) -> Error {
        Error::Command(Box::new(e))
    }
}

/// `login [--profile P] [REGISTRY…]`. Returns the report for stdout.
pub(crate) fn login(
    profile: Option<&str>,
    registries: &[String],
    now: i64,
) -> Result<String, Error> {
    let name = profile
        .map(str::to_string)
        .or_else(|| ProcessEnv.var("AWS_PROFILE"))
        .unwrap_or_else(|| "default".into());
    // The process's AWS variables with this profile selected, and nothing that would sign
    // ahead of it.
    let mut vars = ProcessEnv.aws_vars();
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        vars.remove(k);
    }
    vars.insert("AWS_PROFILE".into(), name.clone());
    // Where `~` in the profile files' paths points: the identity reads those files.
    for home in ["HOME", "USERPROFILE", "HOMEDRIVE", "HOMEPATH"] {
        if let Some(v) = ProcessEnv.var(home) {
            vars.insert(home.into(), v);
        }
    }
    let env = MapEnv(vars);
    let config = Config::load()?;
    let cache_dir = cache::default_dir()?.ok_or(LoginError::NoCache)?;
    let cache = Cache::open(&cache_dir)?;
    let rt = crate::aws::runtime().map_err(LoginError::Runtime)?;
    let session = rt.block_on(start_session(&name, &env, &cache_dir, config.timeout))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "MFA session for profile {name} ({}) until {} ({} from now), kept in {}",
        session.0.role_arn,
        ecr_login_core::clock::rfc3339(session.1),
        duration::human(session.1.saturating_sub(now)),
        mfa::sessions_dir(&cache_dir).display()
    );
    drop(rt);
    let hosts = hosts_to_fetch(registries, &config, &name);
    let ctx = Context::new(&config, Some(&cache), &env);
    let mut failed = Vec::new();
    for host in &hosts {
        let Some(target) = Route::of(host, &config).map(|r| r.target(&env, cache.key())) else {
            failed.push(format!("{host} is not an ECR registry"));
            continue;
        };
        if let Err(e) = super::refresh::renew_now(&target, &ctx, now, "fetched", &mut out) {
            failed.push(e.to_string());
        }
    }
    if hosts.is_empty() {
        let _ = writeln!(
            out,
            "no registry named or configured for profile {name}: the next get fetches with this session"
        );
    }
    super::refresh::report(out, &failed)
}

/// The registries to fetch after logging in: those named, else those our config maps to
/// this profile or keeps warm.
fn hosts_to_fetch(named: &[String], config: &Config, profile: &str) -> Vec<String> {
    if !named.is_empty() {
        return named.to_vec();
    }
    let mut hosts: Vec<String> = config
        .registries
        .iter()
        .filter(|(pattern, rule)| {
            !pattern.contains('*') && rule.profile.as_deref() == Some(profile)
        })
        .map(|(pattern, _)| pattern.clone())
        .collect();
    for h in &config.daemon.keep_warm {
        if !hosts.contains(h) {
            hosts.push(h.clone());
        }
    }
    hosts
}

/// Prompts for the code, assumes the role with it, keeps the session. Returns the role and
/// when the session ends.
async fn start_session(
    name: &str,
    env: &MapEnv,
    cache_dir: &std::path::Path,
    timeout: Duration,
) -> Result<(mfa::MfaRole, i64), Error> {
    let sdk_env = aws_types::os_shim_internal::Env::from(
        std::env::vars()
            .filter(|(k, _)| !ecr_login_core::env::is_aws_var(k))
            .chain(env.0.clone())
            .collect::<std::collections::HashMap<_, _>>(),
    );
    let profile = sdk::profile(&sdk_env).await.ok_or_else(|| {
        Error::Input(format!(
            "no profile {name} in the AWS config files; check the name (aws configure list-profiles)"
        ))
    })?;
    let role = mfa::MfaRole::of(&profile.0, &profile.1).ok_or_else(|| {
        Error::Input(format!(
            "profile {name} has no role_arn with mfa_serial: it needs no MFA session (get signs with it as it is)"
        ))
    })?;
    let source = role.source_profile.clone().ok_or_else(|| {
        Error::Input(format!(
            "profile {name} has mfa_serial but no source_profile: name the profile whose credentials assume the role"
        ))
    })?;
    let code = super::tty::read_code(&format!("MFA code for {} (profile {name}): ", role.serial))
        .map_err(LoginError::Code)?;
    let region = role.region.clone().unwrap_or_else(|| "us-east-1".into());
    let fail = |error: FetchError| LoginError::Setup {
        profile: name.to_string(),
        error,
    };
    // The source profile's own credentials (the SDK's chain for it, nothing else).
    let mut source_vars: std::collections::HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| !ecr_login_core::env::is_aws_var(k))
        .chain(env.0.clone())
        .collect();
    source_vars.insert("AWS_PROFILE".into(), source.clone());
    let source_env = aws_types::os_shim_internal::Env::from(source_vars);
    let ca = sdk_ca_bundle(&sdk_env).await.map_err(fail)?;
    let http = transport::client(ca.as_ref());
    let base = aws_config::defaults(BehaviorVersion::latest())
        .env(source_env)
        .http_client(http.clone())
        .region(aws_config::Region::new(region.clone()))
        .load()
        .await;
    let provider = base
        .credentials_provider()
        .ok_or_else(|| LoginError::NoSourceCredentials {
            source_profile: source.clone(),
            profile: name.to_string(),
        })?;
    let creds = tokio::time::timeout(timeout, provider.provide_credentials())
        .await
        .map_err(|_| LoginError::SourceTimedOut {
            source_profile: source.clone(),
            after: timeout,
        })?
        .map_err(|e| LoginError::SourceCredentials {
            source_profile: source.clone(),
            detail: crate::aws::classify::chain(&e),
        })?;
    let sts_conf = aws_sdk_sts::config::Builder::from(&base)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build();
    let session_name = role
        .session_name
        .clone()
        .unwrap_or_else(|| format!("ecr-login-{}", ecr_login_core::clock::now_ms() / 1000));
    let call = aws_sdk_sts::Client::from_conf(sts_conf)
        .assume_role()
        .role_arn(&role.role_arn)
        .role_session_name(session_name)
        .serial_number(&role.serial)
        .token_code(code.expose())
        .set_duration_seconds(role.duration_seconds.map(|d| d as i32))
        .set_external_id(role.external_id.clone())
        .send();
    let out = tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| LoginError::StsTimedOut(timeout))?
        .map_err(|e| {
            let e = crate::aws::classify::api_error(e);
            let detail = format!("{}: {}", e.code.as_deref().unwrap_or("error"), e.message);
            // STS says so only in its message: the code is AccessDenied either way.
            if detail.contains("MultiFactorAuthentication") {
                LoginError::CodeRejected {
                    serial: role.serial.clone(),
                    detail,
                }
            } else {
                LoginError::AssumeRole {
                    role: role.role_arn.clone(),
                    detail,
                }
            }
        })?;
    let c = out.credentials().ok_or(LoginError::NoCredentials)?;
    let expires = std::time::SystemTime::try_from(*c.expiration())
        .map(ecr_login_core::clock::epoch_ms)
        .map_err(|e| LoginError::BadExpiration(e.to_string()))?;
    mfa::save(
        cache_dir,
        &role,
        c.access_key_id(),
        &Secret::new(c.secret_access_key()),
        &Secret::new(c.session_token()),
        expires,
        out.assumed_role_user().map(|u| u.arn()),
    )
    .map_err(LoginError::Save)?;
    Ok((role, expires))
}

/// The CA bundle for `env`'s profile, as the token path reads it.
async fn sdk_ca_bundle(
    env: &aws_types::os_shim_internal::Env,
) -> Result<Option<transport::Bundle>, FetchError> {
    let profile = sdk::profile(env).await;
    let named = profile
        .as_ref()
        .and_then(|(n, p)| p.get("ca_bundle").map(|b| (n.as_str(), b)));
    transport::bundle(env.get("AWS_CA_BUNDLE").ok().as_deref(), named)
}
