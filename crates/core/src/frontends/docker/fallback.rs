//! Registries that are not ECR, when ecr-login is Docker's `credsStore` (Docker sends it
//! every registry): handed byte for byte to another credential helper
//! (`[store] fallback = "pass"`), or kept in our own file store when none is named.
//!
//! Handing over means running `docker-credential-<name>` in our place with the same
//! action and stdin: its stdout, stderr and exit code are the caller's answer, so its
//! exact "credentials not found in native keychain" stays exact and clients go anonymous.

use super::file_store::{self, FileStore};
use super::protocol::Request;
use crate::exec::lookup;
use crate::frontends::error::Error;
use crate::frontends::output::{Reply, json_line};
use crate::frontends::store_error::StoreError;
use crate::token::config::Config;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where logins to other registries go.
#[derive(Debug, Clone)]
pub(crate) enum Fallback {
    /// `docker-credential-<name>`, at the path `configure --store` recorded, else on `PATH`.
    Helper {
        name: String,
        path: Option<PathBuf>,
        config: Option<PathBuf>,
    },
    Files {
        store: FileStore,
        config: Option<PathBuf>,
    },
    /// Root near the files of `uid`, who it could not become (`privilege::Settled::Limited`):
    /// nothing of theirs is read or written, so no login is found and none is kept.
    Nowhere { uid: u32 },
}

/// Set in the fallback helper's environment: a fallback that leads back to ecr-login (a
/// wrapper script, a link we did not recognise) is refused instead of running forever.
pub(crate) const DEPTH_ENV: &str = "ECR_LOGIN_FALLBACK_DEPTH";

impl Fallback {
    pub(crate) fn from_config(config: &Config) -> Result<Fallback, Error> {
        let path = config.path.clone();
        Ok(match &config.store.fallback {
            Some(name) => Fallback::Helper {
                name: name.clone(),
                path: config.store.fallback_path.clone(),
                config: path,
            },
            None => match crate::privilege::cannot_act_as() {
                Some(uid) => Fallback::Nowhere { uid },
                None => Fallback::Files {
                    store: FileStore::new(file_store::default_dir()?),
                    config: path,
                },
            },
        })
    }

    /// Answers a request for a registry that is not ours.
    pub(crate) fn answer(&self, request: &Request) -> Result<Reply, Error> {
        match self {
            Fallback::Helper { name, path, config } => {
                let program = program(name, path.as_deref(), config.as_deref())?;
                crate::hooks::point("fallback.checked", &program);
                let args = [OsString::from(request.action().name())];
                let env = [(DEPTH_ENV, "1")];
                crate::exec::run_in_our_place(
                    &program,
                    None,
                    &args,
                    &env,
                    Some(request.input().as_bytes()),
                )
                .map(|code| Reply::Answered(code.into()))
                .map_err(|source| {
                    StoreError::Run {
                        program,
                        error: source,
                    }
                    .into()
                })
            }
            Fallback::Files { store, config } => {
                files_answer(store, request, config.as_deref()).map(Reply::Answer)
            }
            Fallback::Nowhere { uid } => match request {
                Request::Get(_) => Err(Error::NotFound),
                Request::List => Ok(Reply::Answer(json_line(&BTreeMap::<String, String>::new()))),
                Request::Store { .. } | Request::Erase(_) => {
                    Err(crate::privilege::limited_error(*uid).into())
                }
            },
        }
    }

    /// The fallback's logins, as `list` answers: server to user name.
    pub(crate) fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        match self {
            Fallback::Helper { name, path, config } => {
                let program = program(name, path.as_deref(), config.as_deref())?;
                let child = Command::new(&program)
                    .arg("list")
                    .env(DEPTH_ENV, "1")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn();
                let run = |source| StoreError::Run {
                    program: program.clone(),
                    error: source,
                };
                let mut child = child.map_err(run)?;
                if let Some(mut pipe) = child.stdin.take() {
                    let _ = pipe.write_all(b"unused");
                }
                let out = child.wait_with_output().map_err(run)?;
                if !out.status.success() {
                    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
                    return Err(StoreError::ListFailed {
                        name: name.clone(),
                        said,
                    }
                    .into());
                }
                serde_json::from_slice(&out.stdout).map_err(|source| {
                    StoreError::ListNotJson {
                        name: name.clone(),
                        error: source,
                    }
                    .into()
                })
            }
            Fallback::Files { store, .. } => store.list(),
            Fallback::Nowhere { .. } => Ok(BTreeMap::new()),
        }
    }
}

/// The fallback helper to run: the recorded path, else `docker-credential-<name>` on
/// `PATH` (absolute entries only), and only when nobody else could have written it and it
/// is not ecr-login itself.
fn program(name: &str, recorded: Option<&Path>, config: Option<&Path>) -> Result<PathBuf, Error> {
    let refuse = |why: String| {
        Error::Store(StoreError::Untrusted {
            name: name.to_string(),
            why,
        })
    };
    if std::env::var_os(DEPTH_ENV).is_some() {
        return Err(refuse(
            "it handed the request back to ecr-login, which would run it again forever; set [store] fallback to another helper".into(),
        ));
    }
    let program = match recorded {
        Some(path) if lookup::is_executable_file(path) => path.to_path_buf(),
        Some(path) => {
            return Err(refuse(format!(
                "{} (recorded by configure --store) is gone or not executable; run: docker-credential-ecr-login configure --store",
                path.display()
            )));
        }
        None => find_helper(name).ok_or_else(|| missing(name, config))?,
    };
    let checked = lookup::check_trusted(&program).map_err(|e| refuse(e.to_string()))?;
    if is_ecr_login(&program) || is_ecr_login(&checked) {
        return Err(refuse(format!(
            "{} is ecr-login itself; set [store] fallback to another helper",
            program.display()
        )));
    }
    Ok(checked)
}

/// Whether `program` is one of our binaries: by name, in any letter case (a
/// case-insensitive filesystem), or by its real path.
fn is_ecr_login(program: &Path) -> bool {
    let ours = ["docker-credential-ecr-login", crate::exec::FULL];
    let stem = program
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if ours.iter().any(|o| stem.eq_ignore_ascii_case(o)) {
        return true;
    }
    let Ok(real) = std::fs::canonicalize(program) else {
        return false;
    };
    let Ok(exe) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return false;
    };
    real == exe
        || ours.iter().any(|o| {
            let sibling = exe.with_file_name(format!("{o}{}", std::env::consts::EXE_SUFFIX));
            std::fs::canonicalize(sibling).is_ok_and(|s| s == real)
        })
}

/// The file store's answer to a request, as a credential helper gives it.
fn files_answer(
    store: &FileStore,
    request: &Request,
    config: Option<&Path>,
) -> Result<Vec<u8>, Error> {
    match request {
        Request::Get(server) => match store.get(server.trim())? {
            Some(creds) => Ok(json_line(&creds)),
            None => Err(Error::NotFound),
        },
        Request::Store { login, .. } => store.store(login, config).map(|()| Vec::new()),
        Request::Erase(server) => store.erase(server.trim()).map(|_| Vec::new()),
        Request::List => store.list().map(|logins| json_line(&logins)),
    }
}

/// `docker-credential-<name>` on `PATH`, as Docker finds helpers: an executable file in an
/// absolute directory, never the current one.
pub fn find_helper(name: &str) -> Option<PathBuf> {
    lookup::find_on_path(&format!(
        "docker-credential-{name}{}",
        std::env::consts::EXE_SUFFIX
    ))
}

fn missing(name: &str, config: Option<&Path>) -> Error {
    Error::Store(StoreError::Missing {
        name: name.to_string(),
        config: config.map(Path::to_path_buf),
    })
}
