//! ecr-login's full binary (`ecr-login`): everything that needs AWS or runs for long.
//!
//! - [`aws`]: the fetcher the token path calls on a miss (the only code that talks to AWS);
//! - [`renew`]: the background renewal daemon;
//! - [`service`]: running that daemon as the OS's per-user service;
//! - [`commands`]: the human commands (`configure`, `status`, `refresh`, `daemon`,
//!   `kubelet`).
//!
//! The token path, the protocols and the front binary are in `ecr-login-core`, which has
//! no AWS dependency.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod aws;
mod commands;
mod edit;
mod error;
pub mod renew;
mod service;

use ecr_login_core::dispatch::{self, Binary};
use ecr_login_core::fetch::Fetcher;
use std::ffi::OsString;
use std::process::ExitCode;

/// The full binary's `main`.
pub fn main() -> ExitCode {
    dispatch::run(&Full, std::env::args_os().collect())
}

struct Full;

impl Binary for Full {
    fn fetcher<'a>(&'a self, _: &'a [OsString], _: &'a str) -> Box<dyn Fetcher + 'a> {
        Box::new(aws::AwsFetcher)
    }

    fn other(&self, args: Vec<OsString>) -> ExitCode {
        ecr_login_core::logging::init();
        commands::run(args)
    }

    fn may_switch(&self) -> bool {
        true
    }
}
