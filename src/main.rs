//! `docker-credential-ecr-login`: what Docker, podman, skopeo and friends exec.
//!
//! This front binary links no AWS code, so the hot path of every `docker pull` (a cache
//! hit) costs little more than a process start: parse the host, compute the identity,
//! read one small file, print. It also answers `store`, `erase`, `list` and `version`.
//! Anything else (a cache miss, a Bazel request, the human commands) is handed to the full
//! binary `ecr-login` beside it by `exec`, with the already-read stdin on a pipe, so the
//! caller sees one process and one answer.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

use ecr_login::error::Error;
use ecr_login::{cli, helper, policy, protocol};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// The full binary's name; it lives in the same directory as this one.
const FULL: &str = "ecr-login";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let action = args.get(1).and_then(|a| a.to_str());
    match (action, args.len()) {
        (Some("get"), 2) => get(&args),
        (Some(a @ ("store" | "erase" | "list")), 2) => {
            helper::init_logging();
            helper::finish(helper::cache_action(a, policy::now_ms()))
        }
        (Some("version" | "--version" | "-v" | "-V"), 2) => {
            protocol::write_stdout(helper::version_line().as_bytes());
            ExitCode::SUCCESS
        }
        _ => exec_full(&args, None),
    }
}

/// A hit is answered here, quietly: anything worth a warning (an unsafe or corrupt cache)
/// is a miss, and the full binary says it once.
fn get(args: &[OsString]) -> ExitCode {
    let input = match protocol::read_stdin() {
        Ok(input) => input,
        Err(e) => {
            helper::report(&Error::Input(e));
            return ExitCode::FAILURE;
        }
    };
    match helper::get_cached(&input) {
        Ok(Some(reply)) => helper::finish(Ok(reply)),
        Ok(None) => exec_full(args, Some(input.as_bytes())),
        Err(e) => helper::finish(Err(e)),
    }
}

/// Replaces this process with the full binary, same arguments; `stdin` (at most 64 KiB,
/// which a pipe holds without a reader) becomes its standard input.
fn exec_full(args: &[OsString], stdin: Option<&[u8]>) -> ExitCode {
    let full = std::env::current_exe()
        .map(|exe| exe.with_file_name(FULL))
        .unwrap_or_else(|_| FULL.into());
    let mut cmd = std::process::Command::new(&full);
    cmd.args(args.iter().skip(1));
    if let Some(arg0) = args.first() {
        cmd.arg0(arg0);
    }
    if let Some(input) = stdin {
        match std::io::pipe().and_then(|(reader, mut writer)| {
            writer.write_all(input)?;
            Ok(reader)
        }) {
            Ok(reader) => {
                cmd.stdin(reader);
            }
            Err(e) => return fail(&format!("cannot pass standard input on: {e}")),
        }
    }
    let e = cmd.exec();
    fail(&format!(
        "cannot run {}: {e}; it is installed beside docker-credential-ecr-login (reinstall ecr-login)",
        full.display()
    ))
}

fn fail(message: &str) -> ExitCode {
    let e = Error::Other(message.to_string());
    if std::env::args().nth(1).as_deref() == Some("get") {
        helper::report(&e);
    } else {
        cli::eprint_error(message);
    }
    ExitCode::FAILURE
}
