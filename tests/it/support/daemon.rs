//! The renewal daemon as the tests run it: `ecr-login daemon` with its stderr read line by
//! line as it comes, optionally a `$NOTIFY_SOCKET` that hears what systemd would (READY=1,
//! STATUS=), and SIGTERM when it is dropped. Each line and each message raises the daemon's
//! [`Signal`], so a test waits on what the daemon says, never on a clock.

use super::harness::{Sandbox, terminate};
use super::wait::{Signal, wait_for};
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a daemon has to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// How to start a [`Daemon`]: its log level, and whether it has a `$NOTIFY_SOCKET`.
#[derive(Default)]
#[must_use]
pub struct Options {
    log: Option<&'static str>,
    notify: bool,
}

impl Options {
    /// `ECR_LOGIN_LOG` for the daemon (unset: the sandbox's, or the default).
    pub fn log(mut self, level: &'static str) -> Options {
        self.log = Some(level);
        self
    }

    /// A `$NOTIFY_SOCKET`, as systemd gives a `Type=notify` service: for [`Daemon::wait_ready`].
    pub fn notify(mut self) -> Options {
        self.notify = true;
        self
    }

    /// `daemon` in the sandbox's environment.
    pub fn start(self, s: &Sandbox) -> Daemon {
        self.spawn(s.command(&["daemon"]), s.dir.path())
    }

    /// `cmd` (a `daemon` command built elsewhere), its notify socket in `dir`.
    pub fn spawn(self, mut cmd: Command, dir: &Path) -> Daemon {
        let heard = Arc::new(Mutex::new(Heard::default()));
        let signal = Signal::default();
        let notify = self.notify.then(|| {
            let path = dir.join("notify.sock");
            let _ = std::fs::remove_file(&path);
            let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
            cmd.env("NOTIFY_SOCKET", &path);
            socket
        });
        if let Some(level) = self.log {
            cmd.env("ECR_LOGIN_LOG", level);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the daemon");
        let stderr = child.stderr.take().unwrap();
        let (sink, raise) = (Arc::clone(&heard), signal.clone());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut h = sink.lock().unwrap_or_else(PoisonError::into_inner);
                h.log.push_str(&line);
                h.log.push('\n');
                drop(h);
                raise.raise();
            }
        });
        if let Some(socket) = &notify {
            let (sink, raise) = (Arc::clone(&heard), signal.clone());
            let listener = socket.try_clone().expect("clone the notify socket");
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Ends when the daemon is dropped: it shuts the socket down.
                while let Ok(n @ 1..) = listener.recv(&mut buf) {
                    let message = String::from_utf8_lossy(&buf[..n]).into_owned();
                    sink.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .notices
                        .push(message);
                    raise.raise();
                }
            });
        }
        Daemon {
            child: Some(child),
            heard,
            signal,
            reader: Some(reader),
            notify,
        }
    }
}

/// How many sd_notify messages a daemon had sent: see [`Daemon::mark`].
#[derive(Clone, Copy)]
pub struct Mark(usize);

/// A running `ecr-login daemon`; SIGTERM, and a wait for it, when dropped.
pub struct Daemon {
    child: Option<Child>,
    heard: Arc<Mutex<Heard>>,
    signal: Signal,
    reader: Option<JoinHandle<()>>,
    notify: Option<UnixDatagram>,
}

/// What the daemon said so far.
#[derive(Default)]
struct Heard {
    /// Its stderr.
    log: String,
    /// Each sd_notify message, in order.
    notices: Vec<String>,
}

impl Daemon {
    pub fn options() -> Options {
        Options::default()
    }

    /// `daemon` in the sandbox's environment, as it is: no notify socket, its log level.
    pub fn start(s: &Sandbox) -> Daemon {
        Options::default().start(s)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid, not yet waited for.
        assert_eq!(unsafe { libc::kill(self.pid() as i32, sig) }, 0);
    }

    /// Its stderr so far.
    pub fn log(&self) -> String {
        self.heard().log.clone()
    }

    /// Blocks until systemd would see the daemon ready (READY=1 over `$NOTIFY_SOCKET`).
    #[track_caller]
    pub fn wait_ready(&self) {
        assert!(self.notify.is_some(), "started without Options::notify");
        self.wait_until(
            "READY=1 over $NOTIFY_SOCKET",
            Duration::from_secs(20),
            || self.heard().notices.iter().any(|n| n.contains("READY=1")),
        );
    }

    /// Blocks until `needle` is in the log.
    #[track_caller]
    pub fn wait_for_log(&self, needle: &str, limit: Duration) {
        self.wait_until(&format!("daemon log: {needle}"), limit, || {
            self.heard().log.contains(needle)
        });
    }

    /// Where the daemon's sd_notify messages stand now: for [`Daemon::wait_for_report`],
    /// taken before the test does what the daemon is to act on.
    pub fn mark(&self) -> Mark {
        Mark(self.heard().notices.len())
    }

    /// Blocks until the daemon has logged `needle` and has sent a notify message since
    /// `since`. The daemon sends STATUS at the end of each pass that changed something, after
    /// writing what it changed (its state, the config it records to), where a log line may
    /// come before those writes. For a test where nothing else changes meanwhile.
    #[track_caller]
    pub fn wait_for_report(&self, needle: &str, since: Mark, limit: Duration) {
        assert!(self.notify.is_some(), "started without Options::notify");
        let what = format!("daemon log: {needle}, then a STATUS");
        self.wait_until(&what, limit, || {
            let h = self.heard();
            h.log.contains(needle) && h.notices.len() > since.0
        });
    }

    /// Blocks until `done` holds: looked at now and after each log line or notify message.
    /// Panics with what the daemon said when it does not within `limit`.
    #[track_caller]
    pub fn wait_until(&self, what: &str, limit: Duration, done: impl FnMut() -> bool) {
        if !wait_for(limit, &self.signal, done) {
            let h = self.heard();
            panic!(
                "{what} did not happen within {limit:?}\nnotify: {:?}\ndaemon log:\n{}",
                h.notices, h.log
            );
        }
    }

    /// SIGTERM; its exit status and everything it wrote to stderr.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let status = self.terminate().expect("running");
        (status, self.log())
    }

    /// [`Daemon::stop`], asserting it exited 0; its stderr.
    #[track_caller]
    pub fn stop_ok(self) -> String {
        let (status, log) = self.stop();
        assert!(status.success(), "the daemon exited {status:?}:\n{log}");
        log
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        let status = terminate(self.child.take()?, GRACE);
        // Its stderr is closed now: the reader has the last line.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Some(status)
    }

    fn heard(&self) -> std::sync::MutexGuard<'_, Heard> {
        self.heard.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.terminate();
        if let Some(socket) = &self.notify {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }
}
