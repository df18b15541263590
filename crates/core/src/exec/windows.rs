//! Windows: no `exec`, so the program runs as a child with our stdout and stderr, and its
//! exit code becomes ours. Ctrl-C and a closed console reach both of us (they share the
//! console); the child is also in a job that ends with us, so a caller that kills us (a
//! timeout in Docker or the kubelet) ends it too.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::{Command, Stdio};

pub(super) fn run(
    mut cmd: Command,
    _arg0: Option<&OsString>,
    stdin: Option<&[u8]>,
) -> io::Result<u8> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    let mut child = cmd.spawn()?;
    end_with_us(&child);
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A child that exits without reading is not our error.
        let _ = pipe.write_all(input);
    }
    let status = child.wait()?;
    Ok(status
        .code()
        .map_or(1, |code| u8::try_from(code).unwrap_or(1)))
}

/// Puts `child` in a job object that kills it when our last handle to the job closes,
/// which happens when we exit however we exit. Best effort: without it, the child still
/// finishes its one request and exits.
fn end_with_us(child: &std::process::Child) {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject,
    };
    // SAFETY: plain Win32 calls on a job handle we created and the child's live process
    // handle; the struct is plain data, zeroed then given one flag. The job handle is
    // deliberately never closed: closing it (at our exit) is what ends the child.
    unsafe {
        let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
        if job.is_null() {
            return;
        }
        let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        let set = SetInformationJobObject(
            job,
            JobObjectExtendedLimitInformation,
            (&raw const info).cast(),
            std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        );
        if set != 0 {
            AssignProcessToJobObject(job, child.as_raw_handle());
        }
    }
}
