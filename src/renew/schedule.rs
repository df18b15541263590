//! When the daemon acts: pure functions of `now`, so the schedule is tested without a
//! clock. When a token is due is the token policy's (`policy::due_at`); this is what the
//! daemon adds: backoff after failures, forgetting idle registries, and never sleeping
//! past a minute, so a laptop that slept through a renewal renews right after waking.

use ecr_login_core::fetch::FetchError;
use ecr_login_core::policy::jitter;
use std::time::Duration;

/// The loop never sleeps longer than this: the wall-clock check interval.
pub(crate) const MAX_SLEEP_MS: i64 = 60_000;
const BACKOFF_FIRST_MS: i64 = 1_000;
const BACKOFF_CAP_MS: i64 = 300_000;
/// Throttling means the account's quota is spent, for every machine sharing it: back off
/// at least this long, and double from there.
pub(crate) const THROTTLED_FIRST_MS: i64 = 30_000;

/// Delay before retry number `failures` (1-based) after `error`: 1 s doubling to 5 min
/// (30 s doubling for throttling), with equal jitter (half fixed, half spread), so a fleet
/// that failed together does not retry together.
pub(crate) fn backoff_ms(failures: u32, error: &FetchError, seed: &str) -> i64 {
    let first = if error.is_throttling() {
        THROTTLED_FIRST_MS
    } else {
        BACKOFF_FIRST_MS
    };
    let exp = failures.saturating_sub(1).min(20);
    let base = (first << exp).min(BACKOFF_CAP_MS);
    let delay = base / 2 + jitter(&format!("{seed}/{failures}"), base / 2 + 1);
    // The jitter spreads above the floor, never below it.
    delay.max(if error.is_throttling() { first } else { 0 })
}

/// Whether a registry has gone unused long enough to stop renewing it.
pub(crate) fn forgotten(last_used_ms: i64, now: i64, forget_after: Duration) -> bool {
    now.saturating_sub(last_used_ms) > forget_after.as_millis() as i64
}

/// When to wake next: the earliest due time, but never more than a minute away, and
/// never in the past.
pub(crate) fn next_wake(now: i64, dues: impl IntoIterator<Item = i64>) -> i64 {
    dues.into_iter().fold(now + MAX_SLEEP_MS, i64::min).max(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn server_error() -> FetchError {
        FetchError::ServerError { detail: "x".into() }
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let delays: Vec<i64> = (1..=12)
            .map(|n| backoff_ms(n, &server_error(), "k"))
            .collect();
        for (i, d) in delays.iter().enumerate() {
            let base = (1000i64 << i).min(300_000);
            assert!(
                *d >= base / 2 && *d <= base,
                "retry {}: {d} not in [{}, {base}]",
                i + 1,
                base / 2
            );
        }
        assert!(backoff_ms(u32::MAX, &server_error(), "k") <= 300_000);
    }

    #[test]
    fn throttling_backs_off_at_least_30_seconds() {
        let throttled = FetchError::Throttled {
            detail: "Rate exceeded".into(),
        };
        for n in 1..=12 {
            let d = backoff_ms(n, &throttled, &format!("seed{n}"));
            assert!((30_000..=300_000).contains(&d), "retry {n}: {d}");
        }
        assert!(backoff_ms(3, &throttled, "k") >= 60_000);
    }

    #[test]
    fn wakes_at_least_once_a_minute_and_never_in_the_past() {
        assert_eq!(next_wake(1000, []), 1000 + MAX_SLEEP_MS);
        assert_eq!(next_wake(1000, [5000, 3000]), 3000);
        assert_eq!(next_wake(1000, [500]), 1000);
        assert_eq!(next_wake(1000, [10 * H]), 1000 + MAX_SLEEP_MS);
    }

    #[test]
    fn idle_registries_are_forgotten() {
        let week = Duration::from_secs(7 * 86400);
        assert!(!forgotten(0, 7 * 24 * H, week));
        assert!(forgotten(0, 7 * 24 * H + 1, week));
    }
}
