//! Asking a person for a one-time code: on the controlling terminal, never on stdin or
//! stdout (those may be pipes to a program, and stdout is a protocol channel elsewhere).

use ecr_login_core::secret::Secret;
use std::io::{BufRead, BufReader, Write};

/// Why no code was read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TtyError {
    #[error(
        "an MFA code has to be typed on a terminal, and there is none ({0}); run ecr-login login in a terminal"
    )]
    NoTerminal(std::io::Error),
    #[error("cannot use the terminal: {0}")]
    Io(std::io::Error),
    #[error("no MFA code: the terminal closed")]
    Closed,
    #[error("no valid MFA code after three tries")]
    NoValidCode,
}

/// Prints `prompt` on the terminal and reads one line: an MFA code of six digits, typed
/// without echo (as the AWS CLI's `getpass`), so the terminal and its recorders never show it.
pub(crate) fn read_code(prompt: &str) -> Result<Secret, TtyError> {
    let (input, mut output) = open().map_err(TtyError::NoTerminal)?;
    // Off before the first prompt, so nothing typed after it is echoed; back on when this
    // returns, whichever way (the guard's drop).
    let _echo = NoEcho::new(&input).map_err(TtyError::Io)?;
    for _ in 0..3 {
        output
            .write_all(prompt.as_bytes())
            .and_then(|()| output.flush())
            .map_err(TtyError::Io)?;
        let mut line = String::new();
        let n = BufReader::new(&input)
            .read_line(&mut line)
            .map_err(TtyError::Io)?;
        // The Enter the terminal did not echo.
        let _ = output.write_all(b"\n");
        if n == 0 {
            return Err(TtyError::Closed);
        }
        let code = line.trim();
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Secret::new(code));
        }
        let _ = output.write_all(b"an MFA code is six digits\n");
    }
    Err(TtyError::NoValidCode)
}

/// The terminal with its echo turned off, until dropped: then its settings as they were.
#[cfg(unix)]
struct NoEcho<'a> {
    tty: &'a std::fs::File,
    saved: libc::termios,
}

#[cfg(unix)]
impl NoEcho<'_> {
    fn new(tty: &std::fs::File) -> std::io::Result<NoEcho<'_>> {
        use std::os::fd::AsRawFd;
        let fd = tty.as_raw_fd();
        // SAFETY: tcgetattr fills the termios it is given; `fd` is the open terminal.
        let saved = unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut t) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            t
        };
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: a termios from tcgetattr, one flag changed.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(NoEcho { tty, saved })
    }
}

#[cfg(unix)]
impl Drop for NoEcho<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: the settings tcgetattr gave, back on the terminal they came from.
        unsafe { libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSANOW, &self.saved) };
    }
}

/// Windows' console has its own echo switch (`SetConsoleMode`); not turned off yet.
#[cfg(windows)]
struct NoEcho;

#[cfg(windows)]
impl NoEcho {
    fn new(_: &std::fs::File) -> std::io::Result<NoEcho> {
        Ok(NoEcho)
    }
}

#[cfg(unix)]
fn open() -> std::io::Result<(std::fs::File, std::fs::File)> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let out = tty.try_clone()?;
    Ok((tty, out))
}

#[cfg(windows)]
fn open() -> std::io::Result<(std::fs::File, std::fs::File)> {
    let input = std::fs::OpenOptions::new().read(true).open("CONIN$")?;
    let output = std::fs::OpenOptions::new().write(true).open("CONOUT$")?;
    Ok((input, output))
}
