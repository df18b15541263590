//! Registry host parsing: from whatever string a client sends to an ECR registry, or nothing.
//!
//! Clients send the server in many shapes (`host`, `host:443`, `https://host/repo`, …), and
//! handing an ECR token to a host that merely *contains* an ECR name would leak the user's
//! credentials, so the parser is strict about the host and lenient about the wrapping.

use std::fmt;

/// One way of writing a private ECR registry's host: `<account>.<service>.<region>.<suffix>`.
/// [`FORMS`] is the one list of them: the parser accepts these and nothing else, and the
/// kubelet's `matchImages` are generated from it ([`match_images`]), so the two cannot
/// drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostForm {
    /// The labels between the account and the region (`dkr.ecr`, `dkr-ecr-fips`, ...).
    pub(crate) service: &'static str,
    /// The partition's host suffix (`amazonaws.com`, `on.aws`, ...).
    pub(crate) suffix: &'static str,
    pub(crate) fips: bool,
    pub(crate) dual_stack: bool,
}

impl HostForm {
    /// The kubelet `matchImages` glob for this form: `*` for the account and the region
    /// (each one DNS label, as the kubelet's globs match label by label).
    pub(crate) fn pattern(&self) -> String {
        format!("*.{}.*.{}", self.service, self.suffix)
    }

    /// A registry host of this form, for checks and examples.
    pub(crate) fn example(&self, account: &str, region: &str) -> String {
        format!("{account}.{}.{region}.{}", self.service, self.suffix)
    }

    /// A region of this form's partition.
    fn example_region(&self) -> &'static str {
        REGION_PARTITIONS
            .iter()
            .find(|(_, suffix)| *suffix == self.suffix)
            .map_or("us-west-2", |(prefix, _)| match *prefix {
                "cn-" => "cn-north-1",
                "eusc-" => "eusc-de-east-1",
                "us-isob-" => "us-isob-east-1",
                "us-isof-" => "us-isof-east-1",
                "us-iso-" => "us-iso-east-1",
                _ => "eu-isoe-west-1",
            })
    }
}

/// Every private ECR host form, as AWS itself lists them for the kubelet (SPEC Part C;
/// amazon-eks-ami's nodeadm writes exactly these `matchImages`): commercial and FIPS,
/// dual-stack and its FIPS twin, China and its dual-stack, the EU sovereign cloud, the ISO
/// partitions.
pub(crate) const FORMS: &[HostForm] = &[
    // service, suffix, FIPS, dual-stack
    form("dkr.ecr", "amazonaws.com", false, false),
    form("dkr-ecr", "on.aws", false, true),
    form("dkr.ecr", "amazonaws.com.cn", false, false),
    form("dkr-ecr", "on.amazonwebservices.com.cn", false, true),
    form("dkr.ecr-fips", "amazonaws.com", true, false),
    form("dkr-ecr-fips", "on.aws", true, true),
    form("dkr.ecr", "c2s.ic.gov", false, false),
    form("dkr.ecr", "sc2s.sgov.gov", false, false),
    form("dkr.ecr", "cloud.adc-e.uk", false, false),
    form("dkr.ecr", "csp.hci.ic.gov", false, false),
    form("dkr.ecr", "amazonaws.eu", false, false),
];

const fn form(
    service: &'static str,
    suffix: &'static str,
    fips: bool,
    dual_stack: bool,
) -> HostForm {
    HostForm {
        service,
        suffix,
        fips,
        dual_stack,
    }
}

/// The kubelet's `matchImages` for every ECR registry, each with a registry host it is
/// there for: one glob per [`FORMS`] entry, then ECR Public's hosts.
pub fn match_images() -> Vec<(String, String)> {
    FORMS
        .iter()
        .map(|f| (f.pattern(), f.example("123456789012", f.example_region())))
        .chain(
            PUBLIC_HOSTS
                .iter()
                .map(|(h, _)| (h.to_string(), h.to_string())),
        )
        .collect()
}

/// The partition of a region, by the region's prefix, as its registry host suffix. Every
/// other region is in the commercial partition (`amazonaws.com`). Longer prefixes first.
const REGION_PARTITIONS: &[(&str, &str)] = &[
    ("cn-", "amazonaws.com.cn"),
    ("eusc-", "amazonaws.eu"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-isof-", "csp.hci.ic.gov"),
    ("us-iso-", "c2s.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk"),
];

/// ECR Public's registry hosts: (host, dual_stack).
pub(crate) const PUBLIC_HOSTS: &[(&str, bool)] =
    &[("public.ecr.aws", false), ("ecr-public.aws.com", true)];

/// The region that serves ECR Public's API.
pub(crate) const PUBLIC_REGION: &str = "us-east-1";

/// Why a server string is not a registry address. The input is quoted with its user
/// information redacted, and never at all where it came with user information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    UnsupportedScheme {
        shown: String,
    },
    /// `name:password@host`: only the host is named.
    UserInfo {
        host: String,
    },
    NoHost {
        shown: String,
    },
    InvalidHost {
        shown: String,
    },
    InvalidPort {
        authority: String,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::UnsupportedScheme { shown } => {
                write!(f, "unsupported URL scheme in {shown:?}")
            }
            HostError::UserInfo { host } => write!(
                f,
                "user information (name:password@) is not allowed in a registry address; give just {host:?}"
            ),
            HostError::NoHost { shown } => write!(f, "no registry host in {shown:?}"),
            HostError::InvalidHost { shown } => write!(f, "not a valid registry host: {shown:?}"),
            HostError::InvalidPort { authority } => write!(f, "not a valid port in {authority:?}"),
        }
    }
}

impl std::error::Error for HostError {}

/// A server string reduced to its authority: lower-case host and optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub host: String,
    pub port: Option<u16>,
}

impl Authority {
    /// Parses what a client sent: optional `http(s)://`, host, optional `:port`, optional path.
    /// Anything else (user info, other schemes, empty or odd hosts) is rejected.
    pub fn parse(server: &str) -> Result<Authority, HostError> {
        let s = server.trim();
        // Errors below may quote the input: never its user information.
        let shown = crate::redact::userinfo(s);
        let lower = s.to_ascii_lowercase();
        let rest = if let Some(r) = lower.strip_prefix("https://") {
            r
        } else if let Some(r) = lower.strip_prefix("http://") {
            r
        } else if lower.contains("://") {
            return Err(HostError::UnsupportedScheme { shown });
        } else {
            &lower
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if let Some(at) = authority.rfind('@') {
            // Not repeated whole: what precedes the `@` may be a password.
            return Err(HostError::UserInfo {
                host: authority[at + 1..].to_string(),
            });
        }
        let (host, port) = split_port(authority)?;
        if host.is_empty() {
            return Err(HostError::NoHost { shown });
        }
        let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        let is_ipv6 = host.starts_with('[') && host.ends_with(']');
        if !is_ipv6 && !host.chars().all(valid_char) {
            return Err(HostError::InvalidHost { shown });
        }
        Ok(Authority {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), HostError> {
    let bad_port = || HostError::InvalidPort {
        authority: authority.to_string(),
    };
    if authority.starts_with('[') {
        let close = authority.find(']').ok_or_else(bad_port)?;
        let (host, rest) = authority.split_at(close + 1);
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Ok((host, None)),
            Some(port) => Ok((host, Some(port.parse().map_err(|_| bad_port())?))),
            None => Err(bad_port()),
        };
    }
    match authority.rsplit_once(':') {
        None => Ok((authority, None)),
        Some((host, port)) => Ok((host, Some(port.parse().map_err(|_| bad_port())?))),
    }
}

/// An ECR registry: the thing a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registry {
    Private {
        account: String,
        region: String,
        fips: bool,
        dual_stack: bool,
        /// Canonical lower-case host, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`.
        host: String,
    },
    Public {
        dual_stack: bool,
        host: String,
    },
}

impl Registry {
    /// Recognises an ECR registry host (lower-case, without port). `None` for anything else.
    pub fn from_host(host: &str) -> Option<Registry> {
        let host = host.to_ascii_lowercase();
        if let Some(&(_, dual_stack)) = PUBLIC_HOSTS.iter().find(|(h, _)| *h == host) {
            return Some(Registry::Public { dual_stack, host });
        }
        let (account, region, form) = FORMS.iter().find_map(|form| {
            let rest = host.strip_suffix(form.suffix)?.strip_suffix('.')?;
            let (account, rest) = rest.split_once('.')?;
            let region = rest.strip_prefix(form.service)?.strip_prefix('.')?;
            Some((account, region, form))
        })?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !is_region(region) {
            return None;
        }
        Some(Registry::Private {
            account: account.to_string(),
            region: region.to_string(),
            fips: form.fips,
            dual_stack: form.dual_stack,
            host: host.clone(),
        })
    }

    /// The private registry of an account in a region, in the region's partition. `None`
    /// unless that makes a valid ECR host (a 12-digit account, a region-shaped region).
    pub fn private(account: &str, region: &str) -> Option<Registry> {
        let suffix = REGION_PARTITIONS
            .iter()
            .find(|(prefix, _)| region.starts_with(prefix))
            .map_or("amazonaws.com", |(_, suffix)| suffix);
        Registry::from_host(&format!("{account}.dkr.ecr.{region}.{suffix}"))
    }

    /// Recognises a server string as a client sends it (scheme, port and path allowed).
    pub fn parse(server: &str) -> Option<Registry> {
        Registry::from_host(&Authority::parse(server).ok()?.host)
    }

    pub fn host(&self) -> &str {
        match self {
            Registry::Private { host, .. } | Registry::Public { host, .. } => host,
        }
    }

    /// The region whose API issues this registry's tokens.
    pub fn region(&self) -> &str {
        match self {
            Registry::Private { region, .. } => region,
            Registry::Public { .. } => PUBLIC_REGION,
        }
    }

    pub fn is_public(&self) -> bool {
        matches!(self, Registry::Public { .. })
    }
}

/// Whether a label looks like an AWS region: a 2-4 letter prefix, one or more words, and
/// a number (`us-east-1`, `eusc-de-east-1`, `us-isob-east-1`, `us-gov-west-1`). Keeps
/// `123456789012.dkr.ecr.s3.amazonaws.com` (an S3 "region") from being a registry.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    parts.len() >= 3
        && (2..=4).contains(&parts[0].len())
        && parts[..parts.len() - 1].iter().all(lower)
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.host())
    }
}

#[cfg(test)]
mod tests;
