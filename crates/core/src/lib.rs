//! ecr-login's core: everything a cache hit needs, and nothing that talks to AWS.
//!
//! Data flows one way: a front end (`frontends/`: the docker credential protocol, the
//! kubelet's, Bazel's) parses its input, and the token path (`token/`) takes it from there:
//! host -> identity -> cache -> (on a miss) a [`fetch::Fetcher`] -> cache -> [`output`].
//! [`dispatch`] is the request path both binaries share: one command table, the config,
//! cache and environment loaded once, a [`resolve::Context`] for every front end. The
//! fetcher that calls AWS lives in the `ecr-login` crate; this crate has no AWS dependency,
//! so the front binary (`docker-credential-ecr-login`), built from this crate alone,
//! cannot link the SDK. Its fetcher hands a miss to the full binary
//! ([`exec::run_in_our_place`]).
//!
//! The API is what the full binary, the front binary and the fuzz targets use, and nothing
//! else: `token/` and `frontends/` are private, their families re-exported below;
//! `tests/ci/core-api.py` keeps the count of `pub` items in budget.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod clock;
pub mod dispatch;
pub mod duration;
pub mod env;
pub mod exec;
pub mod files;
mod frontends;
/// The outcomes of a request that are not an answer, as every front end reports them.
pub use frontends::error;
/// The one owner of stdout, stderr and exit codes.
pub use frontends::output;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod hooks;
pub mod logging;
pub mod paths;
pub mod printable;
pub mod privilege;
pub mod redact;
pub mod secret;
mod token;

// The token path and the protocols live in two private trees (`token/`, `frontends/`); what
// other crates use of them is re-exported here, one module a family.

/// Reading a request from standard input, bounded.
pub use frontends::{InputError, read_stdin};

/// The token cache: its entries, their keys, and where it lives.
pub mod cache {
    pub use crate::token::cache::{Cache, CacheError, Entry, Source, default_dir, key};
}

/// ecr-login's config file: what it says, where it is, how it is checked.
pub mod config {
    pub use crate::token::config::{
        CONFIG_ENV, CachePolicy, Config, ConfigError, DaemonSettings, HelperNameError,
        KubeletSettings, MinRemaining, RegistryRule, StoreSettings, default_path, glob_match,
        validate_helper_name,
    };
}

/// What fetches a token (the [`fetch::Fetcher`] trait) and how fetching fails.
pub mod fetch {
    pub use crate::token::fetch::{
        BUDGET_GRACE, Expired, FetchError, FetchRequest, Fetched, Fetcher,
    };
}

/// Registry addresses: what a client sends ([`host::Authority`]) and the ECR registry it
/// names ([`host::Registry`]).
pub mod host {
    pub use crate::token::host::{Authority, HostError, Registry, match_images};
}

/// Who asks for a token: the identity, its AWS variables and what qualifies it, and how
/// the SDK's credential chain labels it.
pub mod identity {
    pub use crate::token::identity::source::{ambient_label, env_key_id};
    pub use crate::token::identity::{AwsEnv, Identity, Key, KeyError, Qualifiers};
}

/// The cross-process locks: bounded, and unlocked where the filesystem cannot lock.
pub mod lock {
    pub use crate::token::lock::{LockError, LockGuard, LockTimeout, is_held, try_exclusive};
}

/// When a token may be served, and when it is due for renewal.
pub mod policy {
    pub use crate::token::policy::{due_at, jitter, servable, serve_until};
}

/// The one path from a server string to a token.
pub mod resolve {
    pub use crate::token::resolve::{Context, Route, Target, TokenError, Write, obtain, serve};
}

/// The Docker credential protocol's messages, the file store for other registries' logins,
/// and the fallback helper's lookup.
pub mod docker {
    pub use crate::frontends::docker::fallback::find_helper;
    pub use crate::frontends::docker::file_store::{FileStore, default_dir};
    pub use crate::frontends::docker::protocol::Credentials;
    pub use crate::frontends::docker::version_line;
    pub use crate::frontends::store_error::StoreError;
}

/// The kubelet's image credential provider protocol.
pub mod kubelet {
    pub use crate::frontends::kubelet::handle;
}
