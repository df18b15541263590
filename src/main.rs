//! `docker-credential-ecr-login`: a Docker credential helper for Amazon ECR.
//!
//! `main` only dispatches. Protocol actions are matched by hand before any argument
//! parser runs, so a cache-hit `get` pays for nothing it does not use.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

use ecr_login::error::Error;
use ecr_login::{cli, helper, policy, protocol};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let action = args.get(1).and_then(|a| a.to_str());
    match (action, args.len()) {
        (Some(a @ ("get" | "store" | "erase" | "list")), 2) => {
            init_logging();
            protocol_action(a)
        }
        (Some("version" | "--version" | "-v" | "-V"), 2) => {
            protocol::write_stdout(helper::version_line().as_bytes());
            ExitCode::SUCCESS
        }
        _ => {
            init_logging();
            cli::run(args)
        }
    }
}

fn protocol_action(action: &str) -> ExitCode {
    let now = policy::now_ms();
    let result = match action {
        "list" => helper::list(now),
        _ => protocol::read_stdin()
            .map_err(Error::Input)
            .and_then(|input| match action {
                "get" => helper::get(&input),
                "store" => helper::store(&input, now).map(|()| Vec::new()),
                _ => helper::erase(&input).map(|()| Vec::new()),
            }),
    };
    match result {
        Ok(reply) => {
            protocol::write_stdout(&reply);
            ExitCode::SUCCESS
        }
        Err(e) => {
            report_protocol_error(&e);
            ExitCode::FAILURE
        }
    }
}

/// Errors go on stdout, where clients look for them (SPEC Part B), and on stderr, where
/// people do. "Not found" stays quiet on stderr: it is an answer, not a failure.
fn report_protocol_error(e: &Error) {
    let line = e.to_string();
    protocol::write_stdout(format!("{line}\n").as_bytes());
    if *e != Error::NotFound {
        cli::eprint_error(&line);
    }
}

/// Logs go to stderr; `ECR_LOGIN_LOG` takes `error`, `warn` (default), `info`, `debug` or
/// `trace`, or per-target directives such as `ecr_login=debug,aws_config=info`.
fn init_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let spec = std::env::var("ECR_LOGIN_LOG").unwrap_or_default();
    let filter = match spec.trim() {
        "" => Targets::new().with_default(LevelFilter::WARN),
        s => match s.parse::<LevelFilter>() {
            Ok(level) => Targets::new().with_default(level),
            Err(_) => s
                .parse::<Targets>()
                .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::WARN)),
        },
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}
