//! `doctor --kubelet [CONFIG]`: the kubelet's side, one section. The kubelet reads its
//! `CredentialProviderConfig` once, at start, and says little when a pull goes without
//! credentials, so each way it goes wrong gets a line: the config does not parse or breaks
//! the kubelet's rules (tokenAttributes under v1beta1, a key both required and optional…),
//! our executable is missing from the bin directory or is not ours, an ECR host form has no
//! pattern (FIPS, dual-stack, China, ISO: amazon-eks-ami#2592), a pattern can never match
//! (a glob in the path, a port), the annotation keys differ from ours, the audience needs an
//! RBAC rule; and then one request through the configured executable, with its args and env,
//! as the kubelet would make it.
//!
//! The config and bin directory are the running kubelet's flags when one runs here (read
//! from /proc), else CONFIG and `--bin-dir`, else the usual places (EKS AL2023, kubeadm,
//! k3s and RKE2).

use super::binary::{self, Said};
use super::deadline::Deadline;
use super::process::{self, Ran};
use super::report::{Check, Group};
use crate::commands::configure::kubelet::rbac;
use crate::commands::provider_config::{self as pc, NODE_PROVIDER, SA_PROVIDER};
use ecr_login_core::config::{CONFIG_ENV, Config};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where distributions put the config and the bin directory, for when no kubelet runs here.
const USUAL: &[(&str, &str)] = &[
    (
        "/etc/eks/image-credential-provider/config.json",
        "/etc/eks/image-credential-provider",
    ),
    (
        "/var/lib/rancher/credentialprovider/config.yaml",
        "/var/lib/rancher/credentialprovider/bin",
    ),
    (
        "/etc/kubernetes/credential-provider-config.yaml",
        "/usr/bin",
    ),
];

/// How long the request through the provider may take (the kubelet allows a minute; doctor
/// answers within its own budget).
const REQUEST_LIMIT: Duration = Duration::from_secs(8);

/// What to check: the config and bin directory, and where they were found.
struct Where {
    config: PathBuf,
    bin_dir: Option<PathBuf>,
    from: &'static str,
}

pub(crate) fn group(
    config: Option<&Path>,
    bin_dir: Option<&Path>,
    image: Option<&str>,
    offline: bool,
    deadline: &Deadline,
) -> Group {
    Group {
        title: "Kubelet".into(),
        checks: checks(config, bin_dir, image, offline, deadline),
    }
}

fn checks(
    config: Option<&Path>,
    bin_dir: Option<&Path>,
    image: Option<&str>,
    offline: bool,
    deadline: &Deadline,
) -> Vec<Check> {
    let Some(at) = locate(config, bin_dir) else {
        return vec![
            Check::fail(
                "kubelet.config",
                "no kubelet runs here with --image-credential-provider-config, and none of the usual config files exists",
            )
            .fix("docker-credential-ecr-login doctor --kubelet <the kubelet's --image-credential-provider-config>"),
        ];
    };
    let bin_dir = at.bin_dir.as_deref();
    let files = match pc::read(&at.config) {
        Ok(files) => files,
        Err(e) => {
            let fix = configure_fix(&at.config, bin_dir, false);
            return vec![Check::fail("kubelet.config", e.to_string()).fix(fix)];
        }
    };
    let mut out = validation(&at, &files);
    let providers = pc::providers(&files);
    let ours: Vec<&Value> = providers
        .iter()
        .map(|(_, p)| p)
        .filter(|p| pc::is_ours(p))
        .collect();
    let Some(first) = ours.first() else {
        out.push(
            Check::fail(
                "kubelet.provider",
                format!("no provider named {NODE_PROVIDER} or {SA_PROVIDER}"),
            )
            .fix(configure_fix(&at.config, bin_dir, false)),
        );
        return out;
    };
    for p in &ours {
        out.push(executable(p, bin_dir, deadline));
        out.extend(patterns(p));
    }
    out.extend(annotations(&ours));
    out.extend(audience(&ours));
    out.push(request(first, bin_dir, image, offline, deadline));
    out
}

/// The config passes the kubelet's own validation, or each rule it breaks.
fn validation(at: &Where, files: &[pc::ConfigFile]) -> Vec<Check> {
    let problems = pc::problems(files);
    if problems.is_empty() {
        let detail = format!(
            "{} ({}): parses, and passes the kubelet's validation",
            at.config.display(),
            at.from
        );
        return vec![Check::pass("kubelet.config", detail)];
    }
    problems
        .into_iter()
        .map(|p| {
            Check::fail("kubelet.config", format!("the kubelet refuses it: {p}"))
                .fix("fix the entry; the kubelet does not start its providers until then")
        })
        .collect()
}

/// The RBAC rule a service-account provider's audience needs, which doctor cannot see.
fn audience(ours: &[&Value]) -> Option<Check> {
    let sa = ours.iter().find(|p| p.get("tokenAttributes").is_some())?;
    let audience = sa["tokenAttributes"]["serviceAccountTokenAudience"]
        .as_str()
        .unwrap_or("");
    Some(
        Check::warn(
            "kubelet.rbac",
            format!(
                "nodes must be allowed to request service account tokens for {audience} (ServiceAccountNodeAudienceRestriction, on since Kubernetes 1.33); doctor cannot see the cluster"
            ),
        )
        .fix(format!("kubectl apply -f - <<'EOF'\n{}EOF", rbac().replace(pc::AUDIENCE, audience))),
    )
}

/// The config and bin directory: given, else the running kubelet's, else the usual ones.
fn locate(config: Option<&Path>, bin_dir: Option<&Path>) -> Option<Where> {
    let flags = running_kubelet();
    if let Some(config) = config {
        let bin_dir = bin_dir
            .map(Path::to_path_buf)
            .or_else(|| flags.as_ref().and_then(|(_, b)| b.clone()));
        return Some(Where {
            config: config.to_path_buf(),
            bin_dir,
            from: "given",
        });
    }
    if let Some((Some(config), bin)) = flags {
        return Some(Where {
            config,
            bin_dir: bin_dir.map(Path::to_path_buf).or(bin),
            from: "the running kubelet's flag",
        });
    }
    USUAL
        .iter()
        .find(|(c, _)| Path::new(c).exists())
        .map(|(c, b)| Where {
            config: c.into(),
            bin_dir: Some(bin_dir.map_or_else(|| PathBuf::from(b), Path::to_path_buf)),
            from: "a usual place",
        })
}

/// The running kubelet's `--image-credential-provider-config` and `-bin-dir`, from
/// /proc/*/cmdline.
fn running_kubelet() -> Option<(Option<PathBuf>, Option<PathBuf>)> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_kubelet = args
            .first()
            .is_some_and(|a| Path::new(a).file_name().is_some_and(|n| n == "kubelet"));
        if !is_kubelet {
            continue;
        }
        let flag = |name: &str| -> Option<PathBuf> {
            let long = format!("--{name}");
            args.iter().enumerate().find_map(|(i, a)| {
                a.strip_prefix(&format!("{long}="))
                    .map(PathBuf::from)
                    .or_else(|| {
                        (a == &long)
                            .then(|| args.get(i + 1).map(PathBuf::from))
                            .flatten()
                    })
            })
        };
        return Some((
            flag("image-credential-provider-config"),
            flag("image-credential-provider-bin-dir"),
        ));
    }
    None
}

fn configure_fix(config: &Path, bin_dir: Option<&Path>, service_account: bool) -> String {
    format!(
        "ecr-login configure --kubelet --config {} --bin-dir {}{}",
        config.display(),
        bin_dir.map_or(
            "<the kubelet's --image-credential-provider-bin-dir>".into(),
            |b| b.display().to_string()
        ),
        if service_account {
            " --service-account"
        } else {
            ""
        }
    )
}

fn name(p: &Value) -> &str {
    p["name"].as_str().unwrap_or("")
}

/// Our executable in the bin directory: there, executable, ours (its `version` line), and
/// the full binary beside it (the front one hands every kubelet request to it).
fn executable(p: &Value, bin_dir: Option<&Path>, deadline: &Deadline) -> Check {
    let Some(dir) = bin_dir else {
        return Check::warn(
            "kubelet.binary",
            format!("{}: no bin directory to look in", name(p)),
        )
        .fix("docker-credential-ecr-login doctor --kubelet CONFIG --bin-dir <the kubelet's --image-credential-provider-bin-dir>");
    };
    let path = dir.join(name(p));
    if !ecr_login_core::exec::lookup::is_executable_file(&path) {
        return Check::fail(
            "kubelet.binary",
            format!(
                "{} is missing or not executable: the kubelet does not start at all",
                path.display()
            ),
        )
        .fix(configure_fix(
            &dir.join("<config>"),
            Some(dir),
            name(p) == SA_PROVIDER,
        ));
    }
    match binary::versions(std::slice::from_ref(&path), deadline).remove(0) {
        Said::Ours(v) => {
            let full = dir.join(ecr_login_core::exec::FULL);
            if ecr_login_core::exec::lookup::is_executable_file(&full) {
                Check::pass(
                    "kubelet.binary",
                    format!("{}: ecr-login {v}", path.display()),
                )
            } else {
                Check::fail(
                    "kubelet.binary",
                    format!(
                        "{} is ours, but {} is not beside it: every request fails",
                        path.display(),
                        full.display()
                    ),
                )
                .fix(format!("install ecr-login into {}", dir.display()))
            }
        }
        said => Check::fail(
            "kubelet.binary",
            format!("{}: {}", path.display(), said.describe()),
        ),
    }
}

/// Every ECR host form has a pattern; no pattern is dead.
fn patterns(p: &Value) -> Vec<Check> {
    let patterns: Vec<&str> = p["matchImages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = Vec::new();
    let missing: Vec<String> = ecr_login_core::host::match_images()
        .into_iter()
        .filter(|(_, host)| !patterns.iter().any(|pat| pc::matches_host(pat, host)))
        .map(|(pattern, _)| pattern)
        .collect();
    if missing.is_empty() {
        out.push(Check::pass(
            "kubelet.match",
            format!("{}: every ECR host form is matched", name(p)),
        ));
    } else {
        out.push(
            Check::fail(
                "kubelet.match",
                format!(
                    "{}: no pattern for {}: pulls from those registries go without credentials",
                    name(p),
                    missing.join(", ")
                ),
            )
            .fix("add them to matchImages (configure --kubelet writes them all)"),
        );
    }
    for dead in patterns.iter().filter_map(|pat| pc::dead_pattern(pat)) {
        out.push(Check::fail("kubelet.match", dead));
    }
    out
}

/// The annotation keys the service-account provider passes are the ones we look at.
fn annotations(ours: &[&Value]) -> Vec<Check> {
    let Some(sa) = ours.iter().find(|p| p.get("tokenAttributes").is_some()) else {
        return Vec::new();
    };
    let t = &sa["tokenAttributes"];
    let passed: Vec<String> = [
        "requiredServiceAccountAnnotationKeys",
        "optionalServiceAccountAnnotationKeys",
    ]
    .iter()
    .flat_map(|f| t[f].as_array().cloned().unwrap_or_default())
    .filter_map(|k| k.as_str().map(str::to_string))
    .collect();
    let config = provider_env(sa)
        .into_iter()
        .find(|(k, _)| k == CONFIG_ENV)
        .map(|(_, v)| PathBuf::from(v))
        .or_else(ecr_login_core::config::default_path);
    let wanted = match Config::load_from(config.as_deref()) {
        Ok(c) => c.kubelet.role_annotations,
        Err(e) => return vec![Check::fail("kubelet.annotations", e.to_string())],
    };
    let unseen: Vec<&String> = wanted.iter().filter(|k| !passed.contains(k)).collect();
    if unseen.is_empty() {
        vec![Check::pass(
            "kubelet.annotations",
            format!("{} passes {}", name(sa), wanted.join(", ")),
        )]
    } else {
        vec![
            Check::fail(
                "kubelet.annotations",
                format!(
                    "ecr-login reads {} but the kubelet does not pass {}: those roles are never used",
                    wanted.join(", "),
                    unseen
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .fix("add them to optionalServiceAccountAnnotationKeys (configure --kubelet --service-account writes them)"),
        ]
    }
}

fn provider_env(p: &Value) -> Vec<(String, String)> {
    p["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// One request as the kubelet makes it: the executable, its args, its env over ours, the
/// provider's apiVersion, an image (given, or the first configured ECR registry's).
fn request(
    p: &Value,
    bin_dir: Option<&Path>,
    image: Option<&str>,
    offline: bool,
    deadline: &Deadline,
) -> Check {
    if offline {
        return Check::skip("kubelet.request", "offline: no request made");
    }
    let Some(dir) = bin_dir else {
        return Check::skip("kubelet.request", "no bin directory");
    };
    let image = image.map(str::to_string).or_else(configured_image);
    let Some(image) = image else {
        return Check::skip("kubelet.request", "no image to ask for")
            .fix("docker-credential-ecr-login doctor --kubelet CONFIG --image <account>.dkr.ecr.<region>.amazonaws.com/<repository>");
    };
    let api = p["apiVersion"].as_str().unwrap_or(pc::PROVIDER_API_V1);
    let input = json!({"apiVersion": api, "kind": "CredentialProviderRequest", "image": image});
    let mut cmd = Command::new(dir.join(name(p)));
    for a in p["args"].as_array().into_iter().flatten() {
        cmd.arg(a.as_str().unwrap_or(""));
    }
    cmd.envs(provider_env(p));
    let limit = deadline.step(REQUEST_LIMIT);
    let started = Instant::now();
    match process::run(cmd, Some(input.to_string().as_bytes()), limit) {
        Ran::Exited {
            success: true,
            stdout,
            ..
        } => answer(p, &image, api, &stdout, started.elapsed()),
        Ran::Exited { stderr, .. } => Check::fail(
            "kubelet.request",
            format!(
                "{} refused {image}: {}",
                name(p),
                stderr.lines().last().unwrap_or("").trim()
            ),
        ),
        Ran::TimedOut => Check::fail(
            "kubelet.request",
            format!("{}: no answer within {} s", name(p), limit.as_secs()),
        ),
        Ran::Failed(e) => Check::fail("kubelet.request", format!("{}: {e}", name(p))),
    }
}

/// What the provider answered, as the kubelet would take it.
fn answer(p: &Value, image: &str, api: &str, stdout: &str, took: Duration) -> Check {
    let v: Value = serde_json::from_str(stdout).unwrap_or(Value::Null);
    let keys: Vec<String> = v["auth"]
        .as_object()
        .map(|a| a.keys().cloned().collect())
        .unwrap_or_default();
    if v["apiVersion"] != api || v["kind"] != "CredentialProviderResponse" || keys.is_empty() {
        return Check::fail(
            "kubelet.request",
            format!("{} answered something the kubelet cannot use", name(p)),
        );
    }
    Check::pass(
        "kubelet.request",
        format!(
            "{} answered for {image}: credentials for {}, cached {} ({} ms)",
            name(p),
            keys.join(", "),
            v["cacheDuration"].as_str().unwrap_or("by default"),
            took.as_millis()
        ),
    )
}

/// The first ECR registry the ecr-login config names (kept warm, or a registry rule).
fn configured_image() -> Option<String> {
    let config = Config::load().ok()?;
    let host = config
        .daemon
        .keep_warm
        .iter()
        .chain(config.registries.iter().map(|(h, _)| h))
        .find(|h| !h.contains('*'))?;
    Some(format!("{host}/ecr-login-doctor:probe"))
}
