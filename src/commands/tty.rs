//! Asking a person for a one-time code: on the controlling terminal, never on stdin or
//! stdout (those may be pipes to a program, and stdout is a protocol channel elsewhere).

use ecr_login_core::secret::Secret;
use std::io::{BufRead, BufReader, Write};

/// Why no code was read.
#[derive(Debug)]
pub enum TtyError {
    NoTerminal(std::io::Error),
    Io(std::io::Error),
    Closed,
    NoValidCode,
}

impl std::fmt::Display for TtyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TtyError::NoTerminal(e) => write!(
                f,
                "an MFA code has to be typed on a terminal, and there is none ({e}); run ecr-login login in a terminal"
            ),
            TtyError::Io(e) => write!(f, "cannot use the terminal: {e}"),
            TtyError::Closed => f.write_str("no MFA code: the terminal closed"),
            TtyError::NoValidCode => f.write_str("no valid MFA code after three tries"),
        }
    }
}

impl std::error::Error for TtyError {}

/// Prints `prompt` on the terminal and reads one line: an MFA code of six digits.
pub fn read_code(prompt: &str) -> Result<Secret, TtyError> {
    let (input, mut output) = open().map_err(TtyError::NoTerminal)?;
    for _ in 0..3 {
        output
            .write_all(prompt.as_bytes())
            .and_then(|()| output.flush())
            .map_err(TtyError::Io)?;
        let mut line = String::new();
        let n = BufReader::new(&input)
            .read_line(&mut line)
            .map_err(TtyError::Io)?;
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
