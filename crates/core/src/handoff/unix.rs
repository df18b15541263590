//! Unix: replace this process with the program.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};

pub fn run(
    program: &Path,
    arg0: Option<&OsString>,
    args: &[OsString],
    stdin: Option<&[u8]>,
) -> io::Result<ExitCode> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Some(arg0) = arg0 {
        cmd.arg0(arg0);
    }
    if let Some(input) = stdin {
        let (reader, mut writer) = io::pipe()?;
        writer.write_all(input)?;
        drop(writer);
        cmd.stdin(reader);
    }
    // Returns only if the exec failed.
    Err(cmd.exec())
}
