//! What tells the daemon to stop or to re-read its config: SIGTERM/SIGINT and SIGHUP on
//! Unix; Ctrl-C/close on Windows, which has no SIGHUP (the config file is watched
//! instead).

#[cfg(unix)]
use crate::error::CommandError;
use ecr_login_core::error::Error;
use std::future::Future;
use std::pin::Pin;

/// A future that completes on each request to re-read the config (SIGHUP in production).
pub type Reload = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub(crate) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts watching; needs a running tokio runtime.
    #[cfg(unix)]
    pub(crate) fn new() -> Result<Signals, Error> {
        use tokio::signal::unix::{SignalKind, signal};
        let sig = |kind| signal(kind).map_err(|e| Error::from(CommandError::Signals(e)));
        Ok(Signals {
            term: sig(SignalKind::terminate())?,
            int: sig(SignalKind::interrupt())?,
            hup: sig(SignalKind::hangup())?,
        })
    }

    #[cfg(windows)]
    pub(crate) fn new() -> Result<Signals, Error> {
        Ok(Signals {})
    }

    /// The shutdown future and the reload trigger [`super::run`] takes.
    #[cfg(unix)]
    pub(crate) fn split(self) -> (impl Future<Output = ()>, Reload) {
        let Signals {
            mut term,
            mut int,
            hup,
        } = self;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        let hup = std::sync::Arc::new(tokio::sync::Mutex::new(hup));
        let reload: Reload = Box::new(move || {
            let hup = hup.clone();
            Box::pin(async move {
                hup.lock().await.recv().await;
            }) as Pin<Box<dyn Future<Output = ()> + Send>>
        });
        (shutdown, reload)
    }

    /// Windows: Ctrl-C or Ctrl-Break, a closed console, logoff and shutdown stop it. There
    /// is no SIGHUP: the daemon notices a changed config file by itself.
    #[cfg(windows)]
    pub(crate) fn split(self) -> (impl Future<Output = ()>, Reload) {
        use tokio::signal::windows;
        let shutdown = async {
            let (Ok(mut c), Ok(mut b), Ok(mut close), Ok(mut logoff), Ok(mut down)) = (
                windows::ctrl_c(),
                windows::ctrl_break(),
                windows::ctrl_close(),
                windows::ctrl_logoff(),
                windows::ctrl_shutdown(),
            ) else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = c.recv() => {}
                _ = b.recv() => {}
                _ = close.recv() => {}
                _ = logoff.recv() => {}
                _ = down.recv() => {}
            }
        };
        let reload: Reload = Box::new(|| {
            Box::pin(std::future::pending()) as Pin<Box<dyn Future<Output = ()> + Send>>
        });
        (shutdown, reload)
    }
}
