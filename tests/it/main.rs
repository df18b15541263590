//! The integration tests, one binary: the real `docker-credential-ecr-login` and
//! `ecr-login` binaries against a fake AWS endpoint (`support::fake_ecr`), and the daemon's
//! renewal loop under tokio's paused time with a fake fetcher.
//!
//! Tests that cannot run everywhere are `#[ignore = "why"]` and `tests/run-all.sh` runs
//! them explicitly, so a skip never reads as a pass: the end-to-end test needs dockerd,
//! skopeo and a registry; the disk-fault tests need root to mount a tmpfs.

mod config;
mod daemon;
mod desktop;
mod e2e;
mod e2e_store;
mod faults;
mod field;
mod fuzz_corpus;
mod hygiene;
mod identity;
mod logs;
mod modes;
mod outages;
mod protocol;
mod renewal;
mod store;
mod support;
mod support_selftest;
mod windows;
