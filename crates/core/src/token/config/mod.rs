//! ecr-login's own configuration file: per-registry AWS profile, role and aliases, cache
//! policy and daemon knobs.
//!
//! Docker's `credHelpers` values are plain strings, so everything beyond "use ecr-login for
//! this host" lives here. No file means defaults; a malformed file is an error that names
//! the file, line and key, because silently ignoring a typo in `role_arn` would push with
//! the wrong identity.

mod error;

pub(crate) use error::{BadValue, Invalid, MinRemainingError, PatternError};
pub use error::{ConfigError, HelperNameError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::paths::CONFIG_ENV;

/// Per-registry settings, matched by host as clients send it (SPEC A.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryRule {
    /// AWS profile whose credentials sign the token request.
    pub profile: Option<String>,
    /// Role assumed on top of the profile's credentials.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// API region, when it differs from the host's.
    pub region: Option<String>,
    /// The real ECR registry behind an alias host.
    pub ecr: Option<String>,
}

/// How much life a cached token must have left to be served.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinRemaining {
    /// A share of the token's lifetime (0.5 = half).
    Fraction(f64),
    Fixed(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CachePolicy {
    pub min_remaining: MinRemaining,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSettings {
    /// Renew once this fraction of a token's life has passed.
    pub renew_after: f64,
    pub keep_warm: Vec<String>,
    /// Stop renewing registries no `get` has asked for in this long.
    pub forget_after: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this came from, if one exists.
    pub path: Option<PathBuf>,
    /// Rules in file order; [`Config::rule_for`] picks the most specific match.
    pub registries: Vec<(String, RegistryRule)>,
    pub cache: CachePolicy,
    pub daemon: DaemonSettings,
    /// Upper bound on one token request, credential resolution included.
    pub timeout: Duration,
    pub store: StoreSettings,
    pub kubelet: KubeletSettings,
}

/// The annotation AWS's own provider reads, and our default.
pub(crate) const ECR_ROLE_ANNOTATION: &str = "eks.amazonaws.com/ecr-role-arn";

/// `[kubelet]`: how a request with a service account token finds its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletSettings {
    /// The service account annotations that name the role, first present wins (the IRSA key
    /// `eks.amazonaws.com/role-arn` may be added). `configure --kubelet` lists them as the
    /// provider's `optionalServiceAccountAnnotationKeys`.
    pub role_annotations: Vec<String>,
    /// Refuse a token with no role anywhere, instead of answering with the node's
    /// credentials as AWS's provider does.
    pub require_role: bool,
    /// A node's first token call waits a random time up to this long, so a fleet booted at
    /// once spreads its calls over ECR's quota.
    pub first_call_spread: Duration,
    /// How long a kubelet call keeps retrying a throttled (or 5xx) token request, backing
    /// off with jitter, before it answers with the error: inside the kubelet's one-minute
    /// exec timeout.
    pub retry_for: Duration,
}

/// The longest `[kubelet] retry_for`: the kubelet kills a provider after one minute.
pub(crate) const KUBELET_RETRY_MAX: Duration = Duration::from_secs(55);

impl Default for KubeletSettings {
    fn default() -> KubeletSettings {
        KubeletSettings {
            role_annotations: vec![ECR_ROLE_ANNOTATION.to_string()],
            require_role: false,
            first_call_spread: Duration::from_secs(1),
            retry_for: Duration::from_secs(50),
        }
    }
}

/// Where logins to registries that are not ECR go, when ecr-login is Docker's `credsStore`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// Another credential helper (`docker-credential-<name>`); `None`: our own file store.
    pub fallback: Option<String>,
    /// Where `configure --store` found it: run from there, never looked up again.
    pub fallback_path: Option<PathBuf>,
    /// The Docker config `configure --store` set up: the daemon keeps `credsStore` there
    /// pointing at us (Docker Desktop sets it back to `desktop` when it starts).
    pub docker_config: Option<PathBuf>,
    /// Whether the daemon repairs that (`[store] repair = false`: it does not).
    pub repair: bool,
    /// The `credHelpers` entries the daemon added while repairing, so that
    /// `configure --remove` takes out these and only these.
    pub pinned: Vec<String>,
    /// The `credsStore` that `configure --store` replaced (`Some("")`: there was none), so
    /// `configure --remove` can put it back.
    pub previous: Option<String>,
    /// `configure --store` recorded `previous` and had not yet switched Docker's config
    /// over when it stopped (a failure or a kill): the next `configure` completes it.
    pub pending: bool,
}

impl Default for StoreSettings {
    fn default() -> StoreSettings {
        StoreSettings {
            fallback: None,
            fallback_path: None,
            previous: None,
            pending: false,
            docker_config: None,
            repair: true,
            pinned: Vec::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            path: None,
            registries: Vec::new(),
            cache: CachePolicy {
                min_remaining: MinRemaining::Fraction(0.5),
            },
            daemon: DaemonSettings {
                renew_after: 0.4,
                keep_warm: Vec::new(),
                forget_after: Duration::from_secs(7 * 86400),
            },
            timeout: Duration::from_secs(5),
            store: StoreSettings::default(),
            kubelet: KubeletSettings::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    registries: BTreeMap<String, RegistryRule>,
    #[serde(default)]
    cache: CacheFile,
    #[serde(default)]
    daemon: DaemonFile,
    #[serde(default)]
    store: StoreFile,
    #[serde(default)]
    kubelet: KubeletFile,
    timeout: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KubeletFile {
    role_annotations: Option<Vec<String>>,
    require_role: Option<bool>,
    first_call_spread: Option<String>,
    retry_for: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    fallback: Option<String>,
    fallback_path: Option<PathBuf>,
    docker_config: Option<PathBuf>,
    repair: Option<bool>,
    #[serde(default)]
    pinned: Vec<String>,
    previous: Option<String>,
    #[serde(default)]
    pending: bool,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    min_remaining: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DaemonFile {
    renew_after: Option<f64>,
    keep_warm: Option<Vec<String>>,
    forget_after: Option<String>,
}

/// Where the config file lives: `ECR_LOGIN_CONFIG`, else the platform config dir.
pub fn default_path() -> Option<PathBuf> {
    crate::paths::config_file()
}

impl Config {
    /// Loads the config file if there is one. A missing file is the defaults; an
    /// unreadable or malformed one is an error naming the file.
    pub fn load() -> Result<Config, ConfigError> {
        Config::load_from(default_path().as_deref())
    }

    pub fn load_from(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        // Bounded and non-blocking: a FIFO or a huge file here is an error, not a hang.
        match crate::files::read_text_limited(path, crate::files::CONFIG_LIMIT) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(ConfigError::read(path.to_path_buf(), e)),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Config::parse_text(text, path)
            .map_err(|invalid| ConfigError::invalid(path.to_path_buf(), invalid))
    }

    fn parse_text(text: &str, path: &Path) -> Result<Config, Invalid> {
        let file: File = toml::from_str(text).map_err(|error| Invalid::Syntax {
            line: error
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1),
            error,
        })?;
        let mut config = Config {
            path: Some(path.to_path_buf()),
            ..Config::default()
        };
        for (pattern, rule) in file.registries {
            let key = format!("registries.\"{pattern}\"");
            validate_pattern(&pattern).map_err(|e| Invalid::value(&key, e))?;
            if let Some(ecr) = &rule.ecr
                && crate::token::host::Registry::parse(ecr).is_none()
            {
                return Err(Invalid::value(
                    format!("{key}.ecr"),
                    BadValue::NotAnEcrHost(ecr.clone()),
                ));
            }
            if let Some(arn) = &rule.role_arn
                && (!arn.starts_with("arn:") || arn.chars().any(char::is_control))
            {
                return Err(Invalid::value(
                    format!("{key}.role_arn"),
                    BadValue::NotAnArn(arn.clone()),
                ));
            }
            config.registries.push((pattern.to_ascii_lowercase(), rule));
        }
        if let Some(v) = file.cache.min_remaining {
            config.cache.min_remaining =
                parse_min_remaining(&v).map_err(|e| Invalid::value("cache.min_remaining", e))?;
        }
        if let Some(v) = file.daemon.renew_after {
            if !(0.05..=0.95).contains(&v) {
                return Err(Invalid::value(
                    "daemon.renew_after",
                    BadValue::RenewAfter(v.to_string()),
                ));
            }
            config.daemon.renew_after = v;
        }
        if let Some(v) = file.daemon.keep_warm {
            for host in &v {
                let authority = crate::token::host::Authority::parse(host)
                    .map_err(|e| Invalid::value("daemon.keep_warm", e))?;
                let ecr = crate::token::host::Registry::from_host(&authority.host).is_some()
                    || config
                        .rule_for(&authority.to_string())
                        .is_some_and(|r| r.ecr.is_some());
                if !ecr {
                    return Err(Invalid::value(
                        "daemon.keep_warm",
                        BadValue::NotEcrNorAlias(host.clone()),
                    ));
                }
            }
            config.daemon.keep_warm = v;
        }
        if let Some(v) = file.daemon.forget_after {
            config.daemon.forget_after =
                crate::duration::parse(&v).map_err(|e| Invalid::value("daemon.forget_after", e))?;
        }
        if let Some(name) = file.store.fallback.as_ref().filter(|n| !n.is_empty()) {
            validate_helper_name(name).map_err(|e| Invalid::value("store.fallback", e))?;
        }
        if let Some(p) = &file.store.fallback_path
            && !p.is_absolute()
        {
            return Err(Invalid::value(
                "store.fallback_path",
                BadValue::NotAbsolute(p.clone()),
            ));
        }
        for host in &file.store.pinned {
            if let Err(source) = crate::token::host::Authority::parse(host) {
                return Err(Invalid::value(
                    "store.pinned",
                    BadValue::NotARegistryHost {
                        host: host.clone(),
                        source,
                    },
                ));
            }
        }
        config.store = StoreSettings {
            fallback: file.store.fallback.filter(|n| !n.is_empty()),
            fallback_path: file.store.fallback_path,
            docker_config: file.store.docker_config,
            repair: file.store.repair.unwrap_or(true),
            pinned: file.store.pinned,
            previous: file.store.previous,
            pending: file.store.pending,
        };
        if let Some(keys) = file.kubelet.role_annotations {
            if let Some(bad) = keys.iter().find(|k| !is_annotation_key(k)) {
                return Err(Invalid::value(
                    "kubelet.role_annotations",
                    BadValue::AnnotationKey(bad.clone()),
                ));
            }
            config.kubelet.role_annotations = keys;
        }
        config.kubelet.require_role = file.kubelet.require_role.unwrap_or(false);
        if let Some(v) = file.kubelet.first_call_spread {
            config.kubelet.first_call_spread = crate::duration::parse(&v)
                .map_err(|e| Invalid::value("kubelet.first_call_spread", e))?;
        }
        if let Some(v) = file.kubelet.retry_for {
            let d =
                crate::duration::parse(&v).map_err(|e| Invalid::value("kubelet.retry_for", e))?;
            if d > KUBELET_RETRY_MAX {
                return Err(Invalid::value(
                    "kubelet.retry_for",
                    BadValue::AboveKubeletTimeout(v),
                ));
            }
            config.kubelet.retry_for = d;
        }
        if let Some(v) = file.timeout {
            let t = crate::duration::parse(&v).map_err(|e| Invalid::value("timeout", e))?;
            if t.is_zero() {
                return Err(Invalid::value("timeout", BadValue::Zero));
            }
            config.timeout = t;
        }
        Ok(config)
    }

    /// The rule that applies to a host, aliases resolved: an alias (`ecr = …`) takes its
    /// own `profile`, `role_arn` (with `external_id`) and `region`, and whatever it does
    /// not set from its ECR registry's rule, so it signs as that registry is configured.
    pub(crate) fn effective_rule(&self, authority: &str) -> Option<RegistryRule> {
        let rule = self.rule_for(authority)?;
        let Some(target) = rule
            .ecr
            .as_deref()
            .and_then(crate::token::host::Registry::parse)
            .and_then(|r| self.rule_for(r.host()))
        else {
            return Some(rule.clone());
        };
        let (role_arn, external_id) = match &rule.role_arn {
            Some(_) => (rule.role_arn.clone(), rule.external_id.clone()),
            None => (target.role_arn.clone(), target.external_id.clone()),
        };
        Some(RegistryRule {
            profile: rule.profile.clone().or_else(|| target.profile.clone()),
            role_arn,
            external_id,
            region: rule.region.clone().or_else(|| target.region.clone()),
            ecr: rule.ecr.clone(),
        })
    }

    /// The rule for a host (`host` or `host:port`, lower-case): an exact key wins over any
    /// wildcard; among wildcards, the one with fewer `*` wins, then the longer pattern.
    /// A key without a port also matches the host on any port.
    pub(crate) fn rule_for(&self, authority: &str) -> Option<&RegistryRule> {
        let host = authority.rsplit_once(':').map_or(authority, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                authority
            }
        });
        let exact = self
            .registries
            .iter()
            .find(|(p, _)| p == authority)
            .or_else(|| self.registries.iter().find(|(p, _)| p == host));
        if let Some((_, rule)) = exact {
            return Some(rule);
        }
        self.registries
            .iter()
            .filter(|(p, _)| p.contains('*') && (glob_match(p, authority) || glob_match(p, host)))
            .min_by_key(|(p, _)| (p.matches('*').count(), std::cmp::Reverse(p.len())))
            .map(|(_, rule)| rule)
    }
}

/// Whether `arn` is an IAM role's ARN: `arn:<partition>:iam::<12 digits>:role/<path and
/// name>`, with only the characters IAM allows (so a newline or a quote can never reach a
/// log line or a key through it).
pub(crate) fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Some(name) = resource.strip_prefix("role/") else {
        return false;
    };
    arn.len() <= 2048
        && partition.starts_with("aws")
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
}

/// An annotation key the kubelet accepts in `tokenAttributes` (its `IsQualifiedName`, case
/// ignored): an optional DNS-subdomain prefix and `/`, then a name of up to 63 characters,
/// alphanumeric at both ends with `-`, `_` or `.` inside.
pub(crate) fn is_annotation_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key.as_str()),
    };
    let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && alnum(name.as_bytes().first())
        && alnum(name.as_bytes().last())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && alnum(l.as_bytes().first())
                    && alnum(l.as_bytes().last())
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    });
    name_ok && prefix_ok
}

/// A credential helper's name, as Docker's `credsStore` takes it: the part after
/// `docker-credential-`.
pub fn validate_helper_name(name: &str) -> Result<(), HelperNameError> {
    if name.eq_ignore_ascii_case("ecr-login") {
        return Err(HelperNameError::Ourselves);
    }
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if valid {
        Ok(())
    } else {
        Err(HelperNameError::NotAName(name.to_string()))
    }
}

fn validate_pattern(pattern: &str) -> Result<(), PatternError> {
    if pattern.is_empty() {
        return Err(PatternError::Empty);
    }
    let plain = pattern.replace('*', "x");
    crate::token::host::Authority::parse(&plain).map_err(PatternError::Host)?;
    if pattern.contains('/') {
        return Err(PatternError::WithPath);
    }
    Ok(())
}

/// Label-wise glob: `*` matches any run of characters within one DNS label, as the
/// kubelet's `matchImages` does, so `*.amazonaws.com` never matches `a.b.amazonaws.com`.
pub fn glob_match(pattern: &str, host: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let h: Vec<&str> = host.split('.').collect();
    p.len() == h.len()
        && p.iter()
            .zip(&h)
            .all(|(p, h)| label_match(p.as_bytes(), h.as_bytes()))
}

/// One label against one pattern label. Greedy, remembering only the last `*`: at most
/// `p.len() * s.len()` steps, never the exponential backtracking of a recursive match
/// (issue 13: a 200-character host against many `*` took over 20 s).
fn label_match(p: &[u8], s: &[u8]) -> bool {
    label_match_steps(p, s).0
}

/// [`label_match`], and how many steps it took.
fn label_match_steps(p: &[u8], s: &[u8]) -> (bool, usize) {
    let (mut pi, mut si, mut steps) = (0, 0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        steps += 1;
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(c) if *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more byte and try again from there.
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return (false, steps),
            },
        }
    }
    (p[pi..].iter().all(|c| *c == b'*'), steps)
}

/// `50%` (a share of the lifetime) or a duration such as `2h`.
pub(crate) fn parse_min_remaining(v: &str) -> Result<MinRemaining, MinRemainingError> {
    if let Some(pct) = v.trim().strip_suffix('%') {
        let n: f64 = pct
            .trim()
            .parse()
            .map_err(|_| MinRemainingError::NotAPercentage(v.to_string()))?;
        if !(0.0..=100.0).contains(&n) {
            return Err(MinRemainingError::OutOfRange(v.to_string()));
        }
        return Ok(MinRemaining::Fraction(n / 100.0));
    }
    crate::duration::parse(v)
        .map(MinRemaining::Fixed)
        .map_err(MinRemainingError::Duration)
}

#[cfg(test)]
mod tests;
