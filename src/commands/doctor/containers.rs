//! podman, skopeo and buildah (containers/image) read `credHelpers` and inline `auths` from
//! their auth files, first match wins: `$REGISTRY_AUTH_FILE` or
//! `$XDG_RUNTIME_DIR/containers/auth.json`, then `$XDG_CONFIG_HOME/containers/auth.json`,
//! then `~/.docker/config.json`. They ignore `credsStore`, so a registry that reaches us
//! only through it has no credentials there, unless `registries.conf` names ecr-login in
//! `credential-helpers`.

use super::docker::{HELPER, Reach, inline_login};
use super::json_file::{self, JsonFileError};
use super::report::Check;
use ecr_login_core::exec::lookup;
use serde_json::{Map, Value};
use std::path::PathBuf;

const TOOLS: [&str; 3] = ["podman", "skopeo", "buildah"];

/// One auth file as they read it.
struct AuthFile {
    path: PathBuf,
    helpers: Map<String, Value>,
    auths: Map<String, Value>,
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn home() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

/// Their auth files, in the order they read them.
fn auth_paths() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    match env_path("REGISTRY_AUTH_FILE") {
        Some(p) => paths.push(p),
        None => paths.extend(env_path("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json"))),
    }
    let config = env_path("XDG_CONFIG_HOME").or_else(|| home().map(|h| h.join(".config")));
    paths.extend(config.map(|d| d.join("containers/auth.json")));
    paths.extend(home().map(|h| h.join(".docker/config.json")));
    paths
}

fn read(path: PathBuf) -> Result<Option<AuthFile>, JsonFileError> {
    let Some(value) = json_file::read(&path)? else {
        return Ok(None);
    };
    let member = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    Ok(Some(AuthFile {
        helpers: member("credHelpers"),
        auths: member("auths"),
        path,
    }))
}

/// The `registries.conf` that names ecr-login in `credential-helpers`, if one does (the
/// user's replaces the system's; drop-ins add to either).
fn registries_conf() -> Option<PathBuf> {
    let user = env_path("XDG_CONFIG_HOME")
        .or_else(|| home().map(|h| h.join(".config")))
        .map(|d| d.join("containers/registries.conf"));
    let main = user
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/etc/containers/registries.conf"));
    let mut files = vec![main];
    if let Ok(dir) = std::fs::read_dir("/etc/containers/registries.conf.d") {
        let mut dropins: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        dropins.sort();
        files.extend(
            dropins
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "conf")),
        );
    }
    files.into_iter().find(|path| {
        let Ok(text) =
            ecr_login_core::files::read_text_limited(path, ecr_login_core::files::CONFIG_LIMIT)
        else {
            return false;
        };
        let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
            return false;
        };
        doc.get("credential-helpers")
            .and_then(|v| v.as_array())
            .is_some_and(|a| a.iter().any(|h| h.as_str() == Some(HELPER)))
    })
}

pub(crate) fn checks(servers: &[String], reach: &[Reach]) -> Vec<Check> {
    let tools: Vec<&str> = TOOLS
        .into_iter()
        .filter(|t| lookup::find_on_path(&format!("{t}{}", std::env::consts::EXE_SUFFIX)).is_some())
        .collect();
    if tools.is_empty() {
        return vec![Check::skip(
            "containers.route",
            "none of podman, skopeo, buildah is on PATH",
        )];
    }
    let mut out = Vec::new();
    let mut files = Vec::new();
    for path in auth_paths() {
        match read(path) {
            Ok(Some(file)) => files.push(file),
            Ok(None) => {}
            Err(e) => out
                .push(Check::warn("containers.file", e.to_string()).fix("fix or remove the file")),
        }
    }
    let conf = registries_conf();
    let who = tools.join(", ");
    for (server, reach) in servers.iter().zip(reach) {
        out.push(route(server, reach, &files, conf.as_ref(), &who).registry(server));
    }
    out
}

fn route(
    server: &str,
    reach: &Reach,
    files: &[AuthFile],
    conf: Option<&PathBuf>,
    who: &str,
) -> Check {
    let configure = format!(
        "docker-credential-ecr-login configure {server}   (adds credHelpers, which {who} read)"
    );
    for file in files {
        let shown = file.path.display();
        if let Some(helper) = file.helpers.get(server).and_then(Value::as_str) {
            return if helper == HELPER {
                Check::pass(
                    "containers.route",
                    format!("{server}: credHelpers in {shown} sends it to ecr-login"),
                )
            } else {
                Check::fail(
                    "containers.route",
                    format!(
                        "{server}: credHelpers in {shown} sends it to docker-credential-{helper}"
                    ),
                )
                .fix(configure)
            };
        }
        if let Some(key) = inline_login(&file.auths, server) {
            return Check::warn(
                "containers.route",
                format!("{server}: auths[\"{key}\"] in {shown} holds a login token, which {who} use before any helper (ECR tokens last 12 h)"),
            )
            .fix(format!("podman logout {server}   (or: skopeo logout {server})"));
        }
    }
    if let Some(conf) = conf {
        return Check::pass(
            "containers.route",
            format!(
                "{server}: credential-helpers in {} names ecr-login",
                conf.display()
            ),
        );
    }
    let detail = match reach {
        Reach::Store => format!(
            "{server} reaches ecr-login only through credsStore, which {who} ignore: they find no credentials for it"
        ),
        _ => format!("{server}: no credHelpers entry sends it to ecr-login in {who}'s auth files"),
    };
    Check::warn("containers.route", detail).fix(configure)
}
