//! `configure --store`: ecr-login as Docker's `credsStore`, so every ECR registry works
//! with no `credHelpers` entry, and the `credsStore` it replaces (Docker Desktop's
//! `desktop`, `osxkeychain`, `pass`…) kept as our fallback for every other registry; and
//! `configure --remove`, which puts that one back.

use super::docker_config::{DockerEditError, HELPER, parse};
use super::json_text::ObjectText;
use base64::Engine;
use ecr_login_core::docker::Credentials;
use ecr_login_core::docker::FileStore;
use ecr_login_core::error::Error;
use ecr_login_core::host::Registry;
use ecr_login_core::secret::Secret;
use serde_json::Value;

/// What switching Docker's config over found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Switch {
    pub(crate) text: Option<String>,
    pub(crate) changes: Vec<String>,
    /// The `credsStore` replaced: `Some("")` when there was none, `None` when ecr-login
    /// was already the store (nothing to record).
    pub(crate) previous: Option<String>,
}

fn current(doc: &ObjectText) -> Option<String> {
    doc.get("credsStore")
        .and_then(|raw| serde_json::from_str::<String>(raw).ok())
}

/// The `credsStore` a Docker config names, if any (and if the file parses).
pub(crate) fn value(text: &str) -> Option<String> {
    ObjectText::parse(text).ok().as_ref().and_then(current)
}

/// Sets `"credsStore": "ecr-login"`, every other byte untouched.
pub(crate) fn enable(text: Option<&str>) -> Result<Switch, DockerEditError> {
    let doc = parse(text)?;
    let previous = current(&doc);
    if previous.as_deref() == Some(HELPER) {
        return Ok(Switch::default());
    }
    // Checked before anything is written: a value we could not record as the fallback
    // would be lost once credsStore is switched.
    if let Some(p) = previous.as_deref().filter(|p| !p.is_empty()) {
        ecr_login_core::config::validate_helper_name(p).map_err(|why| {
            DockerEditError::UnkeepableStore {
                name: p.to_string(),
                why,
            }
        })?;
    }
    let after = doc.set("credsStore", &format!("\"{HELPER}\""))?;
    let change = match &previous {
        Some(p) => {
            format!("credsStore: \"{p}\" -> \"{HELPER}\" (\"{p}\" keeps every other registry)")
        }
        None => format!("added credsStore = \"{HELPER}\""),
    };
    Ok(Switch {
        text: Some(after.text().to_string()),
        changes: vec![change],
        previous: Some(previous.unwrap_or_default()),
    })
}

/// Puts back the `credsStore` that `enable` replaced (`""`: none), if ecr-login is it.
pub(crate) fn disable(text: Option<&str>, previous: &str) -> Result<Switch, DockerEditError> {
    let doc = parse(text)?;
    if current(&doc).as_deref() != Some(HELPER) {
        return Ok(Switch::default());
    }
    let (after, change) = if previous.is_empty() {
        (doc.remove("credsStore")?, "removed credsStore".to_string())
    } else {
        let raw = serde_json::to_string(previous)?;
        (
            doc.set("credsStore", &raw)?,
            format!("credsStore: \"{HELPER}\" -> \"{previous}\""),
        )
    };
    Ok(Switch {
        text: Some(after.text().to_string()),
        changes: vec![change],
        previous: None,
    })
}

/// A top-level member of the config that is an object (empty when it is not there).
fn object_member(text: Option<&str>, key: &str) -> serde_json::Map<String, Value> {
    match parse(text)
        .ok()
        .and_then(|doc| doc.get(key).map(serde_json::from_str))
    {
        Some(Ok(Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    }
}

/// `credHelpers` entries that send an ECR registry to us: with ecr-login as the store they
/// are redundant (harmless; podman and skopeo still read them).
pub(crate) fn redundant_helpers(text: Option<&str>) -> Vec<String> {
    object_member(text, "credHelpers")
        .iter()
        .filter(|(h, v)| v.as_str() == Some(HELPER) && Registry::parse(h).is_some())
        .map(|(h, _)| h.clone())
        .collect()
}

/// Logins kept inline in `auths` (Docker's store when there is no `credsStore`): with a
/// `credsStore`, Docker no longer reads them, so they move into our file store.
pub(crate) fn inline_logins(text: Option<&str>) -> Vec<Credentials> {
    object_member(text, "auths")
        .iter()
        .filter(|(server, _)| Registry::parse(server).is_none())
        .filter_map(|(server, entry)| {
            let auth = entry.get("auth")?.as_str()?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth)
                .ok()?;
            let (user, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
            Some(Credentials {
                server_url: server.clone(),
                username: user.to_string(),
                secret: Secret::new(secret),
            })
        })
        .collect()
}

/// Moves inline logins into our store; a line per login.
pub(crate) fn keep_inline_logins(
    store: &FileStore,
    logins: &[Credentials],
) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    for login in logins {
        if store.get(&login.server_url)?.is_none() {
            store.store(login, None)?;
            lines.push(format!(
                "kept the login to {} from auths in {} (Docker does not read auths with a credsStore)",
                login.server_url,
                store.dir().display()
            ));
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Docker Desktop's layout: `credsStore: desktop`, `credHelpers`, `auths`, unknown keys.
    const DESKTOP: &str = "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {}\n\t},\n\t\"credsStore\": \"desktop\",\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"123456789012.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\"\n\t},\n\t\"currentContext\": \"desktop-linux\",\n\t\"plugins\": {\"-x-cli-hints\": {\"enabled\": \"true\"}}\n}\n";

    #[test]
    fn from_docker_desktop_and_back_byte_for_byte() {
        let on = enable(Some(DESKTOP)).unwrap();
        assert_eq!(on.previous.as_deref(), Some("desktop"));
        let text = on.text.unwrap();
        assert_eq!(
            text,
            DESKTOP.replace(
                "\"credsStore\": \"desktop\"",
                "\"credsStore\": \"ecr-login\""
            )
        );
        // Idempotent: already the store, nothing to do or record.
        assert_eq!(enable(Some(&text)).unwrap(), Switch::default());
        let off = disable(Some(&text), "desktop").unwrap();
        assert_eq!(off.text.as_deref(), Some(DESKTOP));
        assert_eq!(
            redundant_helpers(Some(DESKTOP)),
            ["123456789012.dkr.ecr.us-east-1.amazonaws.com"]
        );
    }

    #[test]
    fn without_a_store_before_and_back() {
        let before =
            "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\"auth\": \"YWxpY2U6czNjcmV0\"}\n\t}\n}\n";
        let on = enable(Some(before)).unwrap();
        assert_eq!(on.previous.as_deref(), Some(""));
        let off = disable(on.text.as_deref(), "").unwrap();
        assert_eq!(off.text.as_deref(), Some(before));
        let logins = inline_logins(Some(before));
        assert_eq!(logins.len(), 1);
        assert_eq!(
            (logins[0].server_url.as_str(), logins[0].username.as_str()),
            ("ghcr.io", "alice")
        );
        assert_eq!(logins[0].secret.expose(), "s3cret");
        // Not ours to undo: another store set by hand since.
        let other = before.replace(
            "{\n\t\"auths\"",
            "{\n\t\"credsStore\": \"pass\",\n\t\"auths\"",
        );
        assert_eq!(disable(Some(&other), "").unwrap(), Switch::default());
    }
}
