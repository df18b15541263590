//! Durations as people write them in the config (`90s`, `1h30m`), as Go prints them (the
//! kubelet's `cacheDuration`), and roughly, for `status` and logs.

use std::time::Duration;

/// The longest duration the config accepts: a century, far beyond any token's life, and
/// small enough that adding it to any timestamp cannot overflow.
pub(crate) const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Why a config value is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DurationError {
    NotADuration(String),
    TooLong(String),
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationError::NotADuration(v) => write!(
                f,
                "{v:?} is not a duration (examples: 90s, 30m, 2h, 7d, 1h30m)"
            ),
            DurationError::TooLong(v) => write!(f, "{v:?} is longer than a century"),
        }
    }
}

impl std::error::Error for DurationError {}

/// `90s`, `30m`, `2h`, `7d`, `1h30m`, `500ms`. Longer than [`MAX`] is an error, never an
/// overflow.
pub(crate) fn parse(v: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError::NotADuration(v.to_string());
    let too_long = || DurationError::TooLong(v.to_string());
    let mut rest = v.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| too_long())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_ms: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let term = n
            .checked_mul(unit_ms)
            .map(Duration::from_millis)
            .ok_or_else(too_long)?;
        total = total
            .checked_add(term)
            .filter(|t| *t <= MAX)
            .ok_or_else(too_long)?;
    }
    Ok(total)
}

/// `5h59m12s`-style, Go's syntax, which the kubelet expects.
pub(crate) fn go(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// Rough, for people: `5h59m`, `42s`, `3d4h`, `-42s`.
pub fn human(ms: i64) -> String {
    let secs = ms.unsigned_abs() / 1000;
    let sign = if ms < 0 { "-" } else { "" };
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let body = match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s}s"),
        (0, _, _) => format!("{h}h{m}m"),
        _ => format!("{d}d{h}h"),
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        for (input, secs) in [
            ("90s", 90),
            ("30m", 1800),
            ("2h", 7200),
            ("7d", 604800),
            ("1h30m", 5400),
        ] {
            assert_eq!(parse(input).unwrap(), Duration::from_secs(secs), "{input}");
        }
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "h", "5", "5x", "1.5h", "-1s"] {
            assert!(
                parse(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("not a duration"),
                "{bad}"
            );
        }
    }

    /// Issue 13: many huge terms overflowed the sum and panicked.
    #[test]
    fn huge_durations_are_errors_not_panics() {
        let many = "213503982334601d".repeat(40);
        for huge in [
            "99999999999999999999d",
            "18446744073709551615ms18446744073709551615ms",
            many.as_str(),
            "36501d",
        ] {
            assert!(
                parse(huge)
                    .unwrap_err()
                    .to_string()
                    .contains("longer than a century"),
                "{huge}"
            );
        }
        assert_eq!(parse("36500d").unwrap(), MAX);
    }

    #[test]
    fn prints_like_go_and_for_people() {
        for (ms, want) in [
            (0, "0s"),
            (59_999, "59s"),
            (61_000, "1m1s"),
            (21_552_000, "5h59m12s"),
            (-5, "0s"),
        ] {
            assert_eq!(go(ms), want);
        }
        assert_eq!(human(3 * 86_400_000 + 4 * 3_600_000), "3d4h");
        assert_eq!(human(-42_000), "-42s");
    }
}
