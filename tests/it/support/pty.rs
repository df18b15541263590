//! Running a command on a pseudo-terminal, answering its prompts ([`run_in_pty`]), or with no
//! terminal at all ([`detach_from_tty`]): for the MFA prompt, which must go to the
//! controlling terminal (`/dev/tty`), never to stdout (Docker reads stdout), and must not be
//! attempted when there is no terminal.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Which of the child's standard streams are pipes rather than the terminal.
#[derive(Debug, Clone, Default)]
pub struct PtyStdio {
    /// stdin is a pipe fed these bytes, then closed (a credential helper's request); `None`:
    /// stdin is the terminal.
    pub stdin: Option<Vec<u8>>,
    /// stdout is a pipe, captured into [`PtyOutput::stdout`].
    pub pipe_stdout: bool,
    /// stderr is a pipe, captured into [`PtyOutput::stderr`].
    pub pipe_stderr: bool,
}

impl PtyStdio {
    /// stdin, stdout and stderr all the terminal.
    pub fn terminal() -> PtyStdio {
        PtyStdio::default()
    }

    /// stdout a pipe (to assert a prompt never went there), stdin and stderr the terminal.
    pub fn keep_stdout_piped() -> PtyStdio {
        PtyStdio {
            pipe_stdout: true,
            ..PtyStdio::default()
        }
    }

    /// As a credential helper runs under Docker, but with a terminal: stdin a pipe fed
    /// `request`, stdout a pipe, stderr the terminal.
    pub fn helper(request: &[u8]) -> PtyStdio {
        PtyStdio {
            stdin: Some(request.to_vec()),
            pipe_stdout: true,
            pipe_stderr: false,
        }
    }
}

#[derive(Debug)]
pub struct PtyOutput {
    /// Everything written to the terminal (the child's own output and the terminal's echo
    /// of the answers), with the terminal's `\r\n` turned back into `\n`.
    pub output: String,
    /// The child's stdout if piped ([`PtyStdio::pipe_stdout`]), else empty.
    pub stdout: String,
    /// The child's stderr if piped, else empty.
    pub stderr: String,
    pub status: ExitStatus,
    /// The child was still running at the timeout and was killed.
    pub timed_out: bool,
    /// How many of the answers were given (their prompts seen).
    pub answered: usize,
    /// Whether the terminal echoed input when the child had gone (a program that turns
    /// echo off for a secret must turn it back on, on every path).
    pub echo_at_exit: bool,
}

/// Runs `cmd` with a new pseudo-terminal as its controlling terminal (a new session), stdin,
/// stdout and stderr on it; see [`run_in_pty_with`].
pub fn run_in_pty(cmd: Command, answers: &[(&str, &str)], timeout: Duration) -> PtyOutput {
    run_in_pty_with(cmd, answers, timeout, PtyStdio::terminal())
}

/// Runs `cmd` on a new pseudo-terminal. `answers` are (prompt, answer) pairs, taken in
/// order: once the terminal output after the previous prompt contains `prompt`, `answer` and
/// a newline are typed. Waits for the child to exit, at most `timeout` (then kills it).
/// The stdio `cmd` had set is replaced as `stdio` says.
pub fn run_in_pty_with(
    mut cmd: Command,
    answers: &[(&str, &str)],
    timeout: Duration,
    stdio: PtyStdio,
) -> PtyOutput {
    let (master, slave) = open_pty();
    let slave_fd = slave.as_raw_fd();
    let term = |what| {
        let fd = slave
            .try_clone()
            .unwrap_or_else(|e| panic!("dup pty {what}: {e}"));
        Stdio::from(fd)
    };
    cmd.stdin(if stdio.stdin.is_some() {
        Stdio::piped()
    } else {
        term("stdin")
    });
    cmd.stdout(if stdio.pipe_stdout {
        Stdio::piped()
    } else {
        term("stdout")
    });
    cmd.stderr(if stdio.pipe_stderr {
        Stdio::piped()
    } else {
        term("stderr")
    });
    // SAFETY: setsid and ioctl are async-signal-safe; slave_fd stays open in the child until
    // exec (it is close-on-exec), which is after this runs.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn the command on a pty");
    // The parent's copies of the slave: without them the master sees EOF (EIO) once every
    // process on the terminal has closed it.
    drop(cmd);
    drop(slave);
    if let (Some(mut pipe), Some(input)) = (child.stdin.take(), stdio.stdin) {
        thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let capture = |pipe: Option<Box<dyn Read + Send>>| {
        pipe.map(|mut p| {
            thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = p.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        })
    };
    let stdout = capture(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = capture(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );

    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut answered = 0;
    // Where the search for the next prompt starts.
    let mut from = 0;
    let mut timed_out = false;
    let mut exited_at: Option<Instant> = None;
    let status = loop {
        let open = read_some(&master, &mut out, Duration::from_millis(50));
        while let Some((prompt, answer)) = answers.get(answered) {
            let Some(at) = find(&out[from..], prompt.as_bytes()) else {
                break;
            };
            from += at + prompt.len();
            answered += 1;
            // As a person would, a moment after the prompt: a program that flushes the
            // terminal's input after prompting (TCSAFLUSH) would lose an instant answer.
            thread::sleep(Duration::from_millis(100));
            let line = format!("{answer}\n");
            let mut m = &master;
            if m.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
        if let Some(status) = child.try_wait().expect("wait for the child") {
            // Drain what is left: until EOF, or a quiet moment (a grandchild may keep the
            // terminal open).
            let since = *exited_at.get_or_insert_with(Instant::now);
            if !open || since.elapsed() > Duration::from_millis(300) {
                break status;
            }
            continue;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for the killed child");
        }
        if !open {
            // EOF on the master but the child runs on (it closed the terminal): wait.
            thread::sleep(Duration::from_millis(20));
        }
    };
    // SAFETY: tcgetattr fills a termios of ours; the master speaks for the pair.
    let echo_at_exit = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(master.as_raw_fd(), &mut t) == 0 && t.c_lflag & libc::ECHO != 0
    };
    let join = |h: Option<thread::JoinHandle<String>>| {
        h.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
    };
    PtyOutput {
        output: String::from_utf8_lossy(&out).replace("\r\n", "\n"),
        stdout: join(stdout),
        stderr: join(stderr),
        status,
        timed_out,
        answered,
        echo_at_exit,
    }
}

/// Makes `cmd` start a new session, with no controlling terminal: opening `/dev/tty` fails
/// (ENXIO), as under Docker, CI or a service. Give it `Stdio::null()` or a pipe for stdin
/// too, so that stdin is not a terminal either.
pub fn detach_from_tty(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A new pty: (master, slave), both close-on-exec.
fn open_pty() -> (std::fs::File, OwnedFd) {
    let (mut master, mut slave): (RawFd, RawFd) = (-1, -1);
    // SAFETY: openpty writes two descriptors; the name, termios and winsize are optional.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            // `*mut` on macOS, `*const` on Linux: a null of either kind coerces.
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", io::Error::last_os_error());
    for fd in [master, slave] {
        // SAFETY: fcntl on descriptors we own. (Another thread's fork can still inherit them
        // before this: harmless here, no read waits for the terminal's EOF.)
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: openpty returned two new descriptors owned by nobody else.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        )
    }
}

/// Reads what the master has within `wait`, appending to `out`; false at EOF (EIO: every
/// slave descriptor closed).
fn read_some(master: &std::fs::File, out: &mut Vec<u8>, wait: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd: master.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    if n <= 0 {
        return true;
    }
    let mut buf = [0u8; 4096];
    let mut m = master;
    match m.read(&mut buf) {
        Ok(0) => false,
        Ok(n) => {
            out.extend_from_slice(&buf[..n]);
            true
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
        Err(_) => false,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
