//! The AWS SDK, configured for one registry and identity: region and FIPS/dual-stack from
//! the host, our timeouts and retries, the profile and role from our config, and the two
//! token APIs (ECR and ECR Public).

use super::classify::{self, ApiError};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_types::os_shim_internal::Env;
use base64::Engine;
use ecr_login_core::clock::epoch_ms;
use ecr_login_core::env::is_aws_var;
use ecr_login_core::fetch::{FetchError, FetchRequest};
use ecr_login_core::host::Registry;
use ecr_login_core::identity::Identity;
use ecr_login_core::secret::Secret;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// Credential resolution gives up after this long even with a longer request timeout:
/// a `get` without credentials must not hang (the Go helper takes 10-20 s probing).
const CREDENTIALS_BUDGET: Duration = Duration::from_millis(4500);

/// The environment the SDK resolves credentials and settings from: this process's, with
/// its AWS variables replaced by the identity's (which, for the daemon, are the ones the
/// entry was fetched with).
pub(crate) fn env(identity: &Identity) -> Env {
    let mut vars: HashMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| !is_aws_var(k))
        .collect();
    vars.extend(identity.env.all().clone());
    Env::from(vars)
}

/// The profile in effect (`AWS_PROFILE`, else `default`) as the SDK reads it, if the files
/// define it.
pub(crate) async fn profile(env: &Env) -> Option<(String, aws_config::profile::Profile)> {
    let set = aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        env,
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await
    .ok()?;
    let name = set.selected_profile().to_string();
    set.get_profile(&name).cloned().map(|p| (name, p))
}

/// The AWS config and credentials files the SDK is about to read, checked first: a FIFO,
/// a device or a huge file there would hang the SDK's own read or fill memory, and a file
/// the user cannot read (root wrote it 0600 in the home we act in) would read as "no
/// credentials". Each is an error naming the file instead.
fn profile_files_readable(identity: &Identity, env: &Env) -> Result<(), FetchError> {
    let home = env.get("HOME").ok();
    for (var, default) in [
        ("AWS_CONFIG_FILE", "~/.aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    ] {
        let raw = env.get(var).ok().filter(|v| !v.trim().is_empty());
        let raw = raw.as_deref().unwrap_or(default);
        let path = match raw.strip_prefix("~/") {
            Some(rest) => match &home {
                Some(h) => std::path::Path::new(h).join(rest),
                None => continue,
            },
            None => std::path::PathBuf::from(raw),
        };
        let detail = match ecr_login_core::files::read_limited(
            &path,
            ecr_login_core::files::CONFIG_LIMIT,
        ) {
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                match ecr_login_core::privilege::acting_as() {
                    Some(uid) => format!(
                        "{} is not readable by uid {uid}, the user ecr-login acts as (it started as root with that user's files); make it readable by that user, or run as root with root's own HOME",
                        path.display()
                    ),
                    None => format!("cannot read {}: {e}", path.display()),
                }
            }
            // Its message names the file.
            Err(e) => e.to_string(),
        };
        return Err(FetchError::InvalidConfig {
            identity: identity.label.clone(),
            detail,
        });
    }
    Ok(())
}

/// How many times the SDK tries a call: a quick retry of a blip, with its own short backoff.
pub(crate) const ATTEMPTS: u32 = 4;

/// The SDK configuration for `registry` as `identity`, in `env`, with our HTTPS client
/// ([`transport`](super::transport)): it fails only on a CA bundle that cannot be used.
pub(crate) async fn load(
    registry: &Registry,
    identity: &Identity,
    env: &Env,
    timeout: Duration,
) -> Result<SdkConfig, FetchError> {
    load_with(registry, identity, env, timeout, ATTEMPTS).await
}

/// [`load`], the SDK making at most `attempts` tries per call (the kubelet's fetcher makes
/// one and backs off itself, far longer than the SDK would: [`super::patient`]).
pub(crate) async fn load_with(
    registry: &Registry,
    identity: &Identity,
    env: &Env,
    timeout: Duration,
    attempts: u32,
) -> Result<SdkConfig, FetchError> {
    profile_files_readable(identity, env)?;
    let profile = profile(env).await;
    let ca_bundle = profile
        .as_ref()
        .and_then(|(name, p)| p.get("ca_bundle").map(|b| (name.as_str(), b)));
    let bundle = super::transport::bundle(env.get("AWS_CA_BUNDLE").ok().as_deref(), ca_bundle)?;
    let (fips, dual_stack) = match registry {
        Registry::Private {
            fips, dual_stack, ..
        } => (*fips, *dual_stack),
        Registry::Public { dual_stack, .. } => (false, *dual_stack),
    };
    // ECR Public's API lives in us-east-1 only; a region override never moves it.
    let region = match (registry, &identity.region) {
        (Registry::Private { .. }, Some(r)) => r.clone(),
        _ => registry.region().to_string(),
    };
    let region = Region::new(region);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(super::transport::client(bundle.as_ref()))
        .env(env.clone())
        .region(region)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout.min(Duration::from_millis(3100)))
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(2)),
        );
    if fips {
        loader = loader.use_fips(true);
    }
    if dual_stack {
        loader = loader.use_dual_stack(true);
    }
    Ok(loader.load().await)
}

/// What signs a token request: the credentials, resolved once within the budget, when they
/// expire, and the MFA session they came from, if they did.
pub(crate) struct Signing {
    pub(crate) provider: SharedCredentialsProvider,
    pub(crate) expires_at_ms: Option<i64>,
    pub(crate) mfa: Option<super::mfa::Session>,
}

/// The MFA role of the profile in effect, unless environment keys sign (they come first in
/// the SDK's chain) or a service account does.
pub(crate) async fn mfa_role(identity: &Identity, env: &Env) -> Option<super::mfa::MfaRole> {
    let env_keys_sign = !identity.profile_from_config
        && ecr_login_core::identity::env_key_id(&identity.env).is_some();
    if identity.web_identity_token.is_some() || env_keys_sign {
        return None;
    }
    let (name, profile) = profile(env).await?;
    super::mfa::MfaRole::of(&name, &profile)
}

/// The credentials that sign the token request, resolved once within the budget, and when
/// they expire. An MFA role signs with its session, never with a prompt.
pub(crate) async fn credentials(
    sdk: &SdkConfig,
    request: &FetchRequest<'_>,
    env: &Env,
) -> Result<Signing, FetchError> {
    let (identity, timeout) = (request.identity, request.timeout);
    if let (Some(token), Some(role)) = (&identity.web_identity_token, &identity.role_arn) {
        let (provider, expires_at_ms) =
            assume_role_with_web_identity(sdk, identity, role, token, timeout).await?;
        return Ok(Signing {
            provider,
            expires_at_ms,
            mfa: None,
        });
    }
    let mut mfa = None;
    let base = match mfa_role(identity, env).await {
        Some(role) => {
            let home = env.get("HOME").ok().map(std::path::PathBuf::from);
            let session = super::mfa::find(&role, request.cache_dir, home.as_deref(), request.now)
                .ok_or_else(|| FetchError::MfaRequired {
                    profile: role.profile.clone(),
                    role: role.role_arn.clone(),
                })?;
            let provider = SharedCredentialsProvider::new(session.credentials.clone());
            mfa = Some(session);
            provider
        }
        None => sdk
            .credentials_provider()
            .ok_or_else(|| FetchError::NoCredentials {
                identity: identity.label.clone(),
                looked: None,
            })?,
    };
    let provider = match &identity.role_arn {
        Some(role) => {
            let mut b = AssumeRoleProvider::builder(role.clone()).session_name("ecr-login");
            if let Some(id) = &identity.external_id {
                b = b.external_id(id.clone());
            }
            SharedCredentialsProvider::new(b.configure(sdk).build_from_provider(base).await)
        }
        None => base,
    };
    let budget = timeout.min(CREDENTIALS_BUDGET);
    let credentials = tokio::time::timeout(budget, provider.provide_credentials())
        .await
        .map_err(|_| FetchError::CredentialsTimedOut {
            identity: identity.label.clone(),
            after_ms: budget.as_millis() as u64,
        })?
        .map_err(|e| classify::credentials(&e, identity, budget))?;
    let expiry = credentials.expiry().map(epoch_ms);
    Ok(Signing {
        provider: SharedCredentialsProvider::new(credentials),
        expires_at_ms: expiry,
        mfa,
    })
}

/// Kubelet service-account mode: trade the pod's projected token for role credentials.
async fn assume_role_with_web_identity(
    sdk: &SdkConfig,
    identity: &Identity,
    role: &str,
    token: &Secret,
    timeout: Duration,
) -> Result<(SharedCredentialsProvider, Option<i64>), FetchError> {
    let conf = aws_sdk_sts::config::Builder::from(sdk).build();
    let call = aws_sdk_sts::Client::from_conf(conf)
        .assume_role_with_web_identity()
        .role_arn(role)
        .role_session_name(
            identity
                .role_session_name
                .as_deref()
                .unwrap_or("ecr-login-kubelet"),
        )
        .web_identity_token(token.expose())
        .send();
    let out = tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| FetchError::TimedOut {
            after_ms: timeout.as_millis() as u64,
        })?
        .map_err(|e| {
            let e = classify::api_error(e);
            FetchError::AssumeRole {
                role: role.to_string(),
                identity: String::new(),
                detail: format!("{}: {}", e.code.as_deref().unwrap_or("error"), e.message),
                web_identity: true,
            }
        })?;
    let c = out.credentials().ok_or_else(|| FetchError::Other {
        detail: "STS answered without credentials".into(),
    })?;
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "ecr-login-web-identity",
    );
    Ok((SharedCredentialsProvider::new(creds), expiry.map(epoch_ms)))
}

/// What GetAuthorizationToken answers, either API.
pub(crate) struct Token {
    /// base64 of `user:password`.
    pub(crate) token: String,
    pub(crate) expires_at_ms: i64,
    pub(crate) proxy_endpoint: Option<String>,
}

/// GetAuthorizationToken with one SDK crate's client: ECR's and ECR Public's are alike,
/// but their types are their own.
macro_rules! get_authorization_token {
    ($service:ident, $sdk:expr, $credentials:expr) => {{
        let conf = $service::config::Builder::from($sdk)
            .credentials_provider($credentials)
            .build();
        $service::Client::from_conf(conf)
            .get_authorization_token()
            .send()
            .await
            .map_err(classify::api_error)?
    }};
}

/// Calls the registry's GetAuthorizationToken: ECR's, or ECR Public's in us-east-1.
pub(crate) async fn get_token(
    sdk: &SdkConfig,
    registry: &Registry,
    credentials: SharedCredentialsProvider,
) -> Result<Token, ApiError> {
    let (token, expires, proxy) = match registry {
        Registry::Private { .. } => {
            let out = get_authorization_token!(aws_sdk_ecr, sdk, credentials);
            let data = out.authorization_data().first();
            let proxy = data.and_then(|d| d.proxy_endpoint()).map(str::to_string);
            (
                data.and_then(|d| d.authorization_token())
                    .map(str::to_string),
                data.and_then(|d| d.expires_at()).copied(),
                proxy,
            )
        }
        Registry::Public { .. } => {
            let out = get_authorization_token!(aws_sdk_ecrpublic, sdk, credentials);
            let data = out.authorization_data();
            (
                data.and_then(|d| d.authorization_token())
                    .map(str::to_string),
                data.and_then(|d| d.expires_at()).copied(),
                None,
            )
        }
    };
    let token = token.ok_or_else(|| classify::malformed("no authorizationToken"))?;
    let expires = expires.ok_or_else(|| classify::malformed("no expiresAt"))?;
    // Checked: a hostile or broken endpoint's `-1e16` wrapped into an expiry billions of
    // days ahead (issue 27). Whether the value is plausible is `resolve`'s call, with `now`.
    let expires_at_ms = expires
        .secs()
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(i64::from(expires.subsec_nanos() / 1_000_000)))
        .ok_or_else(|| classify::malformed("an expiresAt out of range"))?;
    Ok(Token {
        token,
        expires_at_ms,
        proxy_endpoint: proxy,
    })
}

/// `authorizationToken` is base64 of `user:password`.
pub(crate) fn decode_token(token: &str) -> Result<(String, Secret), FetchError> {
    let malformed = |what: &str| FetchError::MalformedToken {
        detail: format!("ECR returned an authorization token {what}"),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| malformed("that is not base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| malformed("that is not text"))?;
    let (user, password) = text
        .split_once(':')
        .filter(|(u, p)| !u.is_empty() && !p.is_empty())
        .ok_or_else(|| malformed("without user:password"))?;
    Ok((user.to_string(), Secret::new(password)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decode_to_user_and_password() {
        let (u, p) = decode_token("QVdTOnBhc3M6d2l0aDpjb2xvbnM=").unwrap();
        assert_eq!((u.as_str(), p.expose()), ("AWS", "pass:with:colons"));
        for bad in ["%%%", "QVdT", "OnBhc3M=", ""] {
            assert!(
                matches!(decode_token(bad), Err(FetchError::MalformedToken { .. })),
                "{bad}"
            );
        }
    }
}
