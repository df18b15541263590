//! What to do with a command line: one table for both binaries. The protocol actions
//! (exactly one argument, as Docker calls them) and `version` are decided here; `get` and
//! everything else are each binary's own ([`Binary`]).

use crate::clock;
use crate::error::Error;
use crate::frontends::{self, docker};
use crate::output::{self, Protocol};
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Get,
    Store,
    Erase,
    List,
    Version,
    /// Everything else: the human commands, `daemon`, `kubelet`, `--help`, mistakes.
    Other,
}

/// The table: `<binary> <action>` with no further argument is a protocol action.
pub fn action(args: &[OsString]) -> Action {
    if args.len() != 2 {
        return Action::Other;
    }
    match args[1].to_str() {
        Some("get") => Action::Get,
        Some("store") => Action::Store,
        Some("erase") => Action::Erase,
        Some("list") => Action::List,
        Some("version" | "--version" | "-v" | "-V") => Action::Version,
        _ => Action::Other,
    }
}

/// What differs between the two binaries.
pub trait Binary {
    /// `get`, with its standard input already read.
    fn get(&self, args: &[OsString], input: String) -> ExitCode;
    /// Anything that is not a protocol action.
    fn other(&self, args: Vec<OsString>) -> ExitCode;
}

/// Runs the command line in `args` (the process's, in production).
pub fn run(binary: &dyn Binary, args: Vec<OsString>) -> ExitCode {
    let action = action(&args);
    if let Err(e) = crate::privilege::settle() {
        let protocol = match action {
            Action::Other => Protocol::Human,
            _ => Protocol::Docker,
        };
        return output::finish(protocol, Err(Error::from(e)));
    }
    match action {
        Action::Get => match frontends::read_stdin() {
            Ok(input) => binary.get(&args, input),
            Err(e) => output::finish(Protocol::Docker, Err(e.into())),
        },
        Action::Store | Action::Erase => {
            crate::logging::init();
            let input = match frontends::read_stdin() {
                Ok(input) => input,
                Err(e) => return output::finish(Protocol::Docker, Err(e.into())),
            };
            let (name, handled) = if action == Action::Store {
                ("store", docker::store(&input, clock::now_ms()))
            } else {
                ("erase", docker::erase(&input))
            };
            handled.finish(name, &input, || ExitCode::FAILURE)
        }
        Action::List => {
            crate::logging::init();
            output::finish(Protocol::Docker, docker::list(clock::now_ms()))
        }
        Action::Version => output::written(
            output::write_stdout(docker::version_line().as_bytes()),
            ExitCode::SUCCESS,
        ),
        Action::Other => binary.other(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_actions_take_exactly_one_argument() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        for (argv, want) in [
            (&["x", "get"][..], Action::Get),
            (&["x", "store"], Action::Store),
            (&["x", "erase"], Action::Erase),
            (&["x", "list"], Action::List),
            (&["x", "-v"], Action::Version),
            (&["x", "--version"], Action::Version),
            (&["x", "get", "extra"], Action::Other),
            (&["x"], Action::Other),
            (&["x", "status"], Action::Other),
        ] {
            assert_eq!(action(&args(argv)), want, "{argv:?}");
        }
    }
}
