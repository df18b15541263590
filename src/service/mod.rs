//! The renewal daemon as the operating system's per-user service: a systemd user unit on
//! Linux, a launchd agent on macOS, a scheduled task at logon on Windows.
//! `configure --service` installs the right one for the full binary's own path, and
//! `configure --remove --service` takes it out again.

mod common;
pub mod launchd;
pub mod schtasks;
pub mod systemd;

pub use common::{FileOp, ServiceError, carried_env};

#[cfg(target_os = "macos")]
use launchd as native;
#[cfg(windows)]
use schtasks as native;
#[cfg(not(any(target_os = "macos", windows)))]
use systemd as native;

use ecr_login_core::error::Error;
use std::path::PathBuf;

/// How to stop the daemon, for messages.
pub const STOP_HINT: &str = native::STOP_HINT;
/// How to start it, for messages.
pub const START_HINT: &str = native::START_HINT;

/// This binary's real path: the daemon the service runs is the full binary itself.
pub fn full_binary() -> Result<PathBuf, Error> {
    std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| ServiceError::OwnPath(e).into())
}

/// Installs (and where possible starts) the service, saying what it did in `out`.
pub fn install(out: &mut String) -> Result<(), Error> {
    native::install(out, &full_binary()?)
}

/// Stops and removes the service, if installed.
pub fn uninstall(out: &mut String) -> Result<(), Error> {
    native::uninstall(out)
}

/// Windows: gives up the console when it is ours alone (Task Scheduler made it for us), so
/// no window stays open; a console we share (someone ran `ecr-login daemon` by hand) stays.
#[cfg(windows)]
pub fn detach_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut processes = [0u32; 2];
    // SAFETY: the buffer and its length agree; FreeConsole has no preconditions.
    unsafe {
        if GetConsoleProcessList(processes.as_mut_ptr(), processes.len() as u32) == 1 {
            FreeConsole();
        }
    }
}
