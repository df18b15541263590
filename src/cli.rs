//! The human-facing commands, parsed by clap. Protocol actions are listed too, so `--help`
//! and the man page describe the whole binary, but `main` handles them before clap runs.

#![allow(clippy::print_stderr)]

use crate::config::Config;
use crate::error::Error;
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
    /// Show cached tokens (registry, identity, expiry, last use) and the daemon's state.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Renew tokens now: the named registries, or every registry the daemon keeps warm.
    Refresh {
        /// Registry hosts (or aliases from the ecr-login config).
        registries: Vec<String>,
    },
    /// Run the background renewal loop in the foreground (what the systemd unit starts).
    Daemon,
    /// Kubelet image credential provider: a CredentialProviderRequest on stdin, the
    /// response on stdout (credentialprovider.kubelet.k8s.io/v1, v1beta1, v1alpha1).
    Kubelet,
    /// Add `credHelpers` entries for ECR registries to the Docker config.
    ///
    /// With no registry, discovers your default registry from ECR. `--profile`,
    /// `--role-arn` and `--ecr` also write the registry's entry in ecr-login's config.
    Configure {
        /// Registry hosts, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com.
        registries: Vec<String>,
        /// An AWS account ID (12 digits); give --region too. Repeatable.
        #[arg(long = "account", value_name = "ID")]
        accounts: Vec<String>,
        /// The region of each --account (one for all, or one per account).
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        /// Add ECR Public (public.ecr.aws).
        #[arg(long)]
        public: bool,
        /// Make the given hosts aliases of this ECR registry (a proxy, mirror or CNAME).
        #[arg(long, value_name = "ECR_HOST")]
        ecr: Option<String>,
        /// AWS profile for these registries (written to ecr-login's config).
        #[arg(long)]
        profile: Option<String>,
        /// Role to assume for these registries (written to ecr-login's config).
        #[arg(long, value_name = "ARN")]
        role_arn: Option<String>,
        /// Show what would change without writing.
        #[arg(long)]
        dry_run: bool,
        /// Also install (and when possible enable) the systemd user unit.
        #[arg(long)]
        systemd: bool,
        /// Remove our credHelpers entries (all of them when no registry is given).
        #[arg(long)]
        remove: bool,
    },
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
        Command::Configure {
            registries,
            accounts,
            regions,
            public,
            ecr,
            profile,
            role_arn,
            dry_run,
            systemd,
            remove,
        } => crate::configure::run(&crate::configure::Request {
            registries,
            accounts,
            regions,
            public,
            ecr,
            profile,
            role_arn,
            dry_run,
            systemd,
            remove,
        }),
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
