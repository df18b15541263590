//! The API endpoint a registry's token request calls, as the SDK's own resolver names it
//! (its region, FIPS, dual-stack, `AWS_ENDPOINT_URL_ECR` and the profile's `endpoint_url`),
//! and the CA bundle trusted on the way there.

use crate::aws::{sdk, transport};
use aws_sdk_ecr::config::endpoint::ResolveEndpoint as _;
use aws_sdk_ecrpublic::config::endpoint::ResolveEndpoint as _;
use aws_types::SdkConfig;
use aws_types::os_shim_internal::Env;
use aws_types::service_config::ServiceConfigKey;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::redact::userinfo;
use ecr_login_core::resolve::Target;
use std::time::Duration;

/// An API endpoint, and what we trust on the way to it.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) url: String,
    /// Where it came from: the SDK's resolver for a region, or an override.
    pub(crate) origin: String,
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The CA bundle trusted beside the system roots.
    pub(crate) bundle: Option<transport::Bundle>,
}

impl Endpoint {
    /// Registries whose endpoints share a key share one set of network checks.
    pub(crate) fn key(&self) -> String {
        let bundle = self.bundle.as_ref().map(|b| b.path.display().to_string());
        format!("{} {}", self.url, bundle.unwrap_or_default())
    }
}

/// The SDK's own errors (its endpoint resolver and builders), whatever their type.
type SdkError = Box<dyn std::error::Error + Send + Sync>;

/// Why there is no endpoint to check for a registry.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EndpointError {
    /// Not an ECR registry: nothing to call.
    #[error("no ECR registry")]
    NoRegistry,
    /// The SDK's config, or the CA bundle, cannot be loaded for this registry's identity.
    #[error(transparent)]
    NotResolved(#[from] FetchError),
    /// The endpoint's parameters did not build.
    #[error(transparent)]
    Params(SdkError),
    /// The SDK's resolver names no endpoint for these settings.
    #[error("the SDK cannot name an endpoint: {0}")]
    NoEndpoint(SdkError),
    /// The URL it named does not parse (shown without user information).
    #[error("{}: {problem}", userinfo(.url))]
    BadUrl {
        url: String,
        problem: http::uri::InvalidUri,
    },
    #[error("{} has no host", userinfo(.0))]
    NoHost(String),
}

/// The endpoint `target`'s token request calls, as the SDK resolves it.
pub(crate) fn resolve(
    rt: &tokio::runtime::Runtime,
    target: &Target,
    env: &Env,
    timeout: Duration,
) -> Result<Endpoint, EndpointError> {
    let profile = rt.block_on(sdk::profile(env));
    let ca = profile
        .as_ref()
        .and_then(|(name, p)| p.get("ca_bundle").map(|b| (name.as_str(), b)));
    let bundle = transport::bundle(env.get("AWS_CA_BUNDLE").ok().as_deref(), ca)?;
    let config = rt.block_on(sdk::load(&target.registry, &target.identity, env, timeout))?;
    let public = target.registry.is_public();
    let overridden = overridden(&config, public)?;
    let url = resolved(rt, &config, public, overridden.clone())?;
    let uri: http::Uri = url.parse().map_err(|problem| EndpointError::BadUrl {
        url: url.clone(),
        problem,
    })?;
    let https = uri.scheme_str() != Some("http");
    let host = uri
        .host()
        .ok_or_else(|| EndpointError::NoHost(url.clone()))?
        .trim_matches(['[', ']'])
        .to_string();
    Ok(Endpoint {
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        origin: origin(&config, target, overridden.is_some()),
        url,
        https,
        host,
        bundle,
    })
}

/// The URL set for the service (`AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL`, the profile's
/// `endpoint_url`), if one is.
fn overridden(config: &SdkConfig, public: bool) -> Result<Option<String>, EndpointError> {
    let key = ServiceConfigKey::builder()
        .service_id(if public { "ECR PUBLIC" } else { "ECR" })
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .map_err(|e| EndpointError::Params(e.into()))?;
    Ok(config
        .service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_string)))
}

fn settings(config: &SdkConfig) -> (String, bool, bool) {
    (
        config.region().map(|r| r.to_string()).unwrap_or_default(),
        config.use_fips().unwrap_or(false),
        config.use_dual_stack().unwrap_or(false),
    )
}

/// The URL the SDK's own resolver names.
fn resolved(
    rt: &tokio::runtime::Runtime,
    config: &SdkConfig,
    public: bool,
    overridden: Option<String>,
) -> Result<String, EndpointError> {
    let (region, fips, dual) = settings(config);
    // The two SDKs' endpoint modules are alike, and their types are their own.
    macro_rules! resolve {
        ($sdk:ident) => {{
            let params = $sdk::config::endpoint::Params::builder()
                .region(region)
                .use_fips(fips)
                .use_dual_stack(dual)
                .set_endpoint(overridden)
                .build()
                .map_err(|e| EndpointError::Params(e.into()))?;
            rt.block_on($sdk::config::endpoint::DefaultResolver::new().resolve_endpoint(&params))
        }};
    }
    let resolved = if public {
        resolve!(aws_sdk_ecrpublic)
    } else {
        resolve!(aws_sdk_ecr)
    };
    Ok(resolved
        .map_err(EndpointError::NoEndpoint)?
        .url()
        .to_string())
}

/// Where the endpoint comes from, as people set it.
fn origin(config: &SdkConfig, target: &Target, overridden: bool) -> String {
    if !overridden {
        let (region, fips, dual) = settings(config);
        return format!(
            "the SDK's endpoint for {region}{}{}",
            if fips { ", FIPS" } else { "" },
            if dual { ", dual-stack" } else { "" }
        );
    }
    let specific = if target.registry.is_public() {
        "AWS_ENDPOINT_URL_ECR_PUBLIC"
    } else {
        "AWS_ENDPOINT_URL_ECR"
    };
    [specific, "AWS_ENDPOINT_URL"]
        .into_iter()
        .find(|v| target.identity.env.get(v).is_some())
        .map_or_else(|| "endpoint_url in the AWS profile".into(), str::to_string)
}
