//! Waiting in the tests: on an event, never on a guess. A [`Signal`] is raised by whatever
//! can change what a test waits for (a daemon's log line or sd_notify message, a request to
//! the fake endpoint, a failed TLS handshake), and [`wait_until`] checks its condition again
//! at each one, until a deadline. No sleep decides when a condition is looked at.
//!
//! Only a process that tells no one it is ready (a registry's port, dockerd's socket) is
//! polled, by [`poll_for`]: the one polling loop, with a deadline.
//!
//! `#[path]`-included by `fake_ecr.rs` (which the `fake_ecr` example includes in turn), so
//! it depends on std alone.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Raised each time what a test waits for may have changed. Clones share one signal.
#[derive(Clone, Default)]
pub struct Signal(Arc<(Mutex<u64>, Condvar)>);

impl Signal {
    /// Wakes every waiter: they look at their condition again.
    pub fn raise(&self) {
        let (raised, changed) = &*self.0;
        *lock(raised) += 1;
        changed.notify_all();
    }

    fn count(&self) -> u64 {
        *lock(&self.0.0)
    }

    /// Blocks until the signal is raised after `seen`; false if `deadline` comes first.
    fn raised_since(&self, seen: u64, deadline: Instant) -> bool {
        let (raised, changed) = &*self.0;
        let left = deadline.saturating_duration_since(Instant::now());
        let (count, _) = changed
            .wait_timeout_while(lock(raised), left, |n| *n == seen)
            .unwrap_or_else(PoisonError::into_inner);
        *count != seen
    }
}

/// Whether `done` holds within `limit`: checked now, and again each time `signal` is raised.
/// A raise between a check and the wait is not lost (the wait is for a raise after the
/// check began).
pub fn wait_for(limit: Duration, signal: &Signal, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let seen = signal.count();
        if done() {
            return true;
        }
        if !signal.raised_since(seen, deadline) {
            return done();
        }
    }
}

/// [`wait_for`], and a panic naming `what` when `done` does not hold within `limit`.
#[track_caller]
pub fn wait_until(what: &str, limit: Duration, signal: &Signal, done: impl FnMut() -> bool) {
    assert!(
        wait_for(limit, signal, done),
        "{what} did not happen within {limit:?}"
    );
}

/// Whether `done` holds within `limit`, looked at every 50 ms: only for a process that has
/// no way to say it is ready. Everything else waits on a [`Signal`].
#[allow(dead_code)] // the end-to-end test's servers are its only users
pub fn poll_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
    true
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
