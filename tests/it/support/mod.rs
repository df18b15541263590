//! What every integration test shares: the fake AWS endpoint and the sandbox that runs
//! the real binaries against it.

pub mod fake_ecr;
#[cfg(test)]
mod fake_ecr_tests;
pub mod harness;
