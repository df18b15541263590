//! Where the files we use live, found one way for every command and for root's privilege
//! decision, which looks at all of them before anything runs: Docker's config, ours, the
//! token cache, the login store, and the home directory the AWS files hang off. From the
//! environment alone (this depends on nothing else of ours, so everything may depend on it).

use crate::env::Env;
use std::path::PathBuf;

/// Why a path cannot be found.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// No home directory, and the variable that would name the path instead is unset.
    #[error("no home directory: set HOME or {instead}")]
    NoHome { instead: &'static str },
    /// A `~` in a variable's value, and no home directory to expand it with.
    #[error("{var} starts with ~ but no home directory is set (HOME)")]
    TildeWithoutHome { var: &'static str },
}

/// The variable that names the cache directory.
pub(crate) const CACHE_ENV: &str = "AWS_ECR_CACHE_DIR";
/// The variable that names the login store's directory.
pub(crate) const STORE_ENV: &str = "ECR_LOGIN_STORE_DIR";
/// The variable that names our config file.
pub const CONFIG_ENV: &str = "ECR_LOGIN_CONFIG";

fn var(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "ecr-login")
}

/// The home directory as the SDK finds it (`HOME`, on Windows `USERPROFILE` or
/// `HOMEDRIVE` + `HOMEPATH`), for `~` in paths.
pub fn home_dir(env: &dyn Env) -> Option<PathBuf> {
    if let Some(home) = env.var("HOME") {
        return Some(home.into());
    }
    if cfg!(windows) {
        if let Some(home) = env.var("USERPROFILE") {
            return Some(home.into());
        }
        if let (Some(drive), Some(path)) = (env.var("HOMEDRIVE"), env.var("HOMEPATH")) {
            return Some(format!("{drive}{path}").into());
        }
    }
    None
}

/// Docker's config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config() -> Result<PathBuf, PathError> {
    if let Some(dir) = var("DOCKER_CONFIG") {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let home = directories::BaseDirs::new().ok_or(PathError::NoHome {
        instead: "DOCKER_CONFIG",
    })?;
    Ok(home.home_dir().join(".docker").join("config.json"))
}

/// The token cache: `AWS_ECR_CACHE_DIR` (a leading `~` expanded, as the Go helper does),
/// else the platform's cache directory; `None` when it is disabled
/// (`AWS_ECR_DISABLE_CACHE`).
pub fn cache_dir() -> Result<Option<PathBuf>, PathError> {
    if var("AWS_ECR_DISABLE_CACHE").is_some() {
        return Ok(None);
    }
    if let Some(dir) = var(CACHE_ENV) {
        let dir = PathBuf::from(dir);
        if let Ok(rest) = dir.strip_prefix("~") {
            let home = home_dir(&crate::env::ProcessEnv)
                .ok_or(PathError::TildeWithoutHome { var: CACHE_ENV })?;
            return Ok(Some(home.join(rest)));
        }
        return Ok(Some(dir));
    }
    project()
        .map(|d| Some(d.cache_dir().to_path_buf()))
        .ok_or(PathError::NoHome { instead: CACHE_ENV })
}

/// The login store: `ECR_LOGIN_STORE_DIR`, else the platform's local data directory:
/// `~/.local/share/ecr-login/logins`, `~/Library/Application Support/ecr-login/logins`,
/// `%LOCALAPPDATA%\ecr-login\data\logins`.
pub(crate) fn store_dir() -> Result<PathBuf, PathError> {
    if let Some(dir) = var(STORE_ENV) {
        return Ok(PathBuf::from(dir));
    }
    project()
        .map(|d| d.data_local_dir().join("logins"))
        .ok_or(PathError::NoHome { instead: STORE_ENV })
}

/// Our config file: `ECR_LOGIN_CONFIG`, else the platform's config directory.
pub fn config_file() -> Option<PathBuf> {
    if let Some(p) = var(CONFIG_ENV) {
        return Some(PathBuf::from(p));
    }
    Some(project()?.config_dir().join("config.toml"))
}
