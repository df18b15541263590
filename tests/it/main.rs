//! The integration tests, one binary: the real `docker-credential-ecr-login` and
//! `ecr-login` binaries against a fake AWS endpoint (`support::fake_ecr`), and the daemon's
//! renewal loop under tokio's paused time with a fake fetcher.
//!
//! Tests that cannot run everywhere are `#[ignore = "why"]` and `tests/run-all.sh` runs
//! them explicitly, so a skip never reads as a pass: the end-to-end test needs dockerd,
//! skopeo and a registry; the disk-fault tests need root to mount a tmpfs.

// On Windows only some of the shared support is used.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

// Most tests drive the binaries as a Unix user would (permissions, signals, ptys, dockerd);
// on Windows the `windows` module runs the protocol natively (and under wine here). The
// renewal loop and the fuzz corpus are platform-free.
#[cfg(unix)]
mod broken_registry;
#[cfg(unix)]
mod config;
#[cfg(unix)]
mod daemon;
#[cfg(unix)]
mod desktop;
#[cfg(unix)]
#[cfg(unix)]
mod doctor;
#[cfg(unix)]
mod e2e;
#[cfg(unix)]
mod e2e_store;
#[cfg(unix)]
mod faults;
#[cfg(unix)]
mod field;
mod fuzz_corpus;
#[cfg(unix)]
mod hygiene;
#[cfg(unix)]
mod identity;
#[cfg(unix)]
mod kubelet;
#[cfg(unix)]
mod logs;
#[cfg(unix)]
mod modes;
#[cfg(unix)]
mod outages;
#[cfg(unix)]
mod protocol;
mod renewal;
#[cfg(unix)]
mod security;
#[cfg(unix)]
mod static_node;
#[cfg(unix)]
mod store;
mod support;
#[cfg(unix)]
mod support_selftest;
mod windows;
