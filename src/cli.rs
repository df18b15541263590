//! The human-facing commands, parsed by clap. Protocol actions are listed too, so `--help`
//! and the man page describe the whole binary, but `main` handles them before clap runs.

#![allow(clippy::print_stderr)]

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "docker-credential-ecr-login",
    version,
    about = "Docker credential helper for Amazon ECR, with a shared token cache",
    long_about = "Docker credential helper for Amazon ECR.\n\nDocker, podman, skopeo, buildkit and \
crane exec it through `credHelpers` in ~/.docker/config.json. It answers from a file-locked \
token cache and fetches a new ECR token only when the cached one is past half its life."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Protocol: read a registry address on stdin, print its credentials as JSON.
    Get,
    /// Protocol: keep the credentials `docker login` sends on stdin.
    Store,
    /// Protocol: forget the registry named on stdin (`docker logout`).
    Erase,
    /// Protocol: list the registries with valid cached credentials.
    List,
    /// Print the version.
    Version,
}

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
    match cli.command {
        Command::Get | Command::Store | Command::Erase | Command::List | Command::Version => {
            eprint_error(
                "protocol actions take no arguments; Docker calls them as `docker-credential-ecr-login get`",
            );
            ExitCode::from(2)
        }
    }
}
