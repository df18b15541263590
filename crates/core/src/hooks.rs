//! Test hooks: named points where a test build runs a program of the test's choosing and
//! waits for it, so a race (a directory swapped for a link between two steps, a write that
//! lands just before a rename) is played out deterministically instead of hoping a loop
//! wins it. Compiled only with the `test-hooks` feature, which the integration tests turn
//! on (tests never reach a shipped build, and a shipped build has no hook).
//!
//! `ECR_LOGIN_TEST_HOOK=<point>` and `ECR_LOGIN_TEST_HOOK_RUN=<program>`: at `<point>` the
//! program runs with the point's path as its one argument, as whoever the process is then.

use std::path::Path;

/// Runs the test's program when `name` is the point it asked for.
#[cfg(feature = "test-hooks")]
pub fn point(name: &str, path: &Path) {
    if std::env::var_os("ECR_LOGIN_TEST_HOOK").is_some_and(|p| p == name) {
        if let Some(program) = std::env::var_os("ECR_LOGIN_TEST_HOOK_RUN") {
            let _ = std::process::Command::new(program)
                .arg(path)
                .stdin(std::process::Stdio::null())
                .status();
        }
    }
}

/// Nothing, in every build but the tests'.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn point(_: &str, _: &Path) {}
