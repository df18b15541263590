//! Registries that are not ECR, when ecr-login is Docker's `credsStore` (Docker sends it
//! every registry): handed byte for byte to another credential helper
//! (`[store] fallback = "pass"`), or kept in our own file store when none is named.
//!
//! Handing over means running `docker-credential-<name>` in our place with the same
//! action and stdin: its stdout, stderr and exit code are the caller's answer, so its
//! exact "credentials not found in native keychain" stays exact and clients go anonymous.

use super::file_store::{self, FileStore};
use super::protocol::Credentials;
use crate::error::Error;
use crate::output::{self, Protocol, json_line};
use crate::token::config::Config;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Where logins to other registries go.
#[derive(Debug, Clone)]
pub enum Fallback {
    /// `docker-credential-<name>`.
    Helper {
        name: String,
        config: Option<PathBuf>,
    },
    Files {
        store: FileStore,
        config: Option<PathBuf>,
    },
}

impl Fallback {
    pub fn from_config(config: &Config) -> Result<Fallback, Error> {
        let path = config.path.clone();
        Ok(match &config.store.fallback {
            Some(name) => Fallback::Helper {
                name: name.clone(),
                config: path,
            },
            None => Fallback::Files {
                store: FileStore::new(file_store::default_dir()?),
                config: path,
            },
        })
    }

    /// Answers a protocol action (`get`, `store`, `erase`) whose stdin was `input`.
    pub fn answer(&self, action: &str, input: &str) -> ExitCode {
        match self {
            Fallback::Helper { name, config } => {
                let Some(program) = find_helper(name) else {
                    return output::finish(Protocol::Docker, Err(missing(name, config.as_deref())));
                };
                let args = [OsString::from(action)];
                match crate::exec::run_in_our_place(&program, None, &args, Some(input.as_bytes())) {
                    Ok(code) => code,
                    Err(e) => output::finish(
                        Protocol::Docker,
                        Err(Error::Other(format!(
                            "cannot run the fallback credential helper {}: {e}",
                            program.display()
                        ))),
                    ),
                }
            }
            Fallback::Files { store, config } => output::finish(
                Protocol::Docker,
                files_answer(store, action, input, config.as_deref()),
            ),
        }
    }

    /// The fallback's logins, as `list` answers: server to user name.
    pub fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        match self {
            Fallback::Helper { name, config } => {
                let program = find_helper(name).ok_or_else(|| missing(name, config.as_deref()))?;
                let mut child = Command::new(&program)
                    .arg("list")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| Error::Other(format!("cannot run {}: {e}", program.display())))?;
                if let Some(mut pipe) = child.stdin.take() {
                    let _ = pipe.write_all(b"unused");
                }
                let out = child
                    .wait_with_output()
                    .map_err(|e| Error::Other(format!("{}: {e}", program.display())))?;
                if !out.status.success() {
                    let said = String::from_utf8_lossy(&out.stdout);
                    return Err(Error::Other(format!(
                        "docker-credential-{name} list failed: {}",
                        said.trim()
                    )));
                }
                serde_json::from_slice(&out.stdout).map_err(|e| {
                    Error::Other(format!(
                        "docker-credential-{name} list answered no JSON map: {e}"
                    ))
                })
            }
            Fallback::Files { store, .. } => store.list(),
        }
    }
}

/// The file store's answer to a protocol action, as a credential helper gives it.
fn files_answer(
    store: &FileStore,
    action: &str,
    input: &str,
    config: Option<&Path>,
) -> Result<Vec<u8>, Error> {
    match action {
        "get" => match store.get(input.trim())? {
            Some(creds) => Ok(json_line(&creds)),
            None => Err(Error::NotFound),
        },
        "store" => {
            let creds = parse_store(input)?;
            store.store(&creds, config).map(|()| Vec::new())
        }
        _ => store.erase(input.trim()).map(|_| Vec::new()),
    }
}

/// `store`'s stdin, checked as Docker's own helpers check it.
pub fn parse_store(input: &str) -> Result<Credentials, Error> {
    let creds: Credentials = serde_json::from_str(input.trim()).map_err(|e| {
        Error::Input(format!(
            "store expects {{\"ServerURL\":…,\"Username\":…,\"Secret\":…}} on standard input: {e}"
        ))
    })?;
    if creds.server_url.trim().is_empty() {
        return Err(Error::Input("no credentials server URL".into()));
    }
    if creds.username.is_empty() {
        return Err(Error::Input("no credentials username".into()));
    }
    Ok(creds)
}

/// `docker-credential-<name>` on `PATH`, as Docker finds helpers.
pub fn find_helper(name: &str) -> Option<PathBuf> {
    let file = format!("docker-credential-{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&file))
        .find(|p| p.is_file())
}

fn missing(name: &str, config: Option<&Path>) -> Error {
    Error::Other(format!(
        "the fallback credential helper docker-credential-{name} is not on PATH ([store] fallback = \"{name}\" in {}); install it, or remove that setting to keep logins in ecr-login's own store",
        config.map_or_else(
            || "the ecr-login config".into(),
            |p| p.display().to_string()
        )
    ))
}
