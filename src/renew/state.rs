//! The daemon's claim on a cache directory (one daemon each) and what it tells `status`
//! (`daemon.json`, written atomically beside the entries).

use crate::error::CommandError;
use ecr_login_core::error::Error;
use ecr_login_core::files;
use ecr_login_core::lock::{self, LockGuard};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const LOCK_FILE: &str = "daemon.lock";
pub(crate) const STATE_FILE: &str = "daemon.json";

/// What `status` shows about a running daemon.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) pid: u32,
    pub(crate) started_at_ms: i64,
    pub(crate) last_renewal_ms: Option<i64>,
    pub(crate) warm: usize,
    pub(crate) next_renewal_ms: Option<i64>,
    pub(crate) failing: Vec<String>,
    /// What the daemon did about Docker's `credsStore` ([`super::desktop`]), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) store: Option<super::desktop::Report>,
}

impl State {
    pub(crate) fn read(cache_dir: &Path) -> Option<State> {
        use std::io::Read;
        let mut options = files::open_options(0o600);
        options.read(true);
        let mut text = Vec::new();
        files::open_vetted(&options, &cache_dir.join(STATE_FILE))
            .ok()?
            .take(64 * 1024)
            .read_to_end(&mut text)
            .ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub(crate) fn write(&self, cache_dir: &Path) -> std::io::Result<()> {
        let path = cache_dir.join(STATE_FILE);
        let mut body = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        body.push(b'\n');
        files::write_atomic(&path, &body, 0o600).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
        })
    }
}

/// Whether a daemon holds the lock for this cache dir.
pub(crate) fn is_running(cache_dir: &Path) -> bool {
    lock::is_held(&cache_dir.join(LOCK_FILE))
}

/// Takes the one-daemon-per-cache-dir lock, or says who has it.
pub(crate) fn claim(cache_dir: &Path) -> Result<LockGuard, Error> {
    match lock::try_exclusive(&cache_dir.join(LOCK_FILE)).map_err(Error::Lock)? {
        Some(guard) => Ok(guard),
        None => {
            let pid = State::read(cache_dir).map_or_else(|| "?".into(), |s| s.pid.to_string());
            Err(CommandError::AlreadyRunning {
                pid,
                dir: cache_dir.to_path_buf(),
                stop: crate::service::STOP_HINT,
            }
            .into())
        }
    }
}
