//! `configure`: point Docker's `credHelpers` at us, write per-registry profile and role
//! entries into our config, and install the systemd user unit.
//!
//! The Docker config is the user's file, shared with every other tool: we keep every key
//! and its order, write atomically with the file's own mode, refuse read-only files, and
//! say exactly what changed.

use crate::config::{self, Config};
use crate::error::Error;
use crate::host::Registry;
use crate::identity::{Identity, ProcessEnv};
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The `credHelpers` value that makes Docker exec `docker-credential-ecr-login`.
pub const HELPER: &str = "ecr-login";
pub const BINARY: &str = "docker-credential-ecr-login";
pub const UNIT_NAME: &str = "docker-credential-ecr-login.service";
pub const UNIT_TEMPLATE: &str = include_str!("../systemd/docker-credential-ecr-login.service");

/// What `configure` was asked to do: its command-line options.
pub type Request = crate::cli::ConfigureArgs;

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let home = directories::BaseDirs::new()
        .ok_or_else(|| Error::Other("no home directory: set HOME or DOCKER_CONFIG".into()))?;
    Ok(home.home_dir().join(".docker").join("config.json"))
}

/// The private registry host of an account in a region, in the region's partition.
pub fn account_host(account: &str, region: &str) -> Result<String, Error> {
    let suffix = [
        ("cn-", "amazonaws.com.cn"),
        ("eusc-", "amazonaws.eu"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("us-iso-", "c2s.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
    ]
    .iter()
    .find(|(p, _)| region.starts_with(p))
    .map_or("amazonaws.com", |(_, s)| s);
    let host = format!("{account}.dkr.ecr.{region}.{suffix}");
    Registry::from_host(&host)
        .map(|r| r.host().to_string())
        .ok_or_else(|| Error::Input(format!("--account {account} --region {region} is not a valid ECR registry (the account is 12 digits)")))
}

/// Adds (or with `remove`, takes out) `credHelpers` entries. Returns the new text and a
/// line per change; `None` text means nothing changed.
pub fn edit_docker_config(
    text: Option<&str>,
    hosts: &[String],
    remove: bool,
) -> Result<(Option<String>, Vec<String>), String> {
    let mut root: Value = match text.map(str::trim) {
        None | Some("") => Value::Object(Map::new()),
        Some(t) => serde_json::from_str(t)
            .map_err(|e| format!("is not valid JSON ({e}); fix or move it first"))?,
    };
    let obj = root
        .as_object_mut()
        .ok_or("is not a JSON object; fix or move it first")?;
    let helpers = obj
        .entry("credHelpers")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("has a credHelpers that is not an object; fix it first")?;
    let mut changes = Vec::new();
    if remove {
        let ours: Vec<String> = helpers
            .iter()
            .filter(|(h, v)| v.as_str() == Some(HELPER) && (hosts.is_empty() || hosts.contains(h)))
            .map(|(h, _)| h.clone())
            .collect();
        for h in ours {
            helpers.shift_remove(&h);
            changes.push(format!("removed credHelpers[\"{h}\"]"));
        }
    } else {
        for h in hosts {
            match helpers.get(h).and_then(Value::as_str) {
                Some(HELPER) => {}
                Some(other) => {
                    changes.push(format!("credHelpers[\"{h}\"]: \"{other}\" -> \"{HELPER}\""));
                    helpers.insert(h.clone(), Value::from(HELPER));
                }
                None => {
                    changes.push(format!("added credHelpers[\"{h}\"] = \"{HELPER}\""));
                    helpers.insert(h.clone(), Value::from(HELPER));
                }
            }
        }
    }
    if helpers.is_empty() {
        obj.shift_remove("credHelpers");
    }
    if changes.is_empty() {
        return Ok((None, changes));
    }
    // Docker writes its config tab-indented; so do we, to keep diffs small.
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&root, &mut ser).map_err(|e| e.to_string())?;
    out.push(b'\n');
    Ok((
        Some(String::from_utf8(out).map_err(|e| e.to_string())?),
        changes,
    ))
}

/// Sets `profile`/`role_arn`/`ecr` for each host in our TOML config, keeping comments.
pub fn edit_ecr_login_config(
    text: &str,
    hosts: &[String],
    profile: Option<&str>,
    role_arn: Option<&str>,
    ecr: Option<&str>,
) -> Result<(String, Vec<String>), String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let registries = doc
        .entry("registries")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or("`registries` is not a table")?;
    let mut changes = Vec::new();
    for host in hosts {
        let rule = registries
            .entry(host)
            .or_insert_with(toml_edit::table)
            .as_table_mut()
            .ok_or_else(|| format!("registries.\"{host}\" is not a table"))?;
        for (key, value) in [("profile", profile), ("role_arn", role_arn), ("ecr", ecr)] {
            let Some(value) = value else { continue };
            if rule.get(key).and_then(|v| v.as_str()) != Some(value) {
                rule[key] = toml_edit::value(value);
                changes.push(format!("registries.\"{host}\".{key} = \"{value}\""));
            }
        }
    }
    Ok((doc.to_string(), changes))
}

/// Writes `text` to `path` atomically, with the existing file's mode (new files: 0600).
/// A read-only file is refused: the user made it so on purpose.
pub fn write_preserving(path: &Path, text: &str) -> Result<(), String> {
    // Follow a symlinked config (dotfile managers) and replace its target, not the link.
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mode = match fs::metadata(&path) {
        Ok(m) if m.permissions().mode() & 0o200 == 0 => {
            return Err(format!(
                "{} is read-only (mode {:o}); make it writable or add the entries by hand",
                path.display(),
                m.permissions().mode() & 0o777
            ));
        }
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(_) => 0o600,
    };
    let dir = path.parent().ok_or("the config path has no directory")?;
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.ecr-login-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config"),
        std::process::id()
    ));
    let result = (|| {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

/// The hosts a request names, discovering the caller's default registry when none is given.
fn hosts(req: &Request) -> Result<Vec<String>, Error> {
    let mut hosts = Vec::new();
    for r in &req.registries {
        let authority = crate::host::Authority::parse(r).map_err(Error::Input)?;
        match Registry::from_host(&authority.host) {
            Some(reg) => hosts.push(reg.host().to_string()),
            None if req.ecr.is_some() || req.remove => hosts.push(authority.to_string()),
            None => {
                return Err(Error::Input(format!(
                    "{r} is not an ECR registry host; to use it as an alias of one, add --ecr <ECR host>"
                )));
            }
        }
    }
    if req.accounts.len() > 1 && req.regions.len() != req.accounts.len() && req.regions.len() != 1 {
        return Err(Error::Input(
            "give one --region for all --account values, or one per --account".into(),
        ));
    }
    for (i, account) in req.accounts.iter().enumerate() {
        let region = req
            .regions
            .get(i)
            .or(req.regions.first())
            .ok_or_else(|| Error::Input(format!("--account {account} needs a --region")))?;
        hosts.push(account_host(account, region)?);
    }
    if req.public {
        hosts.push("public.ecr.aws".into());
    }
    if hosts.is_empty() && !req.remove {
        hosts.push(discover(req)?);
    }
    hosts.dedup();
    Ok(hosts)
}

fn discover(req: &Request) -> Result<String, Error> {
    let rule = crate::config::RegistryRule {
        profile: req.profile.clone(),
        role_arn: req.role_arn.clone(),
        ..Default::default()
    };
    let identity = Identity::new(Some(&rule), &ProcessEnv);
    let timeout = Config::load().map_err(Error::Config)?.timeout;
    let rt = crate::ecr::runtime()?;
    let host = rt.block_on(async {
        let region = match req.regions.first() {
            Some(r) => r.clone(),
            None => {
                let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
                if let Some(p) = &identity.profile {
                    chain = chain.profile_name(p);
                }
                let found =
                    tokio::time::timeout(std::time::Duration::from_secs(3), chain.build().region())
                        .await
                        .ok()
                        .flatten();
                found
                    .map(|r| r.to_string())
                    .ok_or_else(|| Error::Input("no AWS region configured; pass --region".into()))?
            }
        };
        crate::ecr::default_registry(&identity, &region, timeout)
            .await
            .map_err(|m| Error::Fetch {
                registry: format!("the default registry in {region}"),
                message: m,
            })
    })?;
    Ok(host)
}

pub fn run(req: &Request) -> Result<String, Error> {
    let hosts = hosts(req)?;
    let mut out = String::new();
    if hosts.len() == 1
        && req.registries.is_empty()
        && req.accounts.is_empty()
        && !req.public
        && !req.remove
    {
        let _ = writeln!(out, "discovered your default registry: {}", hosts[0]);
    }
    let docker_path = docker_config_path()?;
    let current = match fs::read_to_string(&docker_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::Other(format!(
                "cannot read {}: {e}",
                docker_path.display()
            )));
        }
    };
    let (new_text, changes) = edit_docker_config(current.as_deref(), &hosts, req.remove)
        .map_err(|e| Error::Other(format!("{} {e}", docker_path.display())))?;
    report(&mut out, &docker_path, &changes, req.dry_run);
    if let Some(text) = &new_text {
        if req.dry_run {
            out.push_str(text);
        } else {
            write_preserving(&docker_path, text).map_err(Error::Other)?;
        }
    }
    if !req.remove && (req.profile.is_some() || req.role_arn.is_some() || req.ecr.is_some()) {
        configure_ecr_login(&mut out, &hosts, req)?;
    }
    if !req.remove {
        warnings(&mut out, current.as_deref());
    }
    if req.systemd && !req.dry_run {
        install_unit(&mut out)?;
    }
    Ok(out)
}

fn report(out: &mut String, path: &Path, changes: &[String], dry_run: bool) {
    if changes.is_empty() {
        let _ = writeln!(
            out,
            "{}: already configured, nothing changed",
            path.display()
        );
        return;
    }
    let verb = if dry_run {
        "would change (dry run)"
    } else {
        "changed"
    };
    let _ = writeln!(out, "{}: {verb}:", path.display());
    for c in changes {
        let _ = writeln!(out, "  {c}");
    }
}

fn configure_ecr_login(out: &mut String, hosts: &[String], req: &Request) -> Result<(), Error> {
    let path = config::default_path()
        .ok_or_else(|| Error::Other("no config directory: set ECR_LOGIN_CONFIG".into()))?;
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::Other(format!("cannot read {}: {e}", path.display()))),
    };
    let (new_text, changes) = edit_ecr_login_config(
        &text,
        hosts,
        req.profile.as_deref(),
        req.role_arn.as_deref(),
        req.ecr.as_deref(),
    )
    .map_err(|e| Error::Config(format!("config file {}: {e}", path.display())))?;
    // Never write a file we would refuse to load.
    Config::parse(&new_text, &path).map_err(Error::Config)?;
    report(out, &path, &changes, req.dry_run);
    if !changes.is_empty() {
        if req.dry_run {
            out.push_str(&new_text);
        } else {
            write_preserving(&path, &new_text).map_err(Error::Other)?;
        }
    }
    Ok(())
}

fn warnings(out: &mut String, docker_config: Option<&str>) {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(BINARY).is_file()));
    if !on_path {
        let _ = writeln!(
            out,
            "warning: {BINARY} is not on PATH, so Docker cannot exec it; install it into a PATH directory (e.g. cargo install --locked --path . or the .deb)"
        );
    }
    let store = docker_config
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| {
            v.get("credsStore")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    match store.as_deref() {
        Some(HELPER) => {
            let _ = writeln!(
                out,
                "warning: credsStore is \"{HELPER}\", so Docker sends every registry here and `docker login` to non-ECR registries is not kept; set credsStore back to your desktop store and rely on credHelpers"
            );
        }
        Some(other) => {
            let _ = writeln!(
                out,
                "note: credsStore \"{other}\" still stores other registries; these hosts now go to ecr-login (credHelpers wins), so remove stale ECR logins from it with `docker logout <host>` before this change if you want"
            );
        }
        None => {}
    }
}

/// The user unit for this binary's real path, with our environment carried over.
pub fn unit_text(exe: &Path) -> String {
    let mut unit = UNIT_TEMPLATE.replace(
        "/usr/bin/docker-credential-ecr-login",
        &exe.display().to_string(),
    );
    let mut env = String::new();
    for var in [
        "AWS_ECR_CACHE_DIR",
        config::CONFIG_ENV,
        "AWS_PROFILE",
        "AWS_REGION",
    ] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
            && !v.contains(['\n', '"'])
        {
            let _ = writeln!(env, "Environment=\"{var}={v}\"");
            if var == "AWS_ECR_CACHE_DIR" {
                let _ = writeln!(env, "ReadWritePaths=-{v}");
            }
        }
    }
    if !env.is_empty() {
        unit = unit.replace("[Install]", &format!("{env}\n[Install]"));
    }
    unit
}

fn install_unit(out: &mut String) -> Result<(), Error> {
    let exe = std::env::current_exe()
        .and_then(fs::canonicalize)
        .map_err(|e| Error::Other(format!("cannot find this binary's path: {e}")))?;
    let dir = directories::BaseDirs::new()
        .map(|b| b.config_dir().join("systemd").join("user"))
        .ok_or_else(|| Error::Other("no home directory for the systemd user unit".into()))?;
    let path = dir.join(UNIT_NAME);
    fs::create_dir_all(&dir)
        .map_err(|e| Error::Other(format!("cannot create {}: {e}", dir.display())))?;
    let text = unit_text(&exe);
    if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        let _ = writeln!(out, "{}: already installed", path.display());
    } else {
        // The unit is not a secret: 0644 like every unit.
        fs::write(&path, &text)
            .map_err(|e| Error::Other(format!("cannot write {}: {e}", path.display())))?;
        let _ = fs::set_permissions(&path, fs::Permissions::from_mode(0o644));
        let _ = writeln!(out, "installed {}", path.display());
    }
    let systemctl = |args: &[&str]| {
        std::process::Command::new("systemctl")
            .arg("--user")
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if systemctl(&["daemon-reload"]) && systemctl(&["enable", "--now", UNIT_NAME]) {
        let _ = writeln!(
            out,
            "enabled and started {UNIT_NAME}; logs: journalctl --user -u {UNIT_NAME} -f"
        );
    } else {
        let _ = writeln!(
            out,
            "systemctl --user is not available here; run these where it is:\n  systemctl --user daemon-reload\n  systemctl --user enable --now {UNIT_NAME}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_other_key_in_order() {
        let before = r#"{"auths":{"ghcr.io":{"auth":"eA=="}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"zzz":{"unknown":[1,2]},"aaa":true}"#;
        let hosts = vec!["123456789012.dkr.ecr.us-east-1.amazonaws.com".to_string()];
        let (after, changes) = edit_docker_config(Some(before), &hosts, false).unwrap();
        let after = after.unwrap();
        assert_eq!(changes.len(), 1);
        let v: Value = serde_json::from_str(&after).unwrap();
        assert_eq!(v["credHelpers"]["gcr.io"], "gcloud");
        assert_eq!(v["credHelpers"][&hosts[0]], "ecr-login");
        assert_eq!(v["zzz"]["unknown"][1], 2);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["auths", "credsStore", "credHelpers", "zzz", "aaa"]);
        // Idempotent.
        let (again, changes) = edit_docker_config(Some(&after), &hosts, false).unwrap();
        assert!(again.is_none() && changes.is_empty());
        // Remove takes out only our entries.
        let (removed, _) = edit_docker_config(Some(&after), &[], true).unwrap();
        let v: Value = serde_json::from_str(&removed.unwrap()).unwrap();
        assert_eq!(v["credHelpers"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn creates_from_nothing_and_refuses_garbage() {
        let hosts = vec!["public.ecr.aws".to_string()];
        let (text, _) = edit_docker_config(None, &hosts, false).unwrap();
        assert_eq!(
            text.unwrap(),
            "{\n\t\"credHelpers\": {\n\t\t\"public.ecr.aws\": \"ecr-login\"\n\t}\n}\n"
        );
        assert!(edit_docker_config(Some("[1]"), &hosts, false).is_err());
        assert!(edit_docker_config(Some("{oops"), &hosts, false).is_err());
    }

    #[test]
    fn account_hosts_follow_the_partition() {
        assert_eq!(
            account_host("123456789012", "cn-north-1").unwrap(),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            account_host("123456789012", "us-isob-east-1").unwrap(),
            "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"
        );
        assert_eq!(
            account_host("123456789012", "eu-west-1").unwrap(),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert!(account_host("1234", "eu-west-1").is_err());
    }

    #[test]
    fn toml_edits_keep_comments() {
        let before = "# mine\n[cache]\nmin_remaining = \"40%\" # keep\n";
        let (after, changes) = edit_ecr_login_config(
            before,
            &["127.0.0.1:5000".into()],
            Some("dev"),
            None,
            Some("123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        )
        .unwrap();
        assert_eq!(changes.len(), 2);
        assert!(
            after.starts_with("# mine\n[cache]\nmin_remaining = \"40%\" # keep\n"),
            "{after}"
        );
        let c = Config::parse(&after, Path::new("x")).unwrap();
        assert_eq!(
            c.rule_for("127.0.0.1:5000").unwrap().profile.as_deref(),
            Some("dev")
        );
    }
}
