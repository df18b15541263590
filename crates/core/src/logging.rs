//! Logs go to stderr, for people; `ECR_LOGIN_LOG` takes `error`, `warn` (default), `info`,
//! `debug` or `trace`, or per-target directives such as `ecr_login=debug,aws_config=info`.
//!
//! The default shows our own lines only: a `get` without credentials prints exactly its
//! one line, not the SDK's provider-chain warnings above it. Other crates (the AWS SDK,
//! hyper, rustls) appear from `debug` on, and never above `debug`, whatever is asked: at
//! `trace` the SDK logs request and response bodies, which hold ECR tokens and STS
//! session credentials.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

pub(crate) const LOG_ENV: &str = "ECR_LOGIN_LOG";

/// Our crates' targets.
const OURS: [&str; 2] = ["ecr_login", "ecr_login_core"];

/// The most any other crate may log.
const OTHERS_MAX: LevelFilter = LevelFilter::DEBUG;

/// Installs the stderr subscriber, once per process.
pub fn init() {
    let spec = std::env::var(LOG_ENV).unwrap_or_default();
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter(&spec)))
        .try_init();
}

/// The filter for an `ECR_LOGIN_LOG` value.
pub(crate) fn filter(spec: &str) -> Targets {
    let ours_and_others = |ours: LevelFilter| {
        let others = if ours >= LevelFilter::DEBUG {
            OTHERS_MAX
        } else {
            LevelFilter::OFF
        };
        OURS.iter()
            .fold(Targets::new(), |t, target| t.with_target(*target, ours))
            .with_default(others)
    };
    match spec.trim() {
        "" => ours_and_others(LevelFilter::WARN),
        s => match s.parse::<LevelFilter>() {
            Ok(level) => ours_and_others(level),
            Err(_) => match s.parse::<Targets>() {
                Ok(directives) => capped(&directives),
                Err(_) => ours_and_others(LevelFilter::WARN),
            },
        },
    }
}

/// Directives as given, with every target that is not ours capped at [`OTHERS_MAX`].
fn capped(directives: &Targets) -> Targets {
    let cap = |target: &str, level: LevelFilter| {
        if OURS
            .iter()
            .any(|o| target == *o || target.starts_with(&format!("{o}::")))
        {
            level
        } else {
            level.min(OTHERS_MAX)
        }
    };
    let mut out = OURS.iter().fold(Targets::new(), |t, target| {
        t.with_target(*target, LevelFilter::WARN)
    });
    for (target, level) in directives.iter() {
        out = out.with_target(target, cap(target, level));
    }
    out.with_default(
        directives
            .default_level()
            .map_or(LevelFilter::OFF, |l| l.min(OTHERS_MAX)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn allows(spec: &str, target: &str, level: Level) -> bool {
        filter(spec).would_enable(target, &level)
    }

    #[test]
    fn the_default_is_our_warnings_only() {
        assert!(allows("", "ecr_login_core::token", Level::WARN));
        assert!(!allows("", "ecr_login", Level::INFO));
        assert!(!allows(
            "",
            "aws_config::meta::credentials::chain",
            Level::WARN
        ));
    }

    #[test]
    fn others_appear_from_debug_on_and_never_above_it() {
        assert!(!allows("info", "aws_config", Level::WARN));
        assert!(allows("debug", "aws_config", Level::WARN));
        assert!(allows("trace", "ecr_login", Level::TRACE));
        assert!(!allows(
            "trace",
            "aws_smithy_runtime::client::http",
            Level::TRACE
        ));
        assert!(allows("trace", "aws_smithy_runtime", Level::DEBUG));
        // Explicit directives are capped too.
        assert!(!allows(
            "aws_smithy_runtime=trace",
            "aws_smithy_runtime",
            Level::TRACE
        ));
        assert!(!allows("trace,ecr_login=info", "hyper", Level::TRACE));
        assert!(allows("ecr_login=debug", "ecr_login::renew", Level::DEBUG));
        assert!(allows("ecr_login=debug", "ecr_login_core", Level::WARN));
    }
}
