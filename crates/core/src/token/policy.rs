//! When a token may be served, and when it should be renewed. Pure functions of the entry
//! and `now` (milliseconds since the Unix epoch), so every rule is tested without a clock.

use crate::token::cache::{Entry, Source};
use crate::token::config::MinRemaining;
use sha2::{Digest, Sha256};

/// `docker login` credentials cannot be renewed by us, so they are served until this close
/// to their expiry, then ecr-login goes back to fetching.
pub(crate) const STORED_MARGIN_MS: i64 = 5 * 60 * 1000;

/// Lifetime assumed for ECR tokens whose issue time we do not know (SPEC Part D: 12 h).
pub(crate) const TOKEN_LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// The daemon never renews one entry twice within this: whatever a token's lifetime (a
/// credential source whose credentials expire in seconds), renewals cannot spin and spend
/// the account's GetAuthorizationToken quota (20/s for every machine in it).
pub(crate) const MIN_RENEWAL_GAP_MS: i64 = 60_000;

/// Renewal jitter: up to this share of the token's lifetime, at most [`JITTER_CAP_MS`].
const JITTER_SHARE: f64 = 0.05;
const JITTER_CAP_MS: i64 = 10 * 60_000;

/// The last instant at which `entry` may be handed out.
pub fn serve_until(entry: &Entry, min: MinRemaining) -> i64 {
    let keep = match entry.source {
        Source::Stored => STORED_MARGIN_MS,
        Source::Fetched => match min {
            MinRemaining::Fraction(f) => (lifetime(entry) as f64 * f).ceil() as i64,
            MinRemaining::Fixed(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        },
    };
    // Never past expiry, whatever the policy says.
    entry
        .expires_at_ms
        .saturating_sub(keep.max(0))
        .min(entry.expires_at_ms.saturating_sub(1))
}

/// Whether `entry` may be served at `now`: not expired, within the policy, and whatever
/// its identity needs still there (an SSO session's token file: gone after `aws sso
/// logout`). An expired token never is.
pub fn servable(entry: &Entry, now: i64, min: MinRemaining) -> bool {
    now < entry.expires_at_ms && now <= serve_until(entry, min) && entry.requirements_met()
}

/// When the daemon should renew `entry`: once `renew_after` of its life has passed.
pub(crate) fn renew_at(entry: &Entry, renew_after: f64) -> i64 {
    entry
        .issued_at_ms
        .saturating_add((lifetime(entry) as f64 * renew_after) as i64)
}

/// When the daemon should renew an entry (`None` entry: now): at `renew_after` of its
/// life, plus jitter that spreads the renewals of many registries and many machines, and
/// never sooner than [`MIN_RENEWAL_GAP_MS`] after it was fetched.
pub fn due_at(entry: Option<&Entry>, renew_after: f64, now: i64) -> i64 {
    let Some(e) = entry else { return now };
    let max_jitter = ((lifetime(e) as f64 * JITTER_SHARE) as i64).min(JITTER_CAP_MS);
    let due = renew_at(e, renew_after).saturating_add(jitter(
        &format!("{}{}", e.key(), e.fetched_at_ms),
        max_jitter,
    ));
    // A fetch time ahead of `now` (the clock went back) floors from `now` instead.
    due.max(e.fetched_at_ms.min(now).saturating_add(MIN_RENEWAL_GAP_MS))
}

/// A number in `[0, max)` derived from `seed`: spread, yet stable across scans and
/// testable.
pub fn jitter(seed: &str, max: i64) -> i64 {
    if max <= 0 {
        return 0;
    }
    let digest = Sha256::digest(seed.as_bytes());
    let n = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    (n % max as u64) as i64
}

fn lifetime(entry: &Entry) -> i64 {
    entry
        .expires_at_ms
        .saturating_sub(entry.issued_at_ms)
        .max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const H: i64 = 3600 * 1000;

    fn entry(source: Source, issued: i64, expires: i64) -> Entry {
        Entry::sample(source, issued, expires)
    }

    #[test]
    fn half_life_by_default() {
        let e = entry(Source::Fetched, 0, 12 * H);
        let half = MinRemaining::Fraction(0.5);
        for (now, want) in [
            (0, true),
            (6 * H - 1, true),
            (6 * H, true),
            (6 * H + 1, false),
            (12 * H, false),
        ] {
            assert_eq!(servable(&e, now, half), want, "now = {now}");
        }
    }

    #[test]
    fn fixed_remaining_and_zero() {
        let e = entry(Source::Fetched, 0, 12 * H);
        let two_h = MinRemaining::Fixed(Duration::from_secs(7200));
        assert!(servable(&e, 10 * H, two_h));
        assert!(!servable(&e, 10 * H + 1, two_h));
        // Even a policy of "0% left" never serves at or past expiry.
        let none = MinRemaining::Fraction(0.0);
        assert!(servable(&e, 12 * H - 1, none));
        assert!(!servable(&e, 12 * H, none));
        // A policy longer than the lifetime serves nothing.
        assert!(!servable(
            &e,
            0,
            MinRemaining::Fixed(Duration::from_secs(13 * 3600))
        ));
    }

    /// Source credentials expiring before the token shorten the entry (SPEC Part D).
    #[test]
    fn short_lived_credentials_shorten_serving() {
        let e = entry(Source::Fetched, 0, H);
        assert!(servable(&e, H / 2, MinRemaining::Fraction(0.5)));
        assert!(!servable(&e, H / 2 + 1, MinRemaining::Fraction(0.5)));
    }

    #[test]
    fn stored_tokens_serve_until_the_margin() {
        let e = entry(Source::Stored, 0, 12 * H);
        let half = MinRemaining::Fraction(0.5);
        assert!(servable(&e, 11 * H, half));
        assert!(servable(&e, 12 * H - STORED_MARGIN_MS, half));
        assert!(!servable(&e, 12 * H - STORED_MARGIN_MS + 1, half));
    }

    #[test]
    fn renewal_is_due_at_40_percent_plus_bounded_jitter() {
        let e = entry(Source::Fetched, 0, 12 * H);
        let due = due_at(Some(&e), 0.4, 0);
        let base = 12 * H * 4 / 10;
        assert!(due >= base && due < base + 10 * 60_000, "due {due}");
        // Before the serving threshold, so `get` never sees a stale entry.
        assert!(due < serve_until(&e, MinRemaining::Fraction(0.5)));
        // Missing entries are due now.
        assert_eq!(due_at(None, 0.4, 77), 77);
    }

    /// Issue 22: a token that lives seconds (credentials about to expire) made the daemon
    /// renew as fast as it could.
    #[test]
    fn no_lifetime_makes_renewals_closer_than_the_floor() {
        for life in [0, 1, 1000, 30_000, 59_999] {
            let e = entry(Source::Fetched, 5000, 5000 + life);
            assert_eq!(
                due_at(Some(&e), 0.4, 5000),
                5000 + MIN_RENEWAL_GAP_MS,
                "life {life}"
            );
        }
        // A fetch time in the future (the clock went back) floors from now.
        let e = entry(Source::Fetched, H + 10_000, H + 11_000);
        assert_eq!(due_at(Some(&e), 0.4, H), H + MIN_RENEWAL_GAP_MS);
        // Real lifetimes are untouched.
        let e = entry(Source::Fetched, 0, 12 * H);
        assert!(due_at(Some(&e), 0.4, 0) >= 12 * H * 4 / 10);
    }

    #[test]
    fn jitter_is_bounded_and_spread() {
        let values: Vec<i64> = (0..200).map(|i| jitter(&format!("k{i}"), 1000)).collect();
        assert!(values.iter().all(|v| (0..1000).contains(v)));
        let distinct: std::collections::HashSet<_> = values.iter().collect();
        assert!(
            distinct.len() > 150,
            "jitter is not spread: {}",
            distinct.len()
        );
        assert_eq!(jitter("k", 0), 0);
    }

    #[test]
    fn renewal_point() {
        let e = entry(Source::Fetched, 1000, 1000 + 10 * H);
        assert_eq!(renew_at(&e, 0.4), 1000 + 4 * H);
        // Renewal comes before the serving threshold with the defaults.
        assert!(renew_at(&e, 0.4) < serve_until(&e, MinRemaining::Fraction(0.5)));
    }
}
