//! Asking a person for a one-time code: on the controlling terminal, never on stdin or
//! stdout (those may be pipes to a program, and stdout is a protocol channel elsewhere).

use ecr_login_core::secret::Secret;
use std::io::{BufRead, BufReader, Write};

/// Prints `prompt` on the terminal and reads one line: an MFA code of six digits.
pub fn read_code(prompt: &str) -> Result<Secret, String> {
    let (input, mut output) = open().map_err(|e| {
        format!(
            "an MFA code has to be typed on a terminal, and there is none ({e}); run ecr-login login in a terminal"
        )
    })?;
    for _ in 0..3 {
        output
            .write_all(prompt.as_bytes())
            .and_then(|()| output.flush())
            .map_err(|e| format!("cannot write to the terminal: {e}"))?;
        let mut line = String::new();
        let n = BufReader::new(&input)
            .read_line(&mut line)
            .map_err(|e| format!("cannot read from the terminal: {e}"))?;
        if n == 0 {
            return Err("no MFA code: the terminal closed".into());
        }
        let code = line.trim();
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Secret::new(code));
        }
        let _ = output.write_all(b"an MFA code is six digits\n");
    }
    Err("no valid MFA code after three tries".into())
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
