//! Where the files of other programs that we use live, found one way for every command:
//! `configure` edits Docker's config there, `doctor` reads it, the daemon repairs it, and
//! root's privilege decision looks at it before any of them runs.

use std::path::PathBuf;

/// Why a path cannot be found.
#[derive(Debug)]
pub struct NoHome {
    /// The variable that would name it instead.
    pub instead: &'static str,
}

impl std::fmt::Display for NoHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no home directory: set HOME or {}", self.instead)
    }
}

impl std::error::Error for NoHome {}

/// Docker's config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config() -> Result<PathBuf, NoHome> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let home = directories::BaseDirs::new().ok_or(NoHome {
        instead: "DOCKER_CONFIG",
    })?;
    Ok(home.home_dir().join(".docker").join("config.json"))
}
