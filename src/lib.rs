//! ecr-login: a Docker credential helper for Amazon ECR with a shared, file-locked token
//! cache and a renewal daemon. The binary `docker-credential-ecr-login` is a thin
//! dispatcher over these modules; fuzz targets and benchmarks use them directly.
//!
//! Data flows one way: input -> [`host`] -> [`identity`] -> [`cache`] -> (on a miss)
//! [`ecr`] -> cache -> output, through [`resolve`]. The daemon, `kubelet` and Bazel modes
//! reuse that path.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod bazel;
pub mod cache;
pub mod cli;
pub mod config;
pub mod configure;
pub mod daemon;
pub mod ecr;
pub mod error;
pub mod fuzzing;
pub mod helper;
pub mod host;
pub mod identity;
pub mod kubelet;
pub mod lock;
pub mod policy;
pub mod protocol;
pub mod resolve;
pub mod status;
pub mod systemd;
