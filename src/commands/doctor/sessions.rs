//! The sessions behind a profile that expire or are logged out while everything else stays
//! in place: the SSO token cache (`aws sso login`), the `aws login` cache, and the MFA
//! session of a role that needs a code (`ecr-login login`). The files are the ones the
//! token path itself requires ([`crate::aws::source::describe`]), and the MFA session is
//! found as `get` finds it ([`crate::aws::mfa::find`]).

use super::json_file;
use super::report::Check;
use crate::aws::{mfa, sdk};
use aws_types::os_shim_internal::{Env, Fs};
use ecr_login_core::clock::rfc3339;
use ecr_login_core::duration::human;
use ecr_login_core::identity::Identity;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How deep a `source_profile` chain is followed for the fix's profile name.
const MAX_CHAIN: usize = 10;

/// `--profile P`, or nothing for the default profile (as the AWS CLI takes it).
pub(crate) fn flag(profile: &str) -> String {
    if profile == "default" {
        String::new()
    } else {
        format!(" --profile {profile}")
    }
}

/// The profiles of the chain from the one in effect, as (name, sso_session, has start URL,
/// has login_session), through `source_profile`.
async fn chain(identity: &Identity, env: &Env) -> Vec<(String, Option<String>, bool, bool)> {
    let Ok(set) = aws_config::profile::load(
        &Fs::real(),
        env,
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut next = Some(identity.profile.clone().unwrap_or_else(|| "default".into()));
    while let Some(name) = next.take() {
        let Some(p) = set.get_profile(&name) else {
            break;
        };
        let get = |k: &str| p.get(k).map(str::trim).filter(|v| !v.is_empty());
        out.push((
            name.clone(),
            get("sso_session").map(str::to_string),
            get("sso_start_url").is_some(),
            get("login_session").is_some(),
        ));
        next = get("source_profile")
            .filter(|s| *s != name)
            .map(str::to_string);
        if out.len() >= MAX_CHAIN {
            break;
        }
    }
    out
}

fn sso_fix(chain: &[(String, Option<String>, bool, bool)]) -> String {
    if let Some(session) = chain.iter().find_map(|(_, s, _, _)| s.clone()) {
        return format!("aws sso login --sso-session {session}");
    }
    let name = chain
        .iter()
        .find(|(_, _, url, _)| *url)
        .or(chain.first())
        .map_or("default", |(n, ..)| n.as_str());
    format!("aws sso login{}", flag(name))
}

fn login_fix(chain: &[(String, Option<String>, bool, bool)]) -> String {
    let name = chain
        .iter()
        .find(|(.., login)| *login)
        .or(chain.first())
        .map_or("default", |(n, ..)| n.as_str());
    format!("aws login{}", flag(name))
}

/// A string member of a JSON object (of its member `inner`, if given), if not empty.
fn field<'a>(doc: &'a Value, inner: Option<&str>, name: &str) -> Option<&'a str> {
    let v = match inner {
        Some(k) => doc.get(k)?,
        None => doc,
    };
    v.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(crate) fn checks(
    rt: &tokio::runtime::Runtime,
    identity: &Identity,
    env: &Env,
    requires: &[PathBuf],
    now: i64,
) -> Vec<Check> {
    let mut out = Vec::new();
    let chain = if requires.is_empty() {
        Vec::new()
    } else {
        rt.block_on(chain(identity, env))
    };
    for path in requires {
        let is_sso = path
            .parent()
            .is_some_and(|p| p.ends_with(Path::new("sso").join("cache")));
        out.push(if is_sso {
            sso(path, &chain, now)
        } else {
            login(path, &chain, now)
        });
    }
    if let Some(role) = rt.block_on(sdk::mfa_role(identity, env)) {
        let cache = ecr_login_core::cache::default_dir().ok().flatten();
        let home = env.get("HOME").ok().map(PathBuf::from);
        out.push(match mfa::find(&role, cache.as_deref(), home.as_deref(), now) {
            Some(s) => Check::pass(
                "registry.mfa",
                format!(
                    "the role {} needs an MFA code; session from {}, until {} (in {})",
                    role.role_arn,
                    if s.from_cli { "the AWS CLI's cache" } else { "ecr-login login" },
                    rfc3339(s.expires_at_ms),
                    human(s.expires_at_ms - now)
                ),
            ),
            None => Check::fail(
                "registry.mfa",
                format!(
                    "the role {} of profile \"{}\" needs an MFA code, and there is no MFA session for it (the helper never prompts: Docker has no terminal)",
                    role.role_arn, role.profile
                ),
            )
            .fix(format!("ecr-login login --profile {}", role.profile)),
        });
    }
    out
}

fn sso(path: &Path, chain: &[(String, Option<String>, bool, bool)], now: i64) -> Check {
    let fix = sso_fix(chain);
    let doc = match json_file::read(path) {
        Ok(Some(doc)) => doc,
        Ok(None) => {
            return Check::fail(
                "registry.sso",
                format!(
                    "no SSO session: its token cache {} is missing (never logged in, or aws sso logout)",
                    path.display()
                ),
            )
            .fix(fix);
        }
        Err(e) => return Check::warn("registry.sso", e.to_string()).fix(fix),
    };
    let expires = field(&doc, None, "expiresAt").and_then(mfa::parse_expiration);
    let refresh = field(&doc, None, "refreshToken").is_some();
    match expires {
        Some(at) if at <= now && refresh => Check::warn(
            "registry.sso",
            format!(
                "the SSO access token expired at {}; the SDK renews it with its refresh token while that lasts",
                rfc3339(at)
            ),
        )
        .fix(fix),
        Some(at) if at <= now => Check::fail(
            "registry.sso",
            format!(
                "the SSO session expired at {} ({} ago), and {} holds no refresh token",
                rfc3339(at),
                human(now - at),
                path.display()
            ),
        )
        .fix(fix),
        Some(at) => Check::pass(
            "registry.sso",
            format!("SSO session until {} (in {})", rfc3339(at), human(at - now)),
        ),
        None => Check::warn(
            "registry.sso",
            format!("{} has no expiresAt the AWS CLI would write", path.display()),
        )
        .fix(fix),
    }
}

fn login(path: &Path, chain: &[(String, Option<String>, bool, bool)], now: i64) -> Check {
    // A file we cannot read still names a session; only its expiry goes unsaid.
    let doc = match json_file::read(path) {
        Ok(Some(doc)) => Some(doc),
        Ok(None) => {
            return Check::fail(
                "registry.login",
                format!(
                    "the aws login (console) session is gone: {} is missing (aws logout)",
                    path.display()
                ),
            )
            .fix(login_fix(chain));
        }
        Err(_) => None,
    };
    let until = doc
        .as_ref()
        .and_then(|doc| field(doc, Some("accessToken"), "expiresAt"))
        .and_then(mfa::parse_expiration)
        .map_or_else(String::new, |at| {
            if at > now {
                format!(
                    "; credentials until {} (then refreshed through AWS Sign-In)",
                    rfc3339(at)
                )
            } else {
                "; its credentials are refreshed through AWS Sign-In".to_string()
            }
        });
    Check::pass(
        "registry.login",
        format!("aws login session in {}{until}", path.display()),
    )
}
