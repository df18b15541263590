//! Token fetch: the only code that talks to AWS. Runs on a cache miss only, so the tokio
//! runtime, the AWS config load and the TLS roots cost nothing on a hit.
//!
//! Credentials come from the AWS SDK's own loader (profiles, SSO, credential_process, web
//! identity, `AWS_ENDPOINT_URL_ECR`…), with our per-registry profile and role on top. Every
//! failure becomes one line that says what failed and what to do.

use crate::host::Registry;
use crate::identity::Identity;
use crate::protocol::Secret;
use aws_config::BehaviorVersion;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use base64::Engine;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Credential resolution gives up after this long even with a longer request timeout:
/// a `get` without credentials must not hang (the Go helper takes 10-20 s probing).
const CREDENTIALS_BUDGET: Duration = Duration::from_millis(4500);

/// A token as ECR issued it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub username: String,
    pub secret: Secret,
    pub token_expires_at_ms: i64,
    /// When the credentials that signed the request expire, if they do.
    pub credentials_expire_at_ms: Option<i64>,
    pub proxy_endpoint: Option<String>,
}

/// Fetches a token on a fresh current-thread runtime. For synchronous callers.
pub fn fetch(
    registry: &Registry,
    identity: &Identity,
    timeout: Duration,
) -> Result<Fetched, String> {
    runtime()?.block_on(fetch_async(registry, identity, timeout))
}

pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

pub async fn fetch_async(
    registry: &Registry,
    identity: &Identity,
    timeout: Duration,
) -> Result<Fetched, String> {
    let work = async {
        let sdk = load_sdk_config(registry, identity, timeout).await;
        let (credentials, expiry) = resolve_credentials(&sdk, identity, timeout).await?;
        let fetched = match registry {
            Registry::Private { .. } => get_private(&sdk, credentials).await,
            Registry::Public { .. } => get_public(&sdk, credentials).await,
        };
        fetched
            .map_err(|e| describe_api_error(&e, identity))
            .and_then(|(token, expires, proxy)| {
                let (username, secret) = decode_token(&token)?;
                Ok(Fetched {
                    username,
                    secret,
                    token_expires_at_ms: expires,
                    credentials_expire_at_ms: expiry,
                    proxy_endpoint: proxy,
                })
            })
    };
    // The SDK's own timeouts bound each attempt; this bounds the whole, retries included.
    tokio::time::timeout(timeout + Duration::from_millis(500), work)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer from ECR within {}s; check your network or proxy settings, or raise `timeout` in the ecr-login config",
                timeout.as_secs_f32()
            ))
        })
}

/// The caller's default registry: GetAuthorizationToken with no registry IDs answers with
/// the caller's own `proxyEndpoint`.
pub async fn default_registry(
    identity: &Identity,
    region: &str,
    timeout: Duration,
) -> Result<String, String> {
    let registry = Registry::Private {
        account: String::new(),
        region: region.to_string(),
        fips: false,
        dual_stack: false,
        host: String::new(),
    };
    let sdk = load_sdk_config(&registry, identity, timeout).await;
    let (credentials, _) = resolve_credentials(&sdk, identity, timeout).await?;
    let (_, _, proxy) = get_private(&sdk, credentials)
        .await
        .map_err(|e| describe_api_error(&e, identity))?;
    let proxy = proxy.ok_or("ECR answered without a proxyEndpoint")?;
    Ok(proxy
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string())
}

async fn load_sdk_config(registry: &Registry, identity: &Identity, timeout: Duration) -> SdkConfig {
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
        .region(region.clone())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout.min(Duration::from_millis(3100)))
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(2)),
        );
    if fips {
        loader = loader.use_fips(true);
    }
    if dual_stack {
        loader = loader.use_dual_stack(true);
    }
    if let Some(profile) = &identity.profile {
        loader = loader.profile_name(profile);
        if identity.profile_from_config {
            // A profile named in our config wins over environment credentials, which the
            // default chain would otherwise try first.
            let provider = ProfileFileCredentialsProvider::builder()
                .configure(&ProviderConfig::default().with_region(Some(region)))
                .profile_name(profile)
                .build();
            loader = loader.credentials_provider(provider);
        }
    }
    loader.load().await
}

async fn resolve_credentials(
    sdk: &SdkConfig,
    identity: &Identity,
    timeout: Duration,
) -> Result<(SharedCredentialsProvider, Option<i64>), String> {
    if let (Some(token), Some(role)) = (&identity.web_identity_token, &identity.role_arn) {
        return assume_role_with_web_identity(sdk, role, token, timeout).await;
    }
    let base = sdk
        .credentials_provider()
        .ok_or_else(|| no_credentials_message(identity))?;
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
        .map_err(|_| {
            format!(
                "no AWS credentials found within {}s for {} (looked in the environment, ~/.aws, SSO and the instance metadata service); {}",
                budget.as_secs_f32(),
                identity.label,
                CREDENTIALS_HINT
            )
        })?
        .map_err(|e| describe_credentials_error(&e, identity))?;
    let expiry = credentials.expiry().map(system_time_ms);
    Ok((SharedCredentialsProvider::new(credentials), expiry))
}

/// Kubelet service-account mode: trade the pod's projected token for role credentials.
async fn assume_role_with_web_identity(
    sdk: &SdkConfig,
    role: &str,
    token: &Secret,
    timeout: Duration,
) -> Result<(SharedCredentialsProvider, Option<i64>), String> {
    let conf = aws_sdk_sts::config::Builder::from(sdk).build();
    let call = aws_sdk_sts::Client::from_conf(conf)
        .assume_role_with_web_identity()
        .role_arn(role)
        .role_session_name("ecr-login-kubelet")
        .web_identity_token(token.expose())
        .send();
    let out = tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| format!("STS did not answer within {}s", timeout.as_secs_f32()))?
        .map_err(|e| {
            let e = api_error(e);
            format!(
                "cannot assume role {role} with the service account token ({}: {}); check the role's trust policy for this service account",
                e.code.as_deref().unwrap_or("error"),
                e.message
            )
        })?;
    let c = out
        .credentials()
        .ok_or("STS answered without credentials")?;
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "ecr-login-web-identity",
    );
    Ok((
        SharedCredentialsProvider::new(creds),
        expiry.map(system_time_ms),
    ))
}

type ApiResult = Result<(String, i64, Option<String>), ApiError>;

/// An API failure reduced to what the message needs.
struct ApiError {
    code: Option<String>,
    message: String,
    kind: ApiErrorKind,
}

enum ApiErrorKind {
    Service,
    Timeout,
    Unreachable,
    Other,
}

fn api_error<E, R>(e: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let kind = match &e {
        SdkError::ServiceError(_) => ApiErrorKind::Service,
        SdkError::TimeoutError(_) => ApiErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => ApiErrorKind::Timeout,
        SdkError::DispatchFailure(_) => ApiErrorKind::Unreachable,
        _ => ApiErrorKind::Other,
    };
    let code = e.code().map(str::to_string);
    let message = match &e {
        SdkError::ServiceError(s) => s.err().message().unwrap_or_default().to_string(),
        _ => chain(&e),
    };
    ApiError {
        code,
        message,
        kind,
    }
}

async fn get_private(sdk: &SdkConfig, credentials: SharedCredentialsProvider) -> ApiResult {
    let conf = aws_sdk_ecr::config::Builder::from(sdk)
        .credentials_provider(credentials)
        .build();
    let out = aws_sdk_ecr::Client::from_conf(conf)
        .get_authorization_token()
        .send()
        .await
        .map_err(api_error)?;
    let data = out
        .authorization_data()
        .first()
        .ok_or_else(|| malformed("no authorizationData"))?;
    let token = data
        .authorization_token()
        .ok_or_else(|| malformed("no authorizationToken"))?;
    let expires = data.expires_at().ok_or_else(|| malformed("no expiresAt"))?;
    Ok((
        token.to_string(),
        datetime_ms(expires),
        data.proxy_endpoint().map(str::to_string),
    ))
}

async fn get_public(sdk: &SdkConfig, credentials: SharedCredentialsProvider) -> ApiResult {
    let conf = aws_sdk_ecrpublic::config::Builder::from(sdk)
        .credentials_provider(credentials)
        .build();
    let out = aws_sdk_ecrpublic::Client::from_conf(conf)
        .get_authorization_token()
        .send()
        .await
        .map_err(api_error)?;
    let data = out
        .authorization_data()
        .ok_or_else(|| malformed("no authorizationData"))?;
    let token = data
        .authorization_token()
        .ok_or_else(|| malformed("no authorizationToken"))?;
    let expires = data.expires_at().ok_or_else(|| malformed("no expiresAt"))?;
    Ok((token.to_string(), datetime_ms(expires), None))
}

fn malformed(what: &str) -> ApiError {
    ApiError {
        code: None,
        message: format!("ECR's answer is malformed: {what}"),
        kind: ApiErrorKind::Other,
    }
}

/// `authorizationToken` is base64 of `user:password`.
pub fn decode_token(token: &str) -> Result<(String, Secret), String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| "ECR returned an authorization token that is not base64".to_string())?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "ECR returned an authorization token that is not text".to_string())?;
    let (user, password) = text
        .split_once(':')
        .filter(|(u, p)| !u.is_empty() && !p.is_empty())
        .ok_or("ECR returned an authorization token without user:password")?;
    Ok((user.to_string(), Secret::new(password)))
}

fn datetime_ms(t: &aws_smithy_types::DateTime) -> i64 {
    t.secs() * 1000 + i64::from(t.subsec_nanos() / 1_000_000)
}

fn system_time_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

const CREDENTIALS_HINT: &str = "provide credentials with `aws configure`, `aws sso login`, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or map this registry to a profile in the ecr-login config";

fn no_credentials_message(identity: &Identity) -> String {
    format!(
        "no AWS credentials for {}; {CREDENTIALS_HINT}",
        identity.label
    )
}

fn profile_flag(identity: &Identity) -> String {
    identity
        .profile
        .as_deref()
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default()
}

/// An error and its sources as one line, without the Debug dumps the SDK's own
/// `DisplayErrorContext` appends, and without repeating a message its cause already says.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

fn describe_credentials_error(e: &CredentialsError, identity: &Identity) -> String {
    let detail = chain(e);
    let lower = detail.to_ascii_lowercase();
    if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) {
        let profile = identity.profile.as_deref().unwrap_or("default");
        return format!(
            "the SSO session for profile \"{profile}\" has expired or was never started; run: aws sso login{}",
            profile_flag(identity)
        );
    }
    let from_default_chain = identity.role_arn.is_none() && !identity.profile_from_config;
    match e {
        CredentialsError::CredentialsNotLoaded(_) => no_credentials_message(identity),
        // The default chain ends at the instance metadata service: its failure means no
        // credentials anywhere, which is what the user needs to hear.
        _ if from_default_chain && lower.contains("imds") => format!(
            "no AWS credentials found for {} (looked in the environment, ~/.aws, SSO, container and instance metadata); {CREDENTIALS_HINT}",
            identity.label
        ),
        CredentialsError::ProviderTimedOut(_) => format!(
            "timed out resolving AWS credentials for {}; {CREDENTIALS_HINT}",
            identity.label
        ),
        CredentialsError::InvalidConfiguration(_) => format!(
            "the AWS configuration for {} is invalid: {detail}; fix ~/.aws/config or the profile name",
            identity.label
        ),
        _ if identity.role_arn.is_some() => format!(
            "cannot assume role {} for {}: {detail}; check the role's trust policy and the base credentials",
            identity.role_arn.as_deref().unwrap_or_default(),
            identity.label
        ),
        _ => format!(
            "cannot load AWS credentials for {}: {detail}",
            identity.label
        ),
    }
}

fn describe_api_error(e: &ApiError, identity: &Identity) -> String {
    let code = e.code.as_deref().unwrap_or_default();
    let detail = if e.message.is_empty() {
        code.to_string()
    } else {
        e.message.clone()
    };
    match (code, &e.kind) {
        ("ThrottlingException", _) => format!(
            "ECR is throttling token requests and retries ran out ({detail}); try again shortly"
        ),
        ("AccessDeniedException", _) => format!(
            "access denied for {}: {detail}; the identity needs ecr:GetAuthorizationToken (and for ECR Public sts:GetServiceBearerToken)",
            identity.label
        ),
        (
            "ExpiredTokenException"
            | "ExpiredToken"
            | "RequestExpired"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch",
            _,
        ) => format!(
            "AWS rejected the credentials of {} ({code}: {detail}); refresh them (aws sso login{}, aws configure, or new keys)",
            identity.label,
            profile_flag(identity)
        ),
        ("ServerException", _) => {
            format!("ECR had an internal error ({detail}); try again shortly")
        }
        (_, ApiErrorKind::Timeout) => {
            format!("ECR did not answer in time: {detail}; check your network or proxy")
        }
        (_, ApiErrorKind::Unreachable) => format!(
            "cannot reach the ECR API: {detail}; check your network, proxy and AWS_ENDPOINT_URL_ECR"
        ),
        (_, ApiErrorKind::Service) => format!("ECR refused the token request ({code}: {detail})"),
        (_, ApiErrorKind::Other) => format!("the ECR token request failed: {detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decode_to_user_and_password() {
        let (u, p) = decode_token("QVdTOnBhc3M6d2l0aDpjb2xvbnM=").unwrap();
        assert_eq!((u.as_str(), p.expose()), ("AWS", "pass:with:colons"));
        for bad in ["%%%", "QVdT", "OnBhc3M=", ""] {
            assert!(decode_token(bad).is_err(), "{bad}");
        }
    }
}
