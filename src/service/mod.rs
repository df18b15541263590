//! The renewal daemon as the operating system's per-user service: a systemd user unit on
//! Linux. `configure --service` installs it for the full binary's own path.

pub mod systemd;

use ecr_login_core::error::Error;
use std::path::PathBuf;

/// How to stop the daemon, for messages.
pub const STOP_HINT: &str = "systemctl --user stop docker-credential-ecr-login";
/// How to start it, for messages.
pub const START_HINT: &str = "systemctl --user enable --now docker-credential-ecr-login";

/// This binary's real path: the daemon the service runs is the full binary itself.
pub fn full_binary() -> Result<PathBuf, Error> {
    std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Error::Other(format!("cannot find this binary's path: {e}")))
}

/// Installs (and where possible starts) the service, saying what it did in `out`.
pub fn install(out: &mut String) -> Result<(), Error> {
    systemd::install(out)
}
