//! Running another program in our place: its stdout, stderr and exit code become ours.
//! The front binary hands requests to the full one this way, and credsStore mode hands
//! other registries to the fallback helper. By `exec` on Unix; on Windows, which has no
//! `exec`, as a child whose exit code becomes ours.

pub mod lookup;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The full binary's name; it lives in the same directory as the front one.
pub const FULL: &str = "ecr-login";

/// The full binary beside this one. Never a bare name: looked up on `PATH` (or in the
/// current directory), a bare name would run whatever `ecr-login` another user put there.
pub fn full_path() -> std::io::Result<PathBuf> {
    let name = format!("{FULL}{}", std::env::consts::EXE_SUFFIX);
    let exe = std::env::current_exe().or_else(|e| {
        // Without /proc (a chroot, a minimal node) the kernel cannot say: the absolute path
        // we were started by (the kubelet runs `<bin-dir>/<name>`).
        std::env::args_os()
            .next()
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .ok_or(e)
    })?;
    Ok(exe.with_file_name(&name))
}

/// Runs `program` with `args` and the variables `env` added, in our place, `stdin` (already
/// read) as its standard input and `arg0` as what it sees as its own name (Unix; Windows
/// has no such thing). Returns only on failure (Unix, where it replaces this process) or
/// with the child's exit code (Windows, and Unix when the input is more than a pipe
/// holds), as the 8-bit code a shell sees.
pub fn run_in_our_place(
    program: &Path,
    arg0: Option<&OsString>,
    args: &[OsString],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> std::io::Result<u8> {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).envs(env.iter().copied());
    platform::run(cmd, arg0, stdin)
}
