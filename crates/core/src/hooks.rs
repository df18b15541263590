//! Test hooks: named points where a test build runs a program of the test's choosing and
//! waits for it, so a race (a directory swapped for a link between two steps, a write that
//! lands just before a rename) is played out deterministically instead of hoping a loop
//! wins it. Compiled only into debug builds, which are what the tests run (whichever of
//! `cargo build` and `cargo test` built them last); release and `dist` builds, everything
//! that ships, have no hook.
//!
//! `ECR_LOGIN_TEST_HOOK=<point>` and `ECR_LOGIN_TEST_HOOK_RUN=<program>`: at `<point>` the
//! program runs with the point's path as its one argument, as whoever the process is then.

use std::path::Path;

/// Runs the test's program when `name` is the point it asked for.
#[cfg(debug_assertions)]
pub fn point(name: &str, path: &Path) {
    if std::env::var_os("ECR_LOGIN_TEST_HOOK").is_some_and(|p| p == name)
        && let Some(program) = std::env::var_os("ECR_LOGIN_TEST_HOOK_RUN")
    {
        let _ = std::process::Command::new(program)
            .arg(path)
            .stdin(std::process::Stdio::null())
            .status();
    }
}

/// Nothing, in every build but the tests'.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn point(_: &str, _: &Path) {}
