//! Logs go to stderr, for people; `ECR_LOGIN_LOG` takes `error`, `warn` (default), `info`,
//! `debug` or `trace`, or per-target directives such as `ecr_login=debug,aws_config=info`.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

pub const LOG_ENV: &str = "ECR_LOGIN_LOG";

/// Installs the stderr subscriber, once per process.
pub fn init() {
    let spec = std::env::var(LOG_ENV).unwrap_or_default();
    let filter = match spec.trim() {
        "" => Targets::new().with_default(LevelFilter::WARN),
        s => match s.parse::<LevelFilter>() {
            Ok(level) => Targets::new().with_default(level),
            Err(_) => s
                .parse::<Targets>()
                .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::WARN)),
        },
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}
