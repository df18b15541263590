//! The sd_notify protocol, by hand: one datagram to `$NOTIFY_SOCKET` per state change.
//! Outside systemd (and on macOS and Windows, whose service managers have no such
//! protocol) the variable is unset and every call is a no-op.

use ecr_login_core::env::Env;
use std::time::Duration;

pub(crate) struct Notifier {
    #[cfg(unix)]
    socket: Option<(std::os::unix::net::UnixDatagram, String)>,
    /// Half of `WatchdogSec`, when systemd asks for keep-alives.
    pub(crate) watchdog_interval: Option<Duration>,
}

impl Notifier {
    pub(crate) fn from_env(env: &dyn Env) -> Notifier {
        let watchdog_interval = env
            .var("WATCHDOG_USEC")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|_| {
                // WATCHDOG_PID, when set, must be us.
                env.var("WATCHDOG_PID")
                    .and_then(|p| p.parse::<u32>().ok())
                    .is_none_or(|p| p == std::process::id())
            })
            .map(|usec| Duration::from_micros(usec / 2));
        Notifier {
            #[cfg(unix)]
            socket: env.var("NOTIFY_SOCKET").and_then(|path| {
                let sock = std::os::unix::net::UnixDatagram::unbound().ok()?;
                Some((sock, path))
            }),
            watchdog_interval,
        }
    }

    #[cfg(unix)]
    pub(crate) fn notify(&self, state: &str) {
        let Some((sock, path)) = &self.socket else {
            return;
        };
        let result = if let Some(abstract_name) = path.strip_prefix('@') {
            abstract_addr(abstract_name).and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
        } else {
            sock.send_to(state.as_bytes(), path)
        };
        if let Err(e) = result {
            tracing::debug!("sd_notify to {path} failed: {e}");
        }
    }

    #[cfg(not(unix))]
    pub(crate) fn notify(&self, _state: &str) {}

    pub(crate) fn ready(&self, status: &str) {
        self.notify(&format!("READY=1\nSTATUS={status}"));
    }

    pub(crate) fn status(&self, status: &str) {
        self.notify(&format!("STATUS={status}"));
    }

    pub(crate) fn watchdog(&self) {
        if self.watchdog_interval.is_some() {
            self.notify("WATCHDOG=1");
        }
    }

    pub(crate) fn stopping(&self) {
        self.notify("STOPPING=1");
    }
}

#[cfg(target_os = "linux")]
fn abstract_addr(name: &str) -> std::io::Result<std::os::unix::net::SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
}

#[cfg(all(unix, not(target_os = "linux")))]
fn abstract_addr(_: &str) -> std::io::Result<std::os::unix::net::SocketAddr> {
    Err(std::io::Error::other("abstract sockets are Linux-only"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use ecr_login_core::env::MapEnv;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn sends_ready_to_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::from_env(&MapEnv::new([("NOTIFY_SOCKET", path.to_str().unwrap())]));
        n.ready("2 registries warm");
        let mut buf = [0u8; 128];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=2 registries warm");
    }

    #[test]
    fn watchdog_only_for_us() {
        let n = Notifier::from_env(&MapEnv::new([("WATCHDOG_USEC", "10000000")]));
        assert_eq!(n.watchdog_interval, Some(Duration::from_secs(5)));
        let n = Notifier::from_env(&MapEnv::new([
            ("WATCHDOG_USEC", "10000000"),
            ("WATCHDOG_PID", "1"),
        ]));
        assert_eq!(n.watchdog_interval, None);
    }
}
