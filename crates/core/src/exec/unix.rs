//! Unix: replace this process with the program, its stdin a pipe already holding the
//! request. A request larger than the pipe holds (a pipe can be one page when the user's
//! pipe quota is spent) would block that write forever with nobody to read, so the write
//! never blocks: the program then runs as a child that reads as we write, and its exit
//! status becomes ours.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

pub(super) fn run(
    mut cmd: Command,
    arg0: Option<&OsString>,
    stdin: Option<&[u8]>,
) -> io::Result<u8> {
    if let Some(arg0) = arg0 {
        cmd.arg0(arg0);
    }
    if let Some(input) = stdin {
        let (reader, mut writer) = io::pipe()?;
        set_nonblocking(&writer)?;
        match writer.write_all(input) {
            Ok(()) => {
                drop(writer);
                cmd.stdin(reader);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return feed_child(cmd, input),
            Err(e) => return Err(e),
        }
    }
    // Returns only if the exec failed.
    Err(cmd.exec())
}

fn set_nonblocking(fd: &impl AsRawFd) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl(2) on a descriptor we own, reading then setting its status flags.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) >= 0
    };
    if ok {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Runs `cmd` as a child, writes `input` to its stdin, and returns its exit status as
/// ours (a signal `N` as `128 + N`, as a shell reports it).
fn feed_child(mut cmd: Command, input: &[u8]) -> io::Result<u8> {
    let mut child = cmd.stdin(Stdio::piped()).spawn()?;
    if let Some(mut pipe) = child.stdin.take() {
        // A child that exits without reading all of it is not our error.
        let _ = pipe.write_all(input);
    }
    let status = child.wait()?;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    Ok(u8::try_from(code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More than any pipe holds, through a child that checks every byte arrived.
    #[test]
    fn a_request_larger_than_a_pipe_reaches_the_child_whole() {
        let input = vec![b'x'; 1 << 20];
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", r#"test "$(wc -c)" -eq 1048576 && exit 7"#]);
        assert_eq!(feed_child(cmd, &input).unwrap(), 7);
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "kill -TERM $$"]);
        assert_eq!(feed_child(cmd, b"").unwrap(), 128 + 15);
    }
}
