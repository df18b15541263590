//! The one owner of stdout, stderr and exit codes. Every front end and every human
//! command ends here with its answer or its error, and this module says how each
//! protocol wants it told:
//!
//! - Docker's credential protocol: the answer on stdout; an error as one line on stdout
//!   (clients show it) and on stderr (people read it); "not found" quietly, exit 1, so the
//!   client goes anonymous. An ECR registry whose token we could not get says why, and
//!   also reads as "not found" to the clients that would otherwise abort a whole build on
//!   it ([`mark_failed_get`]).
//! - The kubelet and Bazel: the answer on stdout; an error on stderr only, since both parse
//!   stdout strictly.
//! - Human commands: text on stdout, errors on stderr, one prefixed line each.
//!
//! A closed stdout is not our error: the caller went away, and we exit quietly. Any other
//! failure to write the answer (a full disk, a closed descriptor) is: exit 1, with a line on
//! stderr, so it never looks like success.

#![allow(clippy::print_stderr)]

use crate::frontends::error::{Error, NOT_FOUND};
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

/// Ends the line of a failed `get` for an ECR registry with the Go helper's not-found text
/// in brackets, after our own reason (issue 28). Clients read the line so (from their
/// source):
///
/// - docker-credential-helpers' Go client (`client.Get`; docker, BuildKit, buildx, and
///   podman, skopeo and buildah through containers/image `pkg/docker/config`): "not found"
///   only when the whole output, trimmed of white space, *is* `credentials not found in
///   native keychain` (`credentials.IsErrCredentialsNotFoundMessage`, case-sensitive). Ours
///   is not, so it stays an error, shown with our line in it: ``error getting credentials -
///   err: exit status 1, out: `<line>` ``. It passes our stderr through to the user's.
///   (`docker pull` up to 28 drops the error and goes anonymous; 29 stops on it.)
/// - docker-py (`docker/credentials/errors.py`, `process_store_error`), and the copies in
///   Compose 1.x, SAM CLI, Ansible's community.docker: "not found" when the output
///   *contains* that text (case-sensitive). So the registry gets no credentials and the
///   build goes on, where any other answer raises `Credentials store error` and stops every
///   build (`get_all_credentials` asks for each `credHelpers` entry, and `list` + `get` on
///   the `credsStore`). A pull from that registry then fails as unauthorised; our stderr,
///   which docker-py does not capture, has said why.
/// - testcontainers-node: any non-zero exit is "try the next source"; it reads stdout only.
/// - oras-py: any non-zero exit is a warning quoting our stderr, then anonymous.
fn mark_failed_get(line: &mut String) {
    line.push_str(" (");
    line.push_str(NOT_FOUND);
    line.push(')');
}

/// Tells an error the way `protocol` wants it.
pub(crate) fn report(protocol: Protocol, e: &Error) {
    let text = e.to_string();
    match protocol {
        Protocol::Docker => {
            // Clients put it on a terminal: no escape sequence from a path or a variable
            // takes effect there, and it stays one line.
            let mut line = crate::printable::line(&text);
            // A failed ECR registry must not stop builds that do not use it (issue 28).
            if matches!(e, Error::Fetch { .. }) {
                mark_failed_get(&mut line);
            }
            // The same line goes to stderr below: a failed write adds nothing to say.
            let _ = write_stdout(format!("{line}\n").as_bytes());
            if !matches!(e, Error::NotFound) {
                error_line(&line);
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
