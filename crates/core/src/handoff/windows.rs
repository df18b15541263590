//! Windows: no `exec`, so the program runs as a child with our stdout and stderr, and its
//! exit code becomes ours.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

pub fn run(
    program: &Path,
    _arg0: Option<&OsString>,
    args: &[OsString],
    stdin: Option<&[u8]>,
) -> io::Result<ExitCode> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    let mut child = cmd.spawn()?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A child that exits without reading is not our error.
        let _ = pipe.write_all(input);
    }
    let status = child.wait()?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
