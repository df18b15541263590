//! Who the SDK's default chain signs as, decided the way the chain decides, from the same
//! variables and files: environment keys, then the profile (if the files define it with
//! credentials), then web identity, then container credentials, then instance metadata.
//! The result is what an entry records and `status` shows, and the files the entry needs
//! to stay servable (an SSO session's token cache, which `aws sso logout` removes).

use aws_config::profile::{Profile, ProfileFileLoadError, ProfileSet};
use aws_types::os_shim_internal::{Env, Fs};
use ecr_login_core::identity::{self, Identity};
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};

/// Who signs, and what must stay in place for the token to be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signer {
    pub(crate) label: String,
    pub(crate) requires: Vec<PathBuf>,
}

/// How deep a `source_profile` chain is followed (the SDK refuses loops; we stop early).
const MAX_CHAIN: usize = 10;

/// Describes the source `identity` signs with, reading the profile files as the SDK does.
pub(crate) async fn describe(identity: &Identity, env: &Env) -> Signer {
    let plain = |label: String| Signer {
        label,
        requires: Vec::new(),
    };
    let aws = &identity.env;
    let suffix = identity.qualifiers.to_string();
    if identity.web_identity_token.is_some()
        || (!identity.profile_from_config && identity::env_key_id(aws).is_some())
    {
        return plain(identity.label.clone());
    }
    let name = aws.get("AWS_PROFILE").unwrap_or("default");
    let profiles = aws_config::profile::load(
        &Fs::real(),
        env,
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await;
    match &profiles {
        Ok(set) => {
            if let Some(kind) = set.get_profile(name).and_then(kind) {
                let home = env
                    .get("HOME")
                    .or_else(|_| env.get("USERPROFILE"))
                    .ok()
                    .map(PathBuf::from);
                let login_dir = env
                    .get("AWS_LOGIN_CACHE_DIRECTORY")
                    .ok()
                    .filter(|d| !d.is_empty())
                    .map(PathBuf::from);
                return Signer {
                    label: format!("profile:{name} ({kind}){suffix}"),
                    requires: session_files(set, name, home.as_deref(), login_dir.as_deref()),
                };
            }
        }
        Err(e) => return plain(format!("profile:{name} (unreadable: {}){suffix}", brief(e))),
    }
    if identity.profile_from_config {
        return plain(format!("profile:{name} (not found){suffix}"));
    }
    let label = identity::ambient_label(aws).unwrap_or_else(|| "instance-metadata".into());
    plain(format!("{label}{suffix}"))
}

fn brief(e: &ProfileFileLoadError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// What kind of credentials a profile holds, if any (the SDK skips a profile without).
fn kind(profile: &Profile) -> Option<&'static str> {
    let has = |k: &str| profile.get(k).is_some_and(|v| !v.trim().is_empty());
    Some(if has("role_arn") {
        "assume role"
    } else if has("sso_session") || has("sso_start_url") {
        "sso"
    } else if has("credential_process") {
        "credential_process"
    } else if has("web_identity_token_file") {
        "web identity"
    } else if has("login_session") {
        "console login"
    } else if has("aws_access_key_id") {
        "static keys"
    } else {
        return None;
    })
}

/// The session files of `name` and of the profiles its `source_profile` chain goes
/// through, which logging out removes: SSO token caches,
/// `~/.aws/sso/cache/<sha1 of the session name, or of the start URL>.json`, and `aws login`
/// caches, `~/.aws/login/cache/<sha256 of the login_session ARN>.json` (or under
/// `AWS_LOGIN_CACHE_DIRECTORY`), named as the SDK names them.
fn session_files(
    set: &ProfileSet,
    name: &str,
    home: Option<&Path>,
    login_dir: Option<&Path>,
) -> Vec<PathBuf> {
    let Some(home) = home else { return Vec::new() };
    let login_dir = login_dir.map_or_else(|| home.join(".aws/login/cache"), Path::to_path_buf);
    let mut files = Vec::new();
    let mut next = Some(name.to_string());
    for _ in 0..MAX_CHAIN {
        let Some(profile) = next.take().and_then(|n| set.get_profile(&n)) else {
            break;
        };
        let id = profile
            .get("sso_session")
            .or_else(|| profile.get("sso_start_url"));
        if let Some(id) = id {
            let digest: String = Sha1::digest(id.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            files.push(home.join(".aws/sso/cache").join(format!("{digest}.json")));
        }
        if let Some(session) = profile.get("login_session") {
            let digest: String = sha2::Sha256::digest(session.trim().as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            files.push(login_dir.join(format!("{digest}.json")));
        }
        next = profile
            .get("source_profile")
            .filter(|s| *s != profile.name())
            .map(str::to_string);
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &str) -> ProfileSet {
        let fs = Fs::from_slice(&[("/h/.aws/config", config)]);
        let env = Env::from_slice(&[("HOME", "/h")]);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(aws_config::profile::load(
                &fs,
                &env,
                &aws_runtime::env_config::file::EnvConfigFiles::default(),
                None,
            ))
            .unwrap()
    }

    /// The file names the AWS CLI and SDKs use, from the SDK's own test vectors.
    #[test]
    fn sso_token_files_follow_the_sdk_naming() {
        let s = set(
            "[profile dev]\nsso_session = admin\nsso_account_id = 1\nsso_role_name = r\n\n[sso-session admin]\nsso_start_url = https://x\nsso_region = us-east-1\n\n[profile chained]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = legacy\n\n[profile legacy]\nsso_start_url = https://d-92671207e4.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n\n[profile keys]\naws_access_key_id = AKIA\naws_secret_access_key = s\n",
        );
        let home = Path::new("/home/someuser");
        assert_eq!(
            session_files(&s, "dev", Some(home), None),
            [home.join(".aws/sso/cache/d033e22ae348aeb5660fc2140aec35850c4da997.json")]
        );
        assert_eq!(
            session_files(&s, "chained", Some(Path::new("/home/me")), None),
            [PathBuf::from(
                "/home/me/.aws/sso/cache/13f9d35043871d073ab260e020f0ffde092cb14b.json"
            )]
        );
        assert!(session_files(&s, "keys", Some(home), None).is_empty());
        assert_eq!(kind(s.get_profile("chained").unwrap()), Some("assume role"));
        assert_eq!(kind(s.get_profile("keys").unwrap()), Some("static keys"));
        // `aws login`: sha256 of the session ARN, as aws-config's login/cache.rs names it.
        let s = set(
            "[profile console]\nlogin_session = arn:aws:iam::123456789012:user/alice\nregion = us-east-1\n",
        );
        let want = format!(
            "{:x}.json",
            sha2::Sha256::digest(b"arn:aws:iam::123456789012:user/alice")
        );
        assert_eq!(
            session_files(&s, "console", Some(home), None),
            [home.join(".aws/login/cache").join(&want)]
        );
        assert_eq!(
            session_files(&s, "console", Some(home), Some(Path::new("/c"))),
            [Path::new("/c").join(want)]
        );
        assert_eq!(
            kind(s.get_profile("console").unwrap()),
            Some("console login")
        );
    }
}
