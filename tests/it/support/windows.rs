//! How a test runs a Windows `.exe`: itself on Windows, through wine elsewhere, or through
//! whatever `ECR_LOGIN_WINDOWS_RUNNER` names, so that a Windows machine or a CI job plugs in
//! without a test changing.
//!
//! - `ECR_LOGIN_WINDOWS_BIN`: the directory that holds the `.exe` files. `tests/windows/run.sh`
//!   sets it to its cross build; on Windows it defaults to cargo's build of these tests.
//! - `ECR_LOGIN_WINDOWS_RUNNER`: `native` (run the `.exe` itself), `wine`, or any program
//!   that runs `<program> <exe> <args>...` (a wrapper that copies to and runs on a Windows
//!   host, say). The default: `native` on Windows, `wine` elsewhere.

use super::harness::{FULL, Sandbox, spawn_with_input};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// How the `.exe` is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// The `.exe` itself: on Windows.
    Native,
    /// `<program> <exe> <args>...`: wine, or a runner of the CI's.
    Through(PathBuf),
}

/// Where the Windows binaries are, and how to start them.
pub struct Runner {
    launch: Launch,
    bin_dir: PathBuf,
}

/// What a runner needs from the test's environment (the sandbox clears the rest): wine's
/// prefix and its user.
const FOR_THE_RUNNER: &[&str] = &["WINEPREFIX", "WINEDEBUG", "USER"];

/// What a Windows process run natively needs back after the sandbox clears the
/// environment: without `SystemRoot`, Winsock cannot load its providers (wine supplies it
/// itself).
const FOR_WINDOWS: &[&str] = &["SystemRoot"];

impl Runner {
    /// The runner `ECR_LOGIN_WINDOWS_RUNNER` and `ECR_LOGIN_WINDOWS_BIN` describe.
    pub fn from_env() -> Runner {
        let launch = match std::env::var_os("ECR_LOGIN_WINDOWS_RUNNER") {
            Some(r) if r == "native" => Launch::Native,
            Some(r) if !r.is_empty() => Launch::Through(PathBuf::from(r)),
            _ if cfg!(windows) => Launch::Native,
            _ => Launch::Through(PathBuf::from("wine")),
        };
        let bin_dir = match std::env::var_os("ECR_LOGIN_WINDOWS_BIN") {
            Some(dir) => PathBuf::from(dir),
            None if cfg!(windows) => Path::new(FULL).parent().unwrap().to_path_buf(),
            None => panic!("ECR_LOGIN_WINDOWS_BIN: run tests/windows/run.sh"),
        };
        Runner { launch, bin_dir }
    }

    /// `name` (`docker-credential-ecr-login.exe`, say) in the Windows build.
    pub fn exe(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// `exe` with `args`, in the sandbox's environment.
    pub fn command(&self, s: &Sandbox, exe: &Path, args: &[&str]) -> Command {
        let (mut cmd, passed) = match &self.launch {
            Launch::Native => (s.command_of(exe, args), FOR_WINDOWS),
            Launch::Through(program) => {
                let mut all = vec![exe.to_str().expect("a UTF-8 path")];
                all.extend_from_slice(args);
                (s.command_of(program, &all), FOR_THE_RUNNER)
            }
        };
        for var in passed {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        cmd
    }

    /// [`Runner::command`], spawned, `stdin` fed from its own thread.
    pub fn spawn(&self, s: &Sandbox, exe: &Path, args: &[&str], stdin: &[u8]) -> Child {
        spawn_with_input(self.command(s, exe, args), stdin)
    }

    /// [`Runner::spawn`], waited for.
    pub fn run(&self, s: &Sandbox, exe: &Path, args: &[&str], stdin: &[u8]) -> Output {
        self.spawn(s, exe, args, stdin)
            .wait_with_output()
            .expect("wait for the Windows binary")
    }
}
