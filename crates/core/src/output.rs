//! The one owner of stdout, stderr and exit codes. Every front end and every human
//! command ends here with its answer or its error, and this module says how each
//! protocol wants it told:
//!
//! - Docker's credential protocol: the answer on stdout; an error as one line on stdout
//!   (clients show it) and on stderr (people read it); "not found" quietly, exit 1, so the
//!   client goes anonymous.
//! - The kubelet and Bazel: the answer on stdout; an error on stderr only, since both parse
//!   stdout strictly.
//! - Human commands: text on stdout, errors on stderr, one prefixed line each.
//!
//! A closed stdout is not our error: the caller went away, and we exit quietly. Any other
//! failure to write the answer (a full disk, a closed descriptor) is: exit 1, with a line on
//! stderr, so it never looks like success.

#![allow(clippy::print_stderr)]

use crate::error::Error;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// Who reads the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Docker,
    Kubelet,
    Bazel,
    Human,
}

/// What a request comes to.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Our answer, for stdout.
    Answer(Vec<u8>),
    /// Another program answered in our place (the fallback helper, for a registry that is
    /// not ours): its stdout, stderr and exit code are the answer.
    Answered(ExitCode),
}

/// Tells a reply or an error the way `protocol` wants it; the exit code to return.
pub(crate) fn reply(protocol: Protocol, result: Result<Reply, Error>) -> ExitCode {
    match result {
        Ok(Reply::Answered(code)) => code,
        Ok(Reply::Answer(answer)) => finish(protocol, Ok(answer)),
        Err(e) => finish(protocol, Err(e)),
    }
}

/// Writes the answer or the error the way `protocol` wants it; the exit code to return.
pub fn finish(protocol: Protocol, result: Result<Vec<u8>, Error>) -> ExitCode {
    match result {
        Ok(answer) => written(write_stdout(&answer), ExitCode::SUCCESS),
        Err(e) => {
            report(protocol, &e);
            ExitCode::FAILURE
        }
    }
}

/// The exit code for an answer whose write went as `result`: `code` when it went out, or
/// when the reader had gone (a closed pipe); failure, said on stderr, otherwise.
pub fn written(result: std::io::Result<()>, code: ExitCode) -> ExitCode {
    match result {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            error_line(&format!("cannot write the answer to standard output: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// Tells an error the way `protocol` wants it.
pub(crate) fn report(protocol: Protocol, e: &Error) {
    let text = e.to_string();
    match protocol {
        Protocol::Docker => {
            // The same line goes to stderr below: a failed write adds nothing to say.
            let _ = write_stdout(format!("{text}\n").as_bytes());
            if !matches!(e, Error::NotFound) {
                error_line(&text);
            }
        }
        Protocol::Kubelet | Protocol::Bazel | Protocol::Human => {
            for line in text.lines() {
                error_line(line);
            }
        }
    }
}

/// One line for people on stderr, prefixed with our name.
pub fn error_line(line: &str) {
    eprintln!("docker-credential-ecr-login: {line}");
}

/// Writes to stdout; what every answer goes through. See [`written`] for what a failure
/// means.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush())
}

/// A protocol value as one JSON line.
pub(crate) fn json_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).expect("protocol types always serialise");
    line.push(b'\n');
    line
}
