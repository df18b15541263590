//! The command line, as clap types and nothing else. `build.rs` compiles this same file to
//! generate the man page and shell completions, so it must not reach into the rest of the
//! crate: everything here is what `--help`, the man page and the completions show.

use clap::{Args, Parser, Subcommand};

/// The variables the helper reads, for `--help` and the man page's ENVIRONMENT section.
pub(crate) const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "AWS_ECR_CACHE_DIR",
        "Cache directory (default ~/.cache/ecr-login); a leading ~ is expanded.",
    ),
    (
        "AWS_ECR_DISABLE_CACHE",
        "Non-empty: no cache, fetch a token every time.",
    ),
    (
        "AWS_ECR_IGNORE_CREDS_STORAGE",
        "Accepted for compatibility; store and erase work anyway.",
    ),
    ("ECR_LOGIN_CONFIG", "Path of the config file."),
    (
        "ECR_LOGIN_LOG",
        "Log level on stderr: error, warn (default), info, debug, trace, or directives such as \
ecr_login=debug,aws_config=info.",
    ),
    (
        "DOCKER_CONFIG",
        "Directory of the config.json that configure edits.",
    ),
    (
        "AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_ECR, ...",
        "The AWS SDK's own variables, with the same meaning as in the AWS CLI.",
    ),
];

/// The files the helper reads and writes, for `--help` and the man page's FILES section.
pub(crate) const FILES: &[(&str, &str)] = &[
    (
        "~/.docker/config.json",
        "Its credHelpers entries send ECR registries to this helper.",
    ),
    (
        "~/.config/ecr-login/config.toml",
        "Optional: per-registry AWS profile, role, region and aliases, cache and daemon settings.",
    ),
    (
        "~/.cache/ecr-login/",
        "The token cache: one file per registry and identity, readable by you alone.",
    ),
    (
        "/usr/lib/systemd/user/docker-credential-ecr-login.service",
        "The renewal daemon's systemd user unit, as installed by the packages.",
    ),
];

/// The text `--help` shows after the commands: [`ENVIRONMENT`] and [`FILES`].
fn after_long_help() -> String {
    let mut s = String::new();
    for (title, items) in [("Environment:", ENVIRONMENT), ("Files:", FILES)] {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(title);
        s.push('\n');
        for (name, meaning) in items {
            s.push_str(&format!("  {name}\n          {meaning}\n"));
        }
    }
    s
}

#[derive(Debug, Parser)]
#[command(
    name = "docker-credential-ecr-login",
    version,
    about = "Docker credential helper for Amazon ECR, with a shared token cache",
    long_about = "Docker credential helper for Amazon ECR.\n\nDocker, podman, skopeo, buildkit and \
crane exec it through `credHelpers` in ~/.docker/config.json. It answers from a file-locked \
token cache and fetches a new ECR token only when the cached one is past half its life.",
    after_long_help = after_long_help(),
    subcommand_value_name = "COMMAND"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// Start an MFA session for a profile whose role needs a code (role_arn, source_profile,
    /// mfa_serial): asks for the code on the terminal, assumes the role, keeps the session
    /// (0600, in the cache directory) and fetches the registries' tokens with it. Until it
    /// expires, get and the daemon sign with it; without one they fail at once and say to
    /// run this. A fresh session the AWS CLI cached (~/.aws/cli/cache) is used too.
    Login {
        /// The AWS profile (default: AWS_PROFILE, else "default").
        #[arg(long)]
        profile: Option<String>,
        /// Registries to fetch tokens for (default: those the ecr-login config maps to the
        /// profile, and those kept warm).
        registries: Vec<String>,
    },
    /// Check every link from the client to ECR, one line each: the binary clients run,
    /// Docker's and podman's config, the ecr-login config, each registry's identity and
    /// credentials, the network to its API, the cache and the daemon; under anything that
    /// does not pass, the command that fixes it. Exit 1 when a check fails. Never prints a
    /// secret, so the report is safe to paste into an issue.
    Doctor {
        /// Registries to check (default: those configured, cached, kept warm, or in
        /// Docker's credHelpers).
        registries: Vec<String>,
        /// One JSON document: {"version", "checks": [{"name", "registry", "status",
        /// "detail", "fix"}]}.
        #[arg(long)]
        json: bool,
        /// Make no network call at all (no DNS lookup, no token request).
        #[arg(long)]
        offline: bool,
        /// Check the kubelet's image credential provider setup instead: the
        /// CredentialProviderConfig (the first argument, else the running kubelet's flag, else
        /// the usual places), our executables in its bin directory, the ECR patterns, the
        /// service-account settings, and one request through the provider.
        #[arg(long)]
        kubelet: bool,
        /// With --kubelet: the kubelet's --image-credential-provider-bin-dir.
        #[arg(long, value_name = "DIR", requires = "kubelet")]
        bin_dir: Option<std::path::PathBuf>,
        /// With --kubelet: the image to ask credentials for (default: the first registry in
        /// the ecr-login config).
        #[arg(long, value_name = "IMAGE", requires = "kubelet")]
        image: Option<String>,
    },
    /// Run the background renewal loop in the foreground (what the systemd unit starts).
    Daemon,
    /// Kubelet image credential provider: a CredentialProviderRequest on stdin, the
    /// response on stdout (credentialprovider.kubelet.k8s.io/v1, v1beta1, v1alpha1).
    Kubelet,
    /// Add `credHelpers` entries for ECR registries to the Docker config, or with
    /// `--store` make ecr-login its `credsStore`.
    ///
    /// With no registry, discovers your default registry from ECR. `--profile`,
    /// `--role-arn` and `--ecr` also write the registry's entry in ecr-login's config.
    Configure(ConfigureArgs),
}

/// `configure`'s options.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ConfigureArgs {
    /// Registry hosts, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com.
    pub(crate) registries: Vec<String>,
    /// An AWS account ID (12 digits); give --region too. Repeatable.
    #[arg(long = "account", value_name = "ID")]
    pub(crate) accounts: Vec<String>,
    /// The region of each --account (one for all, or one per account).
    #[arg(long = "region", value_name = "REGION")]
    pub(crate) regions: Vec<String>,
    /// Add ECR Public (public.ecr.aws).
    #[arg(long)]
    pub(crate) public: bool,
    /// Make the given hosts aliases of this ECR registry (a proxy, mirror or CNAME).
    #[arg(long, value_name = "ECR_HOST")]
    pub(crate) ecr: Option<String>,
    /// AWS profile for these registries (written to ecr-login's config).
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Role to assume for these registries (written to ecr-login's config).
    #[arg(long, value_name = "ARN")]
    pub(crate) role_arn: Option<String>,
    /// Show what would change without writing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Also install (and when possible start) the renewal daemon as a per-user service: a
    /// systemd user unit on Linux (`--systemd` is the same), a launchd agent on macOS, a
    /// scheduled task at logon on Windows. With --remove, stop and remove it.
    #[arg(long, alias = "systemd")]
    pub(crate) service: bool,
    /// Make ecr-login Docker's credsStore: every ECR registry works with no credHelpers
    /// entry, and the credsStore it replaces keeps every other registry's logins.
    #[arg(long)]
    pub(crate) store: bool,
    /// Undo: remove our credHelpers entries (the named ones, or all of them), and with no
    /// registry named (or with --store) put the previous credsStore back. With --kubelet,
    /// remove our providers and binaries.
    #[arg(long)]
    pub(crate) remove: bool,
    /// Set up the kubelet's image credential provider instead of Docker: our providers in
    /// the CredentialProviderConfig at --config (a file, or a directory of drop-ins since
    /// Kubernetes 1.34), the binaries in --bin-dir; then prints the kubelet flags.
    #[arg(long, requires_all = ["kubelet_config", "bin_dir"])]
    pub(crate) kubelet: bool,
    /// With --kubelet: the kubelet's --image-credential-provider-config (file or directory).
    #[arg(long = "config", value_name = "PATH", requires = "kubelet")]
    pub(crate) kubelet_config: Option<std::path::PathBuf>,
    /// With --kubelet: the kubelet's --image-credential-provider-bin-dir.
    #[arg(long, value_name = "DIR", requires = "kubelet")]
    pub(crate) bin_dir: Option<std::path::PathBuf>,
    /// With --kubelet: also a service-account provider (the pod's token exchanged for the
    /// role its service account names; see [kubelet] in the ecr-login config), and the
    /// RBAC rule nodes need for it.
    #[arg(long, requires = "kubelet")]
    pub(crate) service_account: bool,
}
