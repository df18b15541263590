//! ecr-login's core: everything a cache hit needs, and nothing that talks to AWS.
//!
//! Data flows one way: a front end ([`frontends`]: the docker credential protocol, the
//! kubelet's, Bazel's) parses its input, and the [`token`] path takes it from there: host ->
//! identity -> cache -> (on a miss) a [`token::fetch::Fetcher`] -> cache -> [`output`]. The
//! fetcher that calls AWS lives in the `ecr-login` crate; this crate has no AWS dependency,
//! so the front binary (`docker-credential-ecr-login`), built from this crate alone,
//! cannot link the SDK. It answers hits and `store`/`erase`/`list`/`version` itself and
//! hands everything else to the full binary ([`exec::run_in_our_place`]).

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod clock;
pub mod dispatch;
pub mod duration;
pub mod env;
pub mod error;
pub mod exec;
pub mod files;
pub mod frontends;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod logging;
pub mod output;
pub mod privilege;
pub mod redact;
pub mod secret;
pub mod token;
