//! The environment variables a request is decided by, behind a trait: the process's own
//! for `get`, the variables an entry was fetched with when the daemon renews it, a map in
//! tests.

use std::collections::BTreeMap;

/// Whether a variable belongs to the AWS SDK's configuration: every `AWS_*`, and
/// `SECRET_ACCESS_KEY`, which the SDK reads when `AWS_SECRET_ACCESS_KEY` is blank. Our own
/// `AWS_ECR_*` variables are not the SDK's.
pub fn is_aws_var(name: &str) -> bool {
    (name.starts_with("AWS_") && !name.starts_with("AWS_ECR_")) || name == "SECRET_ACCESS_KEY"
}

/// AWS variables known to hold no secret: settings the SDKs and the AWS CLI read (names,
/// paths, regions, endpoints, switches). Any other `AWS_*` value counts as a secret (keys,
/// tokens, and whatever a CI system or another tool keeps under an `AWS_` name): hashed in
/// a cache key, never written down or shown. A variable missing here costs only that the
/// daemon renews such an entry with its own value of it, or not at all.
const PLAIN_VARS: &[&str] = &[
    "AWS_ACCOUNT_ID",
    "AWS_CA_BUNDLE",
    "AWS_CLI_AUTO_PROMPT",
    "AWS_CLI_FILE_ENCODING",
    "AWS_CONFIG_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_DATA_PATH",
    "AWS_DEFAULT_OUTPUT",
    "AWS_DEFAULT_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_DISABLE_REQUEST_COMPRESSION",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_EC2_METADATA_V1_DISABLED",
    "AWS_EXECUTION_ENV",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_LOGIN_CACHE_DIRECTORY",
    "AWS_MAX_ATTEMPTS",
    "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
    "AWS_METADATA_SERVICE_TIMEOUT",
    "AWS_PAGER",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_RETRY_MODE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_SDK_LOAD_CONFIG",
    "AWS_SDK_UA_APP_ID",
    "AWS_SESSION_EXPIRATION",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_VAULT",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// Whether an AWS variable's value is (or may be) a secret: everything but [`PLAIN_VARS`]
/// and the endpoint overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`).
pub(crate) fn is_secret_var(name: &str) -> bool {
    !(PLAIN_VARS.contains(&name) || name.starts_with("AWS_ENDPOINT_URL"))
}

/// Environment variables.
pub trait Env: Send + Sync {
    /// A variable; empty values count as unset.
    fn var(&self, name: &str) -> Option<String>;

    /// Every AWS SDK variable ([`is_aws_var`]) exactly as set, empty values included.
    fn aws_vars(&self) -> BTreeMap<String, String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn aws_vars(&self) -> BTreeMap<String, String> {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| is_aws_var(k))
            .collect()
    }
}

/// A fixed set of variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapEnv(pub BTreeMap<String, String>);

impl MapEnv {
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        MapEnv(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn aws_vars(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter(|(k, _)| is_aws_var(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Another environment with its AWS variables replaced by recorded ones (which never hold
/// secrets: [`is_secret_var`]), and optionally its own secrets on top: how the daemon and `refresh` see the
/// world when they renew an entry as the environment that fetched it.
pub struct WithAwsVars<'a> {
    aws: BTreeMap<String, String>,
    base: &'a dyn Env,
}

impl<'a> WithAwsVars<'a> {
    pub fn new(recorded: &BTreeMap<String, String>, base: &'a dyn Env, base_secrets: bool) -> Self {
        let mut aws = recorded.clone();
        if base_secrets {
            aws.extend(
                base.aws_vars()
                    .into_iter()
                    .filter(|(k, _)| is_secret_var(k)),
            );
        }
        WithAwsVars { aws, base }
    }
}

impl Env for WithAwsVars<'_> {
    fn var(&self, name: &str) -> Option<String> {
        if is_aws_var(name) {
            self.aws.get(name).filter(|v| !v.is_empty()).cloned()
        } else {
            self.base.var(name)
        }
    }

    fn aws_vars(&self) -> BTreeMap<String, String> {
        self.aws.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_vars_replace_the_base_ones_and_nothing_else() {
        let base = MapEnv::new([
            ("HOME", "/h"),
            ("AWS_PROFILE", "daemon"),
            ("AWS_ECR_CACHE_DIR", "/c"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
        ]);
        let aws = BTreeMap::from([("AWS_CONFIG_FILE".to_string(), "/job/config".to_string())]);
        let env = WithAwsVars::new(&aws, &base, false);
        assert_eq!(env.var("HOME").as_deref(), Some("/h"));
        assert_eq!(env.var("AWS_PROFILE"), None);
        assert_eq!(env.var("AWS_CONFIG_FILE").as_deref(), Some("/job/config"));
        assert_eq!(env.aws_vars(), aws);
        let with_secrets = WithAwsVars::new(&aws, &base, true);
        assert_eq!(
            with_secrets.var("AWS_ACCESS_KEY_ID").as_deref(),
            Some("AKIA")
        );
        assert_eq!(
            with_secrets.var("AWS_PROFILE"),
            None,
            "only secrets come from the base"
        );
        assert_eq!(base.aws_vars().len(), 2, "AWS_ECR_* is ours, not the SDK's");
    }
}
