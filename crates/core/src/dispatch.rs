//! What to do with a command line: one table and one request path for both binaries. The
//! protocol actions (exactly one argument, as Docker calls them) and `version` are decided
//! and answered here, with the config, cache and environment loaded once; what differs
//! between the binaries is the [`Fetcher`] a miss goes to and the commands that are not
//! protocol actions ([`Binary`]).

use crate::clock;
use crate::frontends::docker;
use crate::frontends::docker::protocol::{Action, Request};
use crate::frontends::error::Error;
use crate::frontends::output::{self, Protocol, Reply};
use crate::frontends::{self, bazel};
use crate::privilege::Settled;
use crate::token::cache::Cache;
use crate::token::config::Config;
use crate::token::fetch::Fetcher;
use crate::token::resolve::Context;
use std::ffi::OsString;
use std::process::ExitCode;

/// What a command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// A Docker credential protocol action (a Bazel request comes as `get`).
    Protocol(Action),
    Version,
    /// Everything else: the human commands, `daemon`, `kubelet`, `--help`, mistakes.
    Other,
}

/// The table: `<binary> <action>` with no further argument is a protocol action.
pub(crate) fn command(args: &[OsString]) -> Command {
    if args.len() != 2 {
        return Command::Other;
    }
    match args[1].to_str() {
        Some("version" | "--version" | "-v" | "-V") => Command::Version,
        Some(name) => Action::from_name(name).map_or(Command::Other, Command::Protocol),
        None => Command::Other,
    }
}

/// What differs between the two binaries.
pub trait Binary {
    /// The fetcher a `get` that misses the cache goes to; `args` and `input` are the
    /// command line and standard input it came with.
    fn fetcher<'a>(&'a self, args: &'a [OsString], input: &'a str) -> Box<dyn Fetcher + 'a>;
    /// Anything that is not a protocol action.
    fn other(&self, args: Vec<OsString>) -> ExitCode;
    /// Whether this binary may become another user, as root with that user's files (the
    /// full one); otherwise it hands the whole command to one that may.
    fn may_switch(&self) -> bool;
}

/// Runs the command line in `args` (the process's, in production).
pub fn run(binary: &dyn Binary, args: Vec<OsString>) -> ExitCode {
    let command = command(&args);
    // `version` touches no file: whoever runs it, wherever, it answers.
    if command == Command::Version {
        return output::written(
            output::write_stdout(docker::version_line().as_bytes()),
            ExitCode::SUCCESS,
        );
    }
    let protocol = match command {
        Command::Other => Protocol::Human,
        _ => Protocol::Docker,
    };
    match crate::privilege::settle(binary.may_switch(), &mut |line| output::error_line(&line)) {
        Ok(Settled::Ready) => {}
        // The full binary becomes the user itself, so it is never dumpable as that user.
        Ok(Settled::HandOff) => return binary.other(args),
        // Root that could not become the owner of the files: only the protocol actions,
        // which write nothing there (the cache and the login store are off).
        Ok(Settled::Limited) if command == Command::Other => {
            let uid = crate::privilege::cannot_act_as().unwrap_or_default();
            return output::finish(protocol, Err(crate::privilege::limited_error(uid).into()));
        }
        Ok(Settled::Limited) => {}
        Err(e) => return output::finish(protocol, Err(Error::from(e))),
    }
    crate::hooks::point("privilege.settled", std::path::Path::new(""));
    match command {
        Command::Protocol(action) => {
            // `list` reads nothing: clients send it no request.
            let input = match action {
                Action::List => Ok(String::new()),
                _ => frontends::read_stdin(),
            };
            let input = match input {
                Ok(input) => input,
                Err(e) => return output::finish(Protocol::Docker, Err(e.into())),
            };
            let fetcher = binary.fetcher(&args, &input);
            let protocol = match action {
                Action::Get if bazel::is_request(&input) => Protocol::Bazel,
                _ => Protocol::Docker,
            };
            output::reply(protocol, serve(protocol, action, &input, fetcher.as_ref()))
        }
        Command::Version | Command::Other => binary.other(args),
    }
}

/// One protocol request, with the config, the cache and the environment loaded once.
fn serve(
    protocol: Protocol,
    action: Action,
    input: &str,
    fetcher: &dyn Fetcher,
) -> Result<Reply, Error> {
    // A `get` whose miss is handed off is the hot path of every pull: no logging set up,
    // and a cache that cannot be opened is a miss (the full binary says why).
    let quiet = action == Action::Get && fetcher.hands_off();
    if !quiet {
        crate::logging::init();
    }
    let config = Config::load()?;
    let ctx = if quiet {
        Context::opening(&config, || Cache::from_env().ok().flatten())
    } else {
        Context::opening(&config, Cache::from_env_or_warn)
    };
    let now = clock::now_ms();
    if protocol == Protocol::Bazel {
        return bazel::handle(input, &ctx, fetcher, now).map(Reply::Answer);
    }
    docker::handle(&Request::parse(action, input)?, &ctx, fetcher, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_actions_take_exactly_one_argument() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        for (argv, want) in [
            (&["x", "get"][..], Command::Protocol(Action::Get)),
            (&["x", "store"], Command::Protocol(Action::Store)),
            (&["x", "erase"], Command::Protocol(Action::Erase)),
            (&["x", "list"], Command::Protocol(Action::List)),
            (&["x", "-v"], Command::Version),
            (&["x", "--version"], Command::Version),
            (&["x", "get", "extra"], Command::Other),
            (&["x"], Command::Other),
            (&["x", "status"], Command::Other),
        ] {
            assert_eq!(command(&args(argv)), want, "{argv:?}");
        }
    }
}
