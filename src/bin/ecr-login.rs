//! `ecr-login`: the full ecr-login binary, with the AWS SDK. `docker-credential-ecr-login`
//! (the small front that Docker execs) answers cache hits, `store`, `erase`, `list` and
//! `version` itself and execs this for everything else: a cache miss, the daemon,
//! `configure`, `status`, `kubelet`. People may call either name.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

use ecr_login::error::Error;
use ecr_login::{cli, helper, policy, protocol};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let action = args.get(1).and_then(|a| a.to_str());
    match (action, args.len()) {
        (Some(a @ ("get" | "store" | "erase" | "list")), 2) => {
            helper::init_logging();
            helper::finish(match a {
                "get" => protocol::read_stdin()
                    .map_err(Error::Input)
                    .and_then(|input| helper::get(&input)),
                _ => helper::cache_action(a, policy::now_ms()),
            })
        }
        (Some("version" | "--version" | "-v" | "-V"), 2) => {
            protocol::write_stdout(helper::version_line().as_bytes());
            ExitCode::SUCCESS
        }
        _ => {
            helper::init_logging();
            cli::run(args)
        }
    }
}
