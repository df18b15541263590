//! Windows: a scheduled task of the user's, started at their logon, running
//! `ecr-login.exe daemon` (which gives up the console Task Scheduler opens for it, so no
//! window stays), restarted when it fails, never stopped for running long or on battery.
//! Created from an XML definition with `schtasks /Create /XML`, which needs no
//! administrator rights for the user's own logon.
//!
//! The definition and the `schtasks` command lines are plain data, built (and tested) on
//! every platform; only Windows runs them.

use super::common::{FileOp, ServiceError, create_dir, quietly};
use ecr_login_core::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub(crate) const TASK: &str = "ecr-login";
pub(crate) const STOP_HINT: &str = "schtasks /End /TN ecr-login";
pub(crate) const START_HINT: &str = "docker-credential-ecr-login configure --service";

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The task's definition, for `user` (`DOMAIN\name`).
pub(crate) fn definition(exe: &Path, user: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Keeps ECR tokens fresh for docker-credential-ecr-login.</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Hidden>true</Hidden>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{exe}</Command>
      <Arguments>daemon</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        user = xml(user),
        exe = xml(&exe.display().to_string()),
    );
    out
}

/// UTF-16LE with a byte order mark: what `schtasks /XML` reads without complaint.
pub(crate) fn utf16(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

pub(crate) fn create_argv(xml_file: &Path) -> Vec<String> {
    vec![
        "/Create".into(),
        "/F".into(),
        "/TN".into(),
        TASK.into(),
        "/XML".into(),
        xml_file.display().to_string(),
    ]
}

pub(crate) fn run_argv() -> Vec<String> {
    vec!["/Run".into(), "/TN".into(), TASK.into()]
}

pub(crate) fn end_argv() -> Vec<String> {
    vec!["/End".into(), "/TN".into(), TASK.into()]
}

pub(crate) fn delete_argv() -> Vec<String> {
    vec!["/Delete".into(), "/F".into(), "/TN".into(), TASK.into()]
}

fn user() -> String {
    let var = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
    match (var("USERDOMAIN"), var("USERNAME")) {
        (Some(domain), Some(name)) => format!("{domain}\\{name}"),
        (None, Some(name)) => name,
        _ => String::new(),
    }
}

fn definition_file() -> Result<PathBuf, Error> {
    let dir = directories::ProjectDirs::from("", "", "ecr-login")
        .map(|d| d.data_local_dir().to_path_buf())
        .ok_or(ServiceError::NoHome {
            what: "profile directory for the task definition",
        })?;
    create_dir(&dir)?;
    Ok(dir.join("task.xml"))
}

/// Task Scheduler starts the task with the user's own environment variables, not this
/// shell's: a variable that decides where the daemon works must be set for the user, or
/// the daemon and the clients disagree (another cache, another config).
pub(crate) fn env_advice(env: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in env {
        let _ = writeln!(
            out,
            "the task sees only your user's environment variables: if {k} is set just in this \
             shell, set it for your user too (setx {k} \"{v}\"), then run configure --service again"
        );
    }
    out
}

pub(crate) fn install(out: &mut String, exe: &Path) -> Result<(), Error> {
    let file = definition_file()?;
    std::fs::write(&file, utf16(&definition(exe, &user())))
        .map_err(ServiceError::file(FileOp::Write, &file))?;
    if !quietly("schtasks", &create_argv(&file)) {
        return Err(ServiceError::Refused {
            run: format!(
                "schtasks could not create the task; run: schtasks {}",
                create_argv(&file).join(" ")
            ),
        }
        .into());
    }
    let _ = writeln!(out, "created the scheduled task {TASK}: runs at your logon");
    out.push_str(&env_advice(&super::common::carried_env()));
    quietly("schtasks", &end_argv());
    if quietly("schtasks", &run_argv()) {
        let _ = writeln!(out, "started it");
    }
    Ok(())
}

pub(crate) fn uninstall(out: &mut String) -> Result<(), Error> {
    quietly("schtasks", &end_argv());
    if quietly("schtasks", &delete_argv()) {
        let _ = writeln!(out, "deleted the scheduled task {TASK}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_runs_the_daemon_at_logon_hidden_and_unbounded() {
        let text = definition(
            Path::new(r"C:\Users\Me & Co\scoop\apps\ecr-login\current\ecr-login.exe"),
            r"WORK\me",
        );
        for want in [
            "<LogonTrigger>\n      <Enabled>true</Enabled>\n      <UserId>WORK\\me</UserId>",
            "<LogonType>InteractiveToken</LogonType>",
            "<RunLevel>LeastPrivilege</RunLevel>",
            "<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
            "<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>",
            "<Hidden>true</Hidden>",
            "<Command>C:\\Users\\Me &amp; Co\\scoop\\apps\\ecr-login\\current\\ecr-login.exe</Command>",
            "<Arguments>daemon</Arguments>",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
        let bytes = utf16("<T>");
        assert_eq!(bytes, [0xFF, 0xFE, b'<', 0, b'T', 0, b'>', 0]);
        assert_eq!(
            create_argv(Path::new(r"C:\t.xml")),
            ["/Create", "/F", "/TN", "ecr-login", "/XML", r"C:\t.xml"]
        );
        assert_eq!(delete_argv(), ["/Delete", "/F", "/TN", "ecr-login"]);
        assert_eq!(run_argv(), ["/Run", "/TN", "ecr-login"]);
    }

    #[test]
    fn variables_the_task_cannot_carry_are_named_with_the_fix() {
        assert_eq!(env_advice(&[]), "");
        let advice = env_advice(&[("AWS_ECR_CACHE_DIR".into(), r"D:\cache".into())]);
        assert!(
            advice.contains(r#"setx AWS_ECR_CACHE_DIR "D:\cache""#),
            "{advice}"
        );
    }
}
