//! The human-facing commands, parsed by clap. Protocol actions are listed too, so `--help`
//! and the man page describe the whole binary, but `main` handles them before clap runs.
//! The definitions are in `cli/args.rs`, which `build.rs` also compiles for the man page and
//! shell completions; this file runs them.

#![allow(clippy::print_stderr)]

mod args;

pub use args::{Cli, Command, ConfigureArgs};

use crate::config::Config;
use crate::error::Error;
use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;

pub fn eprint_error(line: &str) {
    eprintln!("docker-credential-ecr-login: {line}");
}

pub fn run(args: Vec<OsString>) -> ExitCode {
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
    let now = crate::policy::now_ms();
    let result = match cli.command {
        Command::Get | Command::Store | Command::Erase | Command::List | Command::Version => {
            eprint_error(
                "protocol actions take no arguments; Docker calls them as `docker-credential-ecr-login get`",
            );
            return ExitCode::from(2);
        }
        Command::Status { json } => crate::status::status(json, now),
        Command::Refresh { registries } => crate::status::refresh(&registries, now),
        Command::Daemon => run_daemon().map(|()| String::new()),
        Command::Kubelet => crate::protocol::read_stdin()
            .map_err(Error::Input)
            .and_then(|input| {
                let config = Config::load().map_err(Error::Config)?;
                crate::kubelet::handle(&input, &config, now)
            })
            .map(|reply| String::from_utf8_lossy(&reply).into_owned()),
        Command::Configure(args) => crate::configure::run(&args),
    };
    match result {
        Ok(out) => {
            crate::protocol::write_stdout(out.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            for line in e.to_string().lines() {
                eprint_error(line);
            }
            ExitCode::FAILURE
        }
    }
}

fn run_daemon() -> Result<(), Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let path = crate::config::default_path();
    let config = Config::load_from(path.as_deref()).map_err(Error::Config)?;
    let dir = crate::cache::default_dir()
        .map_err(Error::Other)?
        .ok_or_else(|| {
            Error::Other("the daemon needs the cache, but AWS_ECR_DISABLE_CACHE is set".into())
        })?;
    let cache = crate::cache::Cache::open(&dir).map_err(Error::Other)?;
    let rt = crate::ecr::runtime().map_err(Error::Other)?;
    let result = rt.block_on(async {
        let sig =
            |kind| signal(kind).map_err(|e| Error::Other(format!("cannot watch signals: {e}")));
        let mut term = sig(SignalKind::terminate())?;
        let mut int = sig(SignalKind::interrupt())?;
        let hup = std::sync::Arc::new(tokio::sync::Mutex::new(sig(SignalKind::hangup())?));
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        let reload = move || {
            let hup = hup.clone();
            Box::pin(async move {
                hup.lock().await.recv().await;
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        };
        crate::daemon::run(path, config, cache, shutdown, reload).await
    });
    // An in-flight renewal is abandoned, not awaited: its lock dies with the process and
    // its write is atomic, so the cache stays intact.
    rt.shutdown_background();
    result
}
