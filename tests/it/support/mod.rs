//! What every integration test shares: the fake AWS endpoint and the sandbox that runs
//! the real binaries against it.

#[cfg(unix)]
pub mod botocore_cache;
#[cfg(unix)]
pub mod daemon;
pub mod fake_ecr;
#[cfg(test)]
mod fake_ecr_tests;
pub mod harness;
#[cfg(unix)]
pub mod proxy;
#[cfg(unix)]
pub mod pty;
#[cfg(unix)]
pub mod tls_front;
pub mod windows;
// These live beside the fake endpoint, which brings them along into the `fake_ecr` example.
pub use fake_ecr::{listener, wait};
