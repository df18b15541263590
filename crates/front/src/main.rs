//! `docker-credential-ecr-login`: what Docker, podman, skopeo and friends exec.
//!
//! It is built from `ecr-login-core` alone, which has no AWS dependency, so the hot path of
//! every `docker pull` (a cache hit) costs little more than a process start: parse the host,
//! read the config, compute the identity (the AWS variables, a hash of the profile files),
//! read the entry, print. It also answers `store`, `erase`, `list` and `version`. A miss,
//! and anything that is not a protocol action (the human commands, `daemon`, `kubelet`), is
//! handed to the full binary `ecr-login` beside it, with the same arguments and the stdin
//! already read, so the caller sees one answer.

use ecr_login_core::dispatch::{self, Binary};
use ecr_login_core::error::Error;
use ecr_login_core::exec::{self, FULL};
use ecr_login_core::fetch::{FetchError, FetchRequest, Fetched, Fetcher};
use ecr_login_core::output::{self, Protocol};
use std::ffi::OsString;
use std::process::ExitCode;

mod arena;

/// A hit's allocations from one static region (see `arena`), not musl's allocator.
#[global_allocator]
static ALLOCATOR: arena::Arena<{ 256 * 1024 }> = arena::Arena::new();

fn main() -> ExitCode {
    dispatch::run(&Front, std::env::args_os().collect())
}

struct Front;

impl Binary for Front {
    fn fetcher<'a>(&'a self, args: &'a [OsString], input: &'a str) -> Box<dyn Fetcher + 'a> {
        Box::new(HandOff { args, input })
    }

    fn other(&self, args: Vec<OsString>) -> ExitCode {
        match to_full(&args, None) {
            Ok(code) => ExitCode::from(code),
            Err(e) => output::finish(Protocol::Human, Err(Error::Command(Box::new(e)))),
        }
    }

    /// Never: a process that switched users and then execs is dumpable again, and the
    /// user could read root's environment from `/proc`. The full binary switches itself.
    fn may_switch(&self) -> bool {
        false
    }
}

/// The front binary's fetcher: the request goes, as it came, to the full binary, which
/// fetches (under the entry's lock) and answers the client itself.
struct HandOff<'a> {
    args: &'a [OsString],
    input: &'a str,
}

impl Fetcher for HandOff<'_> {
    /// Returns only when the full binary could not be run: otherwise the process is the
    /// full binary's (Unix: replaced by it; Windows: exits with its exit code).
    fn fetch(&self, _: &FetchRequest) -> Result<Fetched, FetchError> {
        let code = to_full(self.args, Some(self.input.as_bytes()))?;
        std::process::exit(code.into())
    }

    fn hands_off(&self) -> bool {
        true
    }
}

/// Runs the full binary in our place with the same arguments and `stdin`; its exit code,
/// when it ran as a child.
fn to_full(args: &[OsString], stdin: Option<&[u8]>) -> Result<u8, FetchError> {
    let not_run = |detail: String| FetchError::HandOff {
        program: FULL.into(),
        detail,
    };
    let full = exec::full_path().map_err(|e| not_run(e.to_string()))?;
    exec::run_in_our_place(&full, args.first(), &args[1.min(args.len())..], &[], stdin)
        .map_err(|e| not_run(format!("{}: {e}", full.display())))
}
