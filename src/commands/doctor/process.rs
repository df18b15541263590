//! Running another program with a bound: a helper on `PATH` asked for its `version`, or a
//! service manager asked whether our service is enabled. Whatever it does, we stop waiting
//! (and kill it) when the time is up.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a bounded run came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// It exited: whether successfully, and its stdout (at most 64 KiB, lossy UTF-8).
    Exited { success: bool, stdout: String },
    /// It did not exit within the limit, and was killed.
    TimedOut,
    /// It could not be started.
    Failed(String),
}

/// Runs `cmd` (stdin and stderr closed) for at most `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Ran {
    let started = Instant::now();
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return Ran::Failed(e.to_string()),
    };
    let (tx, rx) = mpsc::channel();
    if let Some(pipe) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.take(64 * 1024).read_to_end(&mut bytes);
            let _ = tx.send(bytes);
        });
    }
    let mut pause = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Ran::TimedOut;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            Err(e) => return Ran::Failed(e.to_string()),
        }
    };
    // A grandchild may keep the pipe open: its output is not worth waiting for.
    let stdout = rx
        .recv_timeout(Duration::from_millis(200))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Ran::Exited {
        success: status.success(),
        stdout,
    }
}

/// The first line of a program's output, made safe to print: no control characters, at
/// most 80 characters.
pub fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let clean: String = line
        .trim()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() > 80 {
        format!("{}…", clean.chars().take(79).collect::<String>())
    } else {
        clean
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_hangs_is_killed_at_its_limit() {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "sleep 30"]);
        let started = Instant::now();
        assert_eq!(run(cmd, Duration::from_millis(200)), Ran::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2));
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "echo hello; exit 3"]);
        assert_eq!(
            run(cmd, Duration::from_secs(5)),
            Ran::Exited {
                success: false,
                stdout: "hello\n".into()
            }
        );
        assert!(matches!(
            run(Command::new("/nonexistent/x"), Duration::from_secs(1)),
            Ran::Failed(_)
        ));
        assert_eq!(first_line("\n  a\x1bb  \nc"), "a?b");
    }
}
