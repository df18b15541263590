//! The front binary: what Docker, podman, skopeo and friends exec.
//!
//! It links no AWS code, so the hot path of every `docker pull` (a cache hit) costs little
//! more than a process start: parse the host, read the config, compute the identity (the
//! AWS variables, a hash of the profile files), read the entry, print. It also answers
//! `store`, `erase`, `list` and `version`. Anything else (a cache miss, a Bazel request,
//! the human commands) is handed to the full binary `ecr-login` beside it, with the stdin
//! already read, so the caller sees one answer ([`crate::exec::run_in_our_place`]).

use crate::clock;
use crate::dispatch::{self, Binary};
use crate::error::Error;
use crate::exec::run_in_our_place;
use crate::frontends::{bazel, docker};
use crate::output::{self, Protocol};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// The full binary's name; it lives in the same directory as the front one.
pub const FULL: &str = "ecr-login";

/// The front binary's `main`.
pub fn front_main() -> ExitCode {
    dispatch::run(&Front, std::env::args_os().collect())
}

struct Front;

impl Binary for Front {
    fn get(&self, args: &[OsString], input: String) -> ExitCode {
        if bazel::is_request(&input) {
            return to_full(args, Some(input.as_bytes()));
        }
        docker::get(&input, None, clock::now_ms())
            .finish("get", &input, || to_full(args, Some(input.as_bytes())))
    }

    fn other(&self, args: Vec<OsString>) -> ExitCode {
        to_full(&args, None)
    }
}

/// The full binary beside this one. Never a bare name: looked up on `PATH` (or in the
/// current directory), a bare name would run whatever `ecr-login` another user put there.
pub fn full_path() -> std::io::Result<PathBuf> {
    let name = format!("{FULL}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe().map(|exe| exe.with_file_name(&name))
}

/// Hands the command to the full binary, same arguments and stdin.
fn to_full(args: &[OsString], stdin: Option<&[u8]>) -> ExitCode {
    let acting_as = crate::privilege::acting_as().map(|uid| uid.to_string());
    let env: Vec<(&str, &str)> = acting_as
        .iter()
        .map(|uid| (crate::privilege::ACTING_AS_ENV, uid.as_str()))
        .collect();
    let ran = full_path().and_then(|full| {
        run_in_our_place(&full, args.first(), &args[1.min(args.len())..], &env, stdin)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", full.display())))
    });
    match ran {
        Ok(code) => code,
        Err(e) => {
            let e = Error::Other(format!(
                "cannot run the full binary {FULL}: {e}; it is installed beside docker-credential-ecr-login (reinstall ecr-login)"
            ));
            let protocol = match dispatch::action(args) {
                dispatch::Action::Get => Protocol::Docker,
                _ => Protocol::Human,
            };
            output::finish(protocol, Err(e))
        }
    }
}
