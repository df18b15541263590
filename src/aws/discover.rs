//! Finding the caller's own registry for `configure` with no registry named: the region
//! from the AWS config, then GetAuthorizationToken with no registry IDs, which answers
//! with the caller's own `proxyEndpoint`.

use super::{classify, runtime, sdk};
use crate::error::CommandError;
use ecr_login_core::error::Error;
use ecr_login_core::fetch::{FetchError, FetchRequest};
use ecr_login_core::host::Registry;
use ecr_login_core::identity::Identity;
use std::time::Duration;

/// The host of the caller's default registry in `region` (else the configured region).
pub(crate) fn default_registry(
    identity: &Identity,
    region: Option<&str>,
    timeout: Duration,
) -> Result<String, Error> {
    let rt = runtime().map_err(CommandError::Runtime)?;
    rt.block_on(async {
        let region = match region {
            Some(r) => r.to_string(),
            None => configured_region(identity)
                .await
                .ok_or_else(|| Error::Input("no AWS region configured; pass --region".into()))?,
        };
        let fail = |error| Error::Fetch {
            registry: format!("the default registry in {region}"),
            error,
        };
        // A registry with no account: the request names no registry ID.
        let registry = Registry::Private {
            account: String::new(),
            region: region.clone(),
            fips: false,
            dual_stack: false,
            host: String::new(),
        };
        let sdk = sdk::load(&registry, identity, &sdk::env(identity), timeout)
            .await
            .map_err(fail)?;
        let env = sdk::env(identity);
        // A command's own start: its clock and its cache.
        let cache = ecr_login_core::cache::default_dir().ok().flatten();
        let request = FetchRequest {
            registry: &registry,
            identity,
            timeout,
            now: ecr_login_core::clock::now_ms(),
            cache_dir: cache.as_deref(),
        };
        let signing = sdk::credentials(&sdk, &request, &env).await.map_err(fail)?;
        let token = sdk::get_token(&sdk, &registry, signing.provider)
            .await
            .map_err(|e| fail(classify::api(e, identity, timeout)))?;
        let proxy = token.proxy_endpoint.ok_or_else(|| {
            fail(FetchError::MalformedToken {
                detail: "ECR answered without a proxyEndpoint".into(),
            })
        })?;
        Ok(proxy
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string())
    })
}

/// The region the AWS config names for the identity's profile, if any.
async fn configured_region(identity: &Identity) -> Option<String> {
    let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
    if let Some(p) = &identity.profile {
        chain = chain.profile_name(p);
    }
    tokio::time::timeout(Duration::from_secs(3), chain.build().region())
        .await
        .ok()
        .flatten()
        .map(|r| r.to_string())
}
