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

pub mod aws;
pub mod commands;
pub mod renew;
pub mod service;

use ecr_login_core::clock;
use ecr_login_core::dispatch::{self, Binary};
use ecr_login_core::error::Error;
use ecr_login_core::frontends::{bazel, docker};
use ecr_login_core::output::{self, Protocol};
use ecr_login_core::token::cache::Cache;
use ecr_login_core::token::config::Config;
use ecr_login_core::token::resolve::Context;
use std::ffi::OsString;
use std::process::ExitCode;

/// The full binary's `main`.
pub fn main() -> ExitCode {
    dispatch::run(&Full, std::env::args_os().collect())
}

struct Full;

impl Binary for Full {
    fn get(&self, _args: &[OsString], input: String) -> ExitCode {
        ecr_login_core::logging::init();
        let now = clock::now_ms();
        if bazel::is_request(&input) {
            return output::finish(Protocol::Bazel, bazel_request(&input, now));
        }
        docker::get(&input, Some(&aws::AwsFetcher), now).finish("get", &input, || {
            unreachable!("with a fetcher, a miss is fetched")
        })
    }

    fn other(&self, args: Vec<OsString>) -> ExitCode {
        ecr_login_core::logging::init();
        commands::run(args)
    }
}

fn bazel_request(input: &str, now: i64) -> Result<Vec<u8>, Error> {
    let config = Config::load()?;
    let cache = Cache::from_env_or_warn();
    let ctx = Context::process(&config, cache.as_ref());
    bazel::handle(input, &ctx, &aws::AwsFetcher, now)
}
