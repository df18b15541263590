//! The run's clock: whatever the network does, doctor answers within [`BUDGET`], and every
//! step that waits (a lookup, a connection, a request, a program asked for its version) is
//! bounded by its own limit and by what is left of the budget.

use std::time::{Duration, Instant};

/// The whole run's bound (the promise is 10 s; the rest is rendering and process exit).
const BUDGET: Duration = Duration::from_millis(9500);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    started: Instant,
    end: Instant,
}

impl Deadline {
    pub(crate) fn new() -> Deadline {
        let started = Instant::now();
        Deadline {
            started,
            end: started + BUDGET,
        }
    }

    /// `limit`, or what is left of the budget if that is less (never zero).
    pub(crate) fn step(&self, limit: Duration) -> Duration {
        limit.min(self.left()).max(Duration::from_millis(1))
    }

    pub(crate) fn left(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// Wall-clock now, from the run's one reading of the clock and the time since.
    pub(crate) fn now_ms(&self, now: i64) -> i64 {
        now.saturating_add(self.started.elapsed().as_millis() as i64)
    }
}
