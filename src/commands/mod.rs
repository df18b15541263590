//! The human-facing commands, parsed by clap: `status`, `refresh`, `daemon`, `kubelet`,
//! `configure`. Protocol actions are listed too, so `--help` and the man page describe
//! the whole binary, but the dispatch table handles them before clap runs. The
//! definitions are in `args.rs`, which `build.rs` also compiles for the man page and
//! shell completions; this file runs them.

pub(crate) mod args;
pub(crate) mod configure;
pub(crate) mod doctor;
pub(crate) mod login;
pub(crate) mod provider_config;
pub(crate) mod refresh;
pub(crate) mod status;
pub(crate) mod tty;

use crate::aws::AwsFetcher;
use crate::error::CommandError;
use crate::renew::{self, Deps};
use args::{Cli, Command};
use clap::Parser;
use ecr_login_core::cache::Cache;
use ecr_login_core::clock::{self, SystemClock};
use ecr_login_core::config::{self, Config};
use ecr_login_core::env::ProcessEnv;
use ecr_login_core::error::Error;
use ecr_login_core::output::{self, Protocol};
use ecr_login_core::resolve::Context;
use ecr_login_core::{kubelet, read_stdin};
use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

pub(crate) fn run(args: Vec<OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let now = clock::now_ms();
    let result = match cli.command {
        Command::Get | Command::Store | Command::Erase | Command::List | Command::Version => {
            output::error_line(
                "protocol actions take no arguments; Docker calls them as `docker-credential-ecr-login get`",
            );
            return ExitCode::from(2);
        }
        Command::Kubelet => {
            return output::finish(Protocol::Kubelet, kubelet_request(now));
        }
        Command::Doctor {
            registries,
            json,
            offline,
            kubelet: true,
            bin_dir,
            image,
        } => {
            let config = registries.first().map(std::path::PathBuf::from);
            return doctor::run_kubelet(
                config.as_deref(),
                bin_dir.as_deref(),
                image.as_deref(),
                json,
                offline,
            );
        }
        Command::Doctor {
            registries,
            json,
            offline,
            ..
        } => return doctor::run(&registries, json, offline, now),
        Command::Status { json } => status::status(json, now),
        Command::Refresh { registries } => refresh::refresh(&registries, now),
        Command::Login {
            profile,
            registries,
        } => login::login(profile.as_deref(), &registries, now),
        Command::Daemon => run_daemon().map(|()| String::new()),
        Command::Configure(args) => configure::run(&args),
    };
    output::finish(Protocol::Human, result.map(String::into_bytes))
}

fn kubelet_request(now: i64) -> Result<Vec<u8>, Error> {
    let input = read_stdin()?;
    let config = Config::load()?;
    let cache = Cache::from_env_or_warn();
    let ctx = Context::new(&config, cache.as_ref(), &ProcessEnv);
    let fetcher = crate::aws::patient::Patient {
        cache: cache.as_ref(),
        first_call_spread: config.kubelet.first_call_spread,
        retry_for: config.kubelet.retry_for,
    };
    kubelet::handle(&input, &ctx, &fetcher, now)
}

fn run_daemon() -> Result<(), Error> {
    let path = config::default_path();
    let config = Config::load_from(path.as_deref())?;
    let cache = Cache::from_env()?.ok_or(CommandError::DaemonNeedsCache)?;
    let deps = Deps {
        clock: Arc::new(SystemClock),
        env: Arc::new(ProcessEnv),
        fetcher: Arc::new(AwsFetcher),
    };
    // Started by Task Scheduler, the daemon would keep a console window open.
    #[cfg(windows)]
    crate::service::detach_console();
    let rt = crate::aws::runtime().map_err(CommandError::Runtime)?;
    let result = rt.block_on(async {
        let signals = renew::signals::Signals::new()?;
        let (shutdown, reload) = signals.split();
        renew::run(deps, path, config, cache, shutdown, reload).await
    });
    // An in-flight renewal is abandoned, not awaited: its lock dies with the process and
    // its write is atomic, so the cache stays intact.
    rt.shutdown_background();
    result
}
