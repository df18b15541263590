//! The kubelet's `CredentialProviderConfig` (`kubelet.config.k8s.io/v1`), as the kubelet
//! reads and validates it, so `configure --kubelet` writes only what the kubelet accepts and
//! `doctor --kubelet` says what it would refuse or never match.
//!
//! Read from the kubelet itself (packaging/kubernetes/kubelet-research.md):
//! `pkg/credentialprovider/plugin/config.go` (`readCredentialProviderConfig`,
//! `validateCredentialProviderConfig`; Kubernetes 1.34-1.36) and `pkg/credentialprovider/
//! keyring.go` (`URLsMatch`). The config may be YAML or JSON; a directory (1.34+) is its
//! `*.json`, `*.yaml` and `*.yml` files in lexical order.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub(crate) const KIND: &str = "CredentialProviderConfig";
pub(crate) const CONFIG_API: &str = "kubelet.config.k8s.io/v1";
pub(crate) const PROVIDER_API_V1: &str = "credentialprovider.kubelet.k8s.io/v1";
/// The request versions the kubelet speaks (its `apiVersions` map in plugin.go).
pub(crate) const PROVIDER_APIS: [&str; 3] = [
    PROVIDER_API_V1,
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1alpha1",
];
/// The node provider's name: the front binary, as the packages install it.
pub(crate) const NODE_PROVIDER: &str = "docker-credential-ecr-login";
/// The service-account provider's name: a link to the same binary (one provider entry
/// cannot serve both modes, and the name is the executable's).
pub(crate) const SA_PROVIDER: &str = "docker-credential-ecr-login-sa";
/// The audience STS accepts for `AssumeRoleWithWebIdentity` from an EKS OIDC provider.
pub(crate) const AUDIENCE: &str = "sts.amazonaws.com";
/// What the kubelet keeps our answer when it carries no cacheDuration (ours always does).
pub(crate) const DEFAULT_CACHE: &str = "6h0m0s";
/// The drop-in `configure --kubelet` writes into a config directory.
pub(crate) const DROP_IN: &str = "ecr-login.json";
/// Where the providers keep the token cache (the kubelet's environment may have no HOME).
pub(crate) const NODE_CACHE_DIR: &str = "/var/cache/ecr-login";

/// Our providers: the node's, then with `service_account` the service account's, first so
/// that a workload's role wins (the kubelet tries providers' credentials in list order).
pub(crate) fn our_providers(
    service_account: bool,
    annotations: &[String],
    config_path: Option<&Path>,
) -> Vec<Value> {
    // The kubelet's environment may have no HOME: the cache is named (this shell's, when
    // set, else the node's).
    let cache = std::env::var("AWS_ECR_CACHE_DIR")
        .ok()
        .filter(|d| Path::new(d).is_absolute())
        .unwrap_or_else(|| NODE_CACHE_DIR.to_string());
    let mut env = vec![json!({"name": "AWS_ECR_CACHE_DIR", "value": cache})];
    if let Some(p) = config_path {
        env.push(json!({"name": "ECR_LOGIN_CONFIG", "value": p.display().to_string()}));
    }
    // A node profile (static keys, IAM Roles Anywhere through credential_process) as the
    // shell that configures names it: the kubelet's environment has no HOME to find ~/.aws.
    for var in [
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ] {
        if let Ok(value) = std::env::var(var).map(|v| v.trim().to_string())
            && !value.is_empty()
        {
            env.push(json!({"name": var, "value": value}));
        }
    }
    let match_images: Vec<String> = ecr_login_core::host::match_images()
        .into_iter()
        .map(|(pattern, _)| pattern)
        .collect();
    let provider = |name: &str| {
        json!({
            "name": name,
            "matchImages": match_images,
            "defaultCacheDuration": DEFAULT_CACHE,
            "apiVersion": PROVIDER_API_V1,
            "args": ["kubelet"],
            "env": env,
        })
    };
    let mut out = Vec::new();
    if service_account {
        let mut sa = provider(SA_PROVIDER);
        sa["tokenAttributes"] = json!({
            "serviceAccountTokenAudience": AUDIENCE,
            "cacheType": "ServiceAccount",
            "requireServiceAccount": false,
            "optionalServiceAccountAnnotationKeys": annotations,
        });
        out.push(sa);
    }
    out.push(provider(NODE_PROVIDER));
    out
}

/// Whether a provider entry is one of ours (by name: the kubelet's key for it).
pub(crate) fn is_ours(provider: &Value) -> bool {
    matches!(
        provider.get("name").and_then(Value::as_str),
        Some(NODE_PROVIDER | SA_PROVIDER)
    )
}

/// One file of the config, decoded (YAML or JSON).
#[derive(Debug, Clone)]
pub(crate) struct ConfigFile {
    pub(crate) path: PathBuf,
    pub(crate) value: Value,
}

/// Why the kubelet would not read the config.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("cannot read {}: {}", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
    #[error(
        "{} holds no .json, .yaml or .yml file (the kubelet refuses an empty directory)",
        .0.display()
    )]
    Empty(PathBuf),
    #[error("{} does not parse: {}", .0.display(), .1)]
    Decode(PathBuf, String),
}

/// Decodes one file's text, YAML or JSON (JSON is YAML).
pub(crate) fn decode(path: &Path, text: &str) -> Result<Value, ReadError> {
    serde_yaml_ng::from_str::<Value>(text)
        .map_err(|e| ReadError::Decode(path.to_path_buf(), e.to_string()))
}

/// The files the kubelet reads for `path`: the file, or a directory's `*.json`, `*.yaml`
/// and `*.yml` files (not subdirectories) in lexical order.
pub(crate) fn files(path: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let meta = std::fs::metadata(path).map_err(|e| ReadError::Io(path.to_path_buf(), e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| ReadError::Io(path.to_path_buf(), e))? {
        let entry = entry.map_err(|e| ReadError::Io(path.to_path_buf(), e))?;
        let p = entry.path();
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir && matches!(ext, "json" | "yaml" | "yml") {
            out.push(p);
        }
    }
    // Go's sort.Strings: byte order.
    out.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    if out.is_empty() {
        return Err(ReadError::Empty(path.to_path_buf()));
    }
    Ok(out)
}

/// Every file of the config at `path`, decoded.
pub(crate) fn read(path: &Path) -> Result<Vec<ConfigFile>, ReadError> {
    files(path)?
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| ReadError::Io(p.clone(), e))?;
            let value = decode(&p, &text)?;
            Ok(ConfigFile { path: p, value })
        })
        .collect()
}

/// The providers of every file, in the kubelet's order.
pub(crate) fn providers(files: &[ConfigFile]) -> Vec<(PathBuf, Value)> {
    files
        .iter()
        .flat_map(|f| {
            let list = f.value.get("providers").and_then(Value::as_array);
            list.into_iter()
                .flatten()
                .map(|p| (f.path.clone(), p.clone()))
        })
        .collect()
}

/// What the kubelet's validation (`validateCredentialProviderConfig` and the merge of a
/// directory) says about the config, with the gate for service account tokens on (the
/// default since 1.34): one line per problem; empty when it would start.
pub(crate) fn problems(files: &[ConfigFile]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let shown = f.path.display();
        if f.value.get("kind").and_then(Value::as_str) != Some(KIND) {
            out.push(format!("{shown}: kind must be {KIND}"));
        }
        let api = f
            .value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !api.starts_with("kubelet.config.k8s.io/") {
            out.push(format!(
                "{shown}: apiVersion must be {CONFIG_API} (got {api:?})"
            ));
        }
    }
    let all = providers(files);
    if all.is_empty() {
        out.push("providers: at least 1 item in plugins is required".into());
    }
    let mut seen = std::collections::HashSet::new();
    for (_, p) in &all {
        out.extend(provider_problems(p));
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        if !seen.insert(name.to_string()) {
            out.push(format!("duplicate provider name {name:?}"));
        }
    }
    out
}

/// The kubelet's rules for one provider entry.
pub(crate) fn provider_problems(p: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let name = p.get("name").and_then(Value::as_str).unwrap_or("");
    let at = |what: &str| format!("provider {name:?}: {what}");
    if name.is_empty() || name.contains('/') || name.contains(' ') || name == "." || name == ".." {
        out.push(at(
            "name must be a file name (no '/', no space, not . or ..)",
        ));
    }
    let api = p.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if !PROVIDER_APIS.contains(&api) {
        out.push(at(&format!(
            "apiVersion {api:?} is not one of {}",
            PROVIDER_APIS.join(", ")
        )));
    }
    let images = p.get("matchImages").and_then(Value::as_array);
    if images.is_none_or(|i| i.is_empty()) {
        out.push(at("matchImages: at least 1 item is required"));
    }
    match p.get("defaultCacheDuration").and_then(Value::as_str) {
        None => out.push(at("defaultCacheDuration is required")),
        Some(d) if d.starts_with('-') => out.push(at("defaultCacheDuration must be >= 0")),
        Some(_) => {}
    }
    let Some(t) = p.get("tokenAttributes") else {
        return out;
    };
    if api != PROVIDER_API_V1 {
        out.push(at(&format!(
            "tokenAttributes is only supported for {PROVIDER_API_V1} (this provider is {api})"
        )));
    }
    if t.get("serviceAccountTokenAudience")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.push(at(
            "tokenAttributes.serviceAccountTokenAudience is required",
        ));
    }
    let require = t.get("requireServiceAccount").and_then(Value::as_bool);
    if require.is_none() {
        out.push(at(
            "tokenAttributes.requireServiceAccount is required (true or false)",
        ));
    }
    match t.get("cacheType").and_then(Value::as_str) {
        Some("Token" | "ServiceAccount") => {}
        Some(other) => out.push(at(&format!(
            "tokenAttributes.cacheType {other:?} is not Token or ServiceAccount"
        ))),
        None => out.push(at(
            "tokenAttributes.cacheType is required (Token or ServiceAccount)",
        )),
    }
    let keys = |field: &str| -> Vec<String> {
        t.get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect()
    };
    let required = keys("requiredServiceAccountAnnotationKeys");
    let optional = keys("optionalServiceAccountAnnotationKeys");
    if require == Some(false) && !required.is_empty() {
        out.push(at(
            "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
        ));
    }
    for (field, list) in [("required", &required), ("optional", &optional)] {
        let mut seen = std::collections::HashSet::new();
        for k in list {
            if !seen.insert(k) {
                out.push(at(&format!("{field} annotation key {k:?} is repeated")));
            }
        }
    }
    for k in required.iter().filter(|k| optional.contains(k)) {
        out.push(at(&format!(
            "annotation key {k:?} cannot be both required and optional"
        )));
    }
    out
}

/// Why a `matchImages` entry can never match an ECR image, if it cannot: the kubelet
/// globs the domain only, label by label; a pattern's path is a literal prefix and its port
/// must equal the image's (`URLsMatch`).
pub(crate) fn dead_pattern(pattern: &str) -> Option<String> {
    let (authority, path) = pattern.split_once('/').unwrap_or((pattern, ""));
    if path.contains(['*', '?', '[']) {
        return Some(format!(
            "{pattern}: the path /{path} is matched literally, not as a glob: it never matches; drop it"
        ));
    }
    if let Some((_, port)) = authority.rsplit_once(':') {
        return Some(format!(
            "{pattern}: a port ({port}) matches only images written with that port, which ECR image names never are; drop it"
        ));
    }
    None
}

/// Whether `pattern` matches `host` (an image's registry, no port, no path) by the
/// kubelet's rule.
pub(crate) fn matches_host(pattern: &str, host: &str) -> bool {
    if pattern.contains(['/', ':']) {
        return false;
    }
    ecr_login_core::config::glob_match(&pattern.to_ascii_lowercase(), host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(value: Value) -> Vec<ConfigFile> {
        vec![ConfigFile {
            path: "config.json".into(),
            value,
        }]
    }

    /// What we write passes the kubelet's rules, in both modes.
    #[test]
    fn our_providers_pass_the_kubelets_rules() {
        for sa in [false, true] {
            let doc = json!({"apiVersion": CONFIG_API, "kind": KIND,
                "providers": our_providers(sa, &["eks.amazonaws.com/role-arn".into()], None)});
            assert_eq!(problems(&file(doc)), Vec::<String>::new());
        }
    }

    /// The kubelet's rules, one case each (config.go, validateCredentialProviderConfig).
    #[test]
    fn the_kubelets_rules() {
        let base = || our_providers(true, &["a.io/role".into()], None).remove(0);
        let with = |f: &dyn Fn(&mut Value)| {
            let mut p = base();
            f(&mut p);
            provider_problems(&p).join("; ")
        };
        for (change, needle) in [
            (
                &(|p: &mut Value| {
                    p["apiVersion"] = json!("credentialprovider.kubelet.k8s.io/v1beta1")
                }) as &dyn Fn(&mut Value),
                "tokenAttributes is only supported",
            ),
            (
                &|p: &mut Value| {
                    p["tokenAttributes"]
                        .as_object_mut()
                        .unwrap()
                        .remove("cacheType")
                        .map(drop)
                        .unwrap_or(())
                },
                "cacheType is required",
            ),
            (
                &|p: &mut Value| p["tokenAttributes"]["serviceAccountTokenAudience"] = json!(""),
                "serviceAccountTokenAudience is required",
            ),
            (
                &|p: &mut Value| {
                    p["tokenAttributes"]
                        .as_object_mut()
                        .unwrap()
                        .remove("requireServiceAccount")
                        .map(drop)
                        .unwrap_or(())
                },
                "requireServiceAccount is required",
            ),
            (
                &|p: &mut Value| {
                    p["tokenAttributes"]["requiredServiceAccountAnnotationKeys"] =
                        json!(["a.io/role"])
                },
                "cannot be false",
            ),
            (
                &|p: &mut Value| {
                    p["tokenAttributes"]["requireServiceAccount"] = json!(true);
                    p["tokenAttributes"]["requiredServiceAccountAnnotationKeys"] =
                        json!(["a.io/role"]);
                },
                "both required and optional",
            ),
            (
                &|p: &mut Value| p["name"] = json!("bin/x"),
                "name must be a file name",
            ),
            (&|p: &mut Value| p["matchImages"] = json!([]), "matchImages"),
            (
                &|p: &mut Value| {
                    p.as_object_mut()
                        .unwrap()
                        .remove("defaultCacheDuration")
                        .map(drop)
                        .unwrap_or(())
                },
                "defaultCacheDuration",
            ),
        ] {
            let got = with(change);
            assert!(got.contains(needle), "{needle}: {got}");
        }
    }

    #[test]
    fn dead_patterns() {
        for (pattern, dead) in [
            ("*.dkr.ecr.*.amazonaws.com/*", true),
            ("*.dkr.ecr.*.amazonaws.com:443", true),
            ("*.dkr.ecr.*.amazonaws.com", false),
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team", false),
        ] {
            assert_eq!(dead_pattern(pattern).is_some(), dead, "{pattern}");
        }
    }
}
