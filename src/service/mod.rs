//! The renewal daemon as the operating system's per-user service: a systemd user unit on
//! Linux, a launchd agent on macOS, a scheduled task at logon on Windows.
//! `configure --service` installs the right one for the full binary's own path, and
//! `configure --remove --service` takes it out again.

mod common;
// Each manager's module is built on every platform, so that its unit tests (the files it
// writes, the commands it runs) run wherever the suite does; only the native one is called.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) mod launchd;
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) mod schtasks;
#[cfg_attr(any(target_os = "macos", windows), allow(dead_code))]
pub(crate) mod systemd;

pub(crate) use common::ServiceError;

#[cfg(target_os = "macos")]
use launchd as native;
#[cfg(windows)]
use schtasks as native;
#[cfg(not(any(target_os = "macos", windows)))]
use systemd as native;

use ecr_login_core::error::Error;
use std::path::PathBuf;

/// How to stop the daemon, for messages.
pub(crate) const STOP_HINT: &str = native::STOP_HINT;
/// How to start it, for messages.
pub(crate) const START_HINT: &str = native::START_HINT;

/// This binary's real path: the daemon the service runs is the full binary itself.
pub(crate) fn full_binary() -> Result<PathBuf, Error> {
    std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| ServiceError::OwnPath(e).into())
}

/// Installs (and where possible starts) the service, saying what it did in `out`.
pub(crate) fn install(out: &mut String) -> Result<(), Error> {
    native::install(out, &full_binary()?)
}

/// Stops and removes the service, if installed.
pub(crate) fn uninstall(out: &mut String) -> Result<(), Error> {
    native::uninstall(out)
}

/// Windows: gives up the console when it is ours alone (Task Scheduler made it for us), so
/// no window stays open; a console we share (someone ran `ecr-login daemon` by hand) stays.
#[cfg(windows)]
pub(crate) fn detach_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut processes = [0u32; 2];
    // SAFETY: the buffer and its length agree; FreeConsole has no preconditions.
    unsafe {
        if GetConsoleProcessList(processes.as_mut_ptr(), processes.len() as u32) == 1 {
            FreeConsole();
        }
    }
}
