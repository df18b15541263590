//! Running another program with a bound: a helper on `PATH` asked for its `version`, a
//! service manager asked whether our service is enabled, the kubelet's credential provider
//! sent a request. Whatever it does, we stop waiting (and kill it) when the time is up.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a bounded run came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ran {
    /// It exited: whether successfully, and its stdout and stderr (at most 64 KiB each,
    /// lossy UTF-8).
    Exited {
        success: bool,
        stdout: String,
        stderr: String,
    },
    /// It did not exit within the limit, and was killed.
    TimedOut,
    /// It could not be started.
    Failed(String),
}

/// Runs `cmd` for at most `limit`, with `input` on its stdin (closed without).
pub(crate) fn run(mut cmd: Command, input: Option<&[u8]>, limit: Duration) -> Ran {
    let started = Instant::now();
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let spawned = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Ran::Failed(e.to_string()),
    };
    if let (Some(mut pipe), Some(input)) = (child.stdin.take(), input) {
        let input = input.to_vec();
        std::thread::spawn(move || pipe.write_all(&input));
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
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
    Ran::Exited {
        success: status.success(),
        stdout: collected(&stdout),
        stderr: collected(&stderr),
    }
}

/// Reads a pipe on a thread (the first 64 KiB kept, the rest read and dropped, so the
/// program never blocks on it).
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.by_ref().take(64 * 1024).read_to_end(&mut bytes);
            let _ = tx.send(bytes);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        });
    }
    rx
}

/// What a pipe held, if it closed soon after the program exited (a grandchild may keep it
/// open: its output is not worth waiting for).
fn collected(pipe: &mpsc::Receiver<Vec<u8>>) -> String {
    pipe.recv_timeout(Duration::from_millis(200))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The first line of a program's output, made safe to print: no control characters, at
/// most 80 characters.
pub(crate) fn first_line(text: &str) -> String {
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
        assert_eq!(run(cmd, None, Duration::from_millis(200)), Ran::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2));
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "read line; echo \"$line\"; echo oops >&2; exit 3"]);
        assert_eq!(
            run(cmd, Some(b"hello\n"), Duration::from_secs(5)),
            Ran::Exited {
                success: false,
                stdout: "hello\n".into(),
                stderr: "oops\n".into()
            }
        );
        assert!(matches!(
            run(Command::new("/nonexistent/x"), None, Duration::from_secs(1)),
            Ran::Failed(_)
        ));
        assert_eq!(first_line("\n  a\x1bb  \nc"), "a?b");
    }
}
