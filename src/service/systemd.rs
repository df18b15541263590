//! The systemd user unit: the packaged one in `/usr/lib/systemd/user/`, or one that
//! `configure --service` writes for this binary's own path.

use super::common::{FileOp, ServiceError, create_dir};
use ecr_login_core::error::Error;
use ecr_login_core::files;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

pub(crate) const UNIT_NAME: &str = "docker-credential-ecr-login.service";
pub(crate) const STOP_HINT: &str = "systemctl --user stop docker-credential-ecr-login";
pub(crate) const START_HINT: &str = "systemctl --user enable --now docker-credential-ecr-login";
pub(crate) const UNIT_TEMPLATE: &str =
    include_str!("../../systemd/docker-credential-ecr-login.service");

/// The user unit for this binary's real path, with our environment carried over.
pub(crate) fn unit_text(exe: &Path) -> String {
    let mut unit = UNIT_TEMPLATE.replace(
        "/usr/bin/docker-credential-ecr-login",
        &exe.display().to_string(),
    );
    let mut env = String::new();
    for (var, v) in super::common::carried_env() {
        if !v.contains(['\n', '"']) {
            let _ = writeln!(env, "Environment=\"{var}={v}\"");
        }
    }
    if !env.is_empty() {
        unit = unit.replace("[Install]", &format!("{env}\n[Install]"));
    }
    unit
}

fn unit_path() -> Result<std::path::PathBuf, Error> {
    directories::BaseDirs::new()
        .map(|b| b.config_dir().join("systemd").join("user").join(UNIT_NAME))
        .ok_or(Error::from(ServiceError::NoHome {
            what: "home directory for the systemd user unit",
        }))
}

/// Installs the unit for this binary and enables it when `systemctl --user` works.
pub(crate) fn install(out: &mut String, exe: &Path) -> Result<(), Error> {
    let path = unit_path()?;
    let dir = path.parent().expect("the unit's directory");
    create_dir(dir)?;
    let text = unit_text(exe);
    if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        let _ = writeln!(out, "{}: already installed", path.display());
    } else {
        // The unit is not a secret: 0644 like every unit.
        files::write_atomic(&path, text.as_bytes(), 0o644)
            .map_err(ServiceError::file(FileOp::Write, &path))?;
        let _ = writeln!(out, "installed {}", path.display());
    }
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

fn systemctl(args: &[&str]) -> bool {
    let mut argv = vec!["--user".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    super::common::quietly("systemctl", &argv)
}

/// Stops and disables the unit `configure --service` installed, and removes it.
pub(crate) fn uninstall(out: &mut String) -> Result<(), Error> {
    let path = unit_path()?;
    if !path.exists() {
        return Ok(());
    }
    systemctl(&["disable", "--now", UNIT_NAME]);
    std::fs::remove_file(&path).map_err(ServiceError::file(FileOp::Remove, &path))?;
    systemctl(&["daemon-reload"]);
    let _ = writeln!(out, "stopped {UNIT_NAME} and removed {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: directives that break credential processes or need user namespaces in a
    /// user manager stay out of the unit.
    #[test]
    fn the_unit_keeps_out_what_breaks_a_user_manager_or_a_credential_process() {
        let directives: Vec<&str> = UNIT_TEMPLATE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .collect();
        for banned in [
            "MemoryDenyWriteExecute",
            "ProtectSystem",
            "PrivateTmp",
            "ProtectKernelTunables",
            "ProtectKernelModules",
            "ProtectControlGroups",
            "ReadWritePaths",
            "SystemCallArchitectures",
            "RestrictAddressFamilies",
            "NoNewPrivileges",
            "PrivateUsers",
            "After",
        ] {
            assert!(!directives.contains(&banned), "{banned}= is in the unit");
        }
        for kept in [
            "Type",
            "WatchdogSec",
            "UMask",
            "CacheDirectory",
            "RestrictSUIDSGID",
        ] {
            assert!(directives.contains(&kept), "{kept}= is missing");
        }
    }
}
