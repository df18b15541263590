//! What decides the credential source, as text: the AWS SDK's variables (secrets hashed)
//! and, unless environment keys decide it alone, the config and credentials files in
//! effect, by path and a hash of their content (a few hundred bytes each: reading them
//! costs a few microseconds, and unlike timestamps a hash cannot miss an edit made in the
//! same clock tick). Two identities with the same text sign as the same principal; any
//! edit that could change the signer changes the text (over-splitting costs one fetch, a
//! collision would hand one identity's token to another).

use super::aws_env::AwsEnv;
use super::fingerprint::Key;
use std::fs;
use std::path::{Path, PathBuf};

use crate::env::is_secret_var;

/// Container authorization token files are small; a larger one is hashed in part.
const MAX_TOKEN_FILE: u64 = 64 * 1024;
/// Profile files beyond this are hashed in part (the SDK reads them whole; nobody keeps
/// megabytes of profiles).
const MAX_PROFILE_FILE: u64 = 1024 * 1024;

/// The access key ID when the SDK's environment provider, first in its chain, would use
/// environment keys: both the key ID and a secret key set and not blank.
pub fn env_key_id(vars: &AwsEnv) -> Option<&str> {
    let id = vars.get("AWS_ACCESS_KEY_ID")?;
    let secret = vars
        .get("AWS_SECRET_ACCESS_KEY")
        .or_else(|| vars.get("SECRET_ACCESS_KEY"));
    secret.map(|_| id)
}

/// The source the SDK's chain falls through to when neither keys nor a profile decide it:
/// web identity (a role and a token file) or a container endpoint; `None` past them.
pub fn ambient_label(vars: &AwsEnv) -> Option<String> {
    if let (Some(role), Some(_)) = (
        vars.get("AWS_ROLE_ARN"),
        vars.get("AWS_WEB_IDENTITY_TOKEN_FILE"),
    ) {
        return Some(format!("web-identity:{role}"));
    }
    vars.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .or_else(|| vars.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        .map(|uri| format!("container:{uri}"))
}

/// Variables that change how we reach AWS, never who signs: not part of an identity. The
/// CA bundle decides which certificates we trust on the way; a token fetched through any
/// trusted path is the same token, so a shell with `AWS_CA_BUNDLE` and a Docker without it
/// share one entry. (The variable is still recorded, so the daemon renews the same way.)
const NOT_IDENTITY: &[&str] = &["AWS_CA_BUNDLE"];

/// The variables, one `NAME=value;` each, secrets as a hash.
pub(crate) fn vars_text(vars: &AwsEnv, key: &Key) -> String {
    let mut out = String::new();
    for (name, value) in vars.all() {
        if NOT_IDENTITY.contains(&name.as_str()) {
            continue;
        }
        if is_secret_var(name) {
            out.push_str(&format!("{name}=#{};", key.fingerprint(value.as_bytes())));
        } else {
            out.push_str(&format!("{name}={value};"));
        }
    }
    out
}

/// The files the profile provider reads: `AWS_CONFIG_FILE` and
/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`.
pub(crate) fn profile_files(
    vars: &AwsEnv,
    home: Option<&Path>,
) -> [(&'static str, Option<PathBuf>); 2] {
    let file = |var: &str, default: &str| {
        let raw = vars
            .get(var)
            .map_or_else(|| format!("~/.aws/{default}"), str::to_string);
        expand_home(&raw, home)
    };
    [
        ("config", file("AWS_CONFIG_FILE", "config")),
        (
            "credentials",
            file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        ),
    ]
}

/// `~/x` with the home directory, as the SDK expands it; `None` when `~` cannot be
/// resolved (the SDK then reads nothing there either).
pub(crate) fn expand_home(path: &str, home: Option<&Path>) -> Option<PathBuf> {
    match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
            Some(home?.join(rest.trim_start_matches(['/', '\\'])))
        }
        _ => Some(PathBuf::from(path)),
    }
}

/// The files in effect and the container token, as text.
pub(crate) fn files_text(vars: &AwsEnv, home: Option<&Path>, key: &Key) -> String {
    let mut out = String::new();
    for (what, path) in profile_files(vars, home) {
        match path {
            Some(p) => out.push_str(&format!("{what}={}@{};", p.display(), fingerprint(&p, key))),
            None => out.push_str(&format!("{what}=~;")),
        }
    }
    // The token that proves which pod or task asks (EKS Pod Identity rotates the file; a
    // rotation costs one fetch).
    if let Some(path) = vars.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        let digest = match crate::files::read_limited(Path::new(path), MAX_TOKEN_FILE) {
            Ok(content) => key.fingerprint(&content),
            Err(e) => format!("{:?}", e.kind()),
        };
        out.push_str(&format!("container-token=#{digest};"));
    }
    // Which web identity signs: two subjects of one role are two identities (the role
    // may trust one and not the other). The claims, not the token: it rotates hourly.
    if let Some(path) = vars.get("AWS_WEB_IDENTITY_TOKEN_FILE") {
        out.push_str(&format!(
            "web-identity={};",
            web_identity_claims(Path::new(path))
        ));
    }
    // The instance metadata service answers for the machine it runs on: a home shared by
    // machines with different instance roles (NFS, a copied image) must not share tokens.
    if vars.get("AWS_EC2_METADATA_DISABLED") != Some("true") {
        out.push_str(&format!("machine={};", machine_facts(key)));
    }
    out
}

/// The unverified `iss`, `sub` and `aud` claims of the JWT in `path` (`?` for each one
/// that cannot be read).
pub(crate) fn web_identity_claims(path: &Path) -> String {
    use base64::Engine;
    let claims: Option<serde_json::Value> = crate::files::read_limited(path, MAX_TOKEN_FILE)
        .ok()
        .and_then(|token| {
            let text = std::str::from_utf8(&token).ok()?.trim();
            let payload = text.split('.').nth(1)?;
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()?;
            serde_json::from_slice(&bytes).ok()
        });
    let claim = |name: &str| match claims.as_ref().and_then(|c| c.get(name)) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(","),
        _ => "?".into(),
    };
    // `|` and `;` cannot appear unescaped: they separate fields of the key.
    let clean = |s: String| s.replace(['|', ';'], "_");
    format!(
        "iss:{}|sub:{}|aud:{}",
        clean(claim("iss")),
        clean(claim("sub")),
        clean(claim("aud"))
    )
}

/// What tells this machine from another, from local files alone: the machine id, and the
/// EC2 instance id where the platform shows it (Nitro's DMI asset tag, cloud-init's data).
fn machine_facts(key: &Key) -> String {
    let read = |p: &str| {
        fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let machine = read("/etc/machine-id").or_else(|| read("/var/lib/dbus/machine-id"));
    let instance = read("/sys/devices/virtual/dmi/id/board_asset_tag")
        .filter(|t| t.starts_with("i-"))
        .or_else(|| read("/var/lib/cloud/data/instance-id"));
    format!(
        "{}/{}",
        machine.map_or_else(|| "-".into(), |m| key.fingerprint(m.as_bytes())),
        instance.unwrap_or_else(|| "-".into())
    )
}

/// A keyed fingerprint of a file's content, as the SDK would read it; `-` when it is
/// missing. Keyed: `~/.aws/credentials` holds secret keys, and a bare hash of a templated
/// or low-entropy file (LocalStack's `test`) could be confirmed offline (issue 27). Read
/// bounded and without blocking: this is the hit path, and a FIFO here must not hang it
/// (the fetcher then names the file).
pub(crate) fn fingerprint(path: &Path, key: &Key) -> String {
    match crate::files::read_limited(path, MAX_PROFILE_FILE) {
        Ok(content) => key.fingerprint(&content),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "-".into(),
        Err(e) => format!("?{:?}", e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_is_expanded_like_the_sdk() {
        let home = Path::new("/home/u");
        assert_eq!(
            expand_home("~/.aws/config", Some(home)),
            Some(PathBuf::from("/home/u/.aws/config"))
        );
        assert_eq!(expand_home("~/x", None), None);
        assert_eq!(
            expand_home("/etc/aws", None),
            Some(PathBuf::from("/etc/aws"))
        );
        assert_eq!(
            expand_home("~user/x", Some(home)),
            Some(PathBuf::from("~user/x"))
        );
    }

    #[test]
    fn any_edit_changes_the_fingerprint() {
        let key = Key::ephemeral().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        assert_eq!(fingerprint(&path, &key), "-");
        fs::write(&path, "[default]\naws_access_key_id = AKIAONE\n").unwrap();
        let one = fingerprint(&path, &key);
        // Same size, same clock tick: the content still tells.
        fs::write(&path, "[default]\naws_access_key_id = AKIATWO\n").unwrap();
        let two = fingerprint(&path, &key);
        assert_ne!(one, two);
        // Put back: the same content is the same signer.
        fs::write(&path, "[default]\naws_access_key_id = AKIAONE\n").unwrap();
        assert_eq!(fingerprint(&path, &key), one);
    }
}
