//! The fake AWS endpoint from the integration tests as a standalone server, for the shell
//! benchmarks and end-to-end scripts.
//!
//! Usage: `fake_ecr [--port N] [--password P] [--lifetime-secs N] [--deny] [--forever]
//! [--count-file PATH] [--quota PER_SECOND/BURST] [--container-credentials PATH
//! [--container-token TOKEN]]`
//!
//! Prints `http://127.0.0.1:PORT` and a newline on stdout, then serves until stdin reaches
//! EOF (or forever with `--forever`; SIGTERM ends it either way). With `--count-file`, the
//! number of GetAuthorizationToken calls served is written to PATH when stdin closes (with
//! `--quota`, a second line: how many were throttled). STS
//! and the SSO portal are always served; `--container-credentials` also serves container
//! credentials (access key `ASIACONTAINER1`) at PATH, for `AWS_CONTAINER_CREDENTIALS_FULL_URI`,
//! to the `Authorization: TOKEN` of `--container-token` if given.

// The example uses a few of the fake's knobs; the tests use the rest.
#[allow(dead_code)]
#[path = "../tests/it/support/fake_ecr.rs"]
mod fake_ecr;

use std::io::Write;
use std::process::exit;
use std::time::Duration;

const USAGE: &str = "usage: fake_ecr [--port N] [--password P] [--lifetime-secs N] [--deny] \
                     [--forever] [--count-file PATH] [--quota PER_SECOND/BURST] \
                     [--container-credentials PATH [--container-token TOKEN]]";

fn fail(message: &str) -> ! {
    eprintln!("fake_ecr: {message}\n{USAGE}");
    exit(2)
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> String {
    args.next()
        .unwrap_or_else(|| fail(&format!("{flag} needs a value")))
}

fn main() {
    let (mut port, mut password, mut lifetime) = (0u16, None, None);
    let (mut deny, mut forever) = (false, false);
    let (mut count_file, mut container, mut container_token) = (None, None, None);
    let mut quota = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let v = value(&mut args, "--port");
                port = v
                    .parse()
                    .unwrap_or_else(|_| fail(&format!("bad port {v:?}")));
            }
            "--password" => password = Some(value(&mut args, "--password")),
            "--lifetime-secs" => {
                let v = value(&mut args, "--lifetime-secs");
                let secs: u64 = v
                    .parse()
                    .unwrap_or_else(|_| fail(&format!("bad lifetime {v:?}")));
                lifetime = Some(Duration::from_secs(secs));
            }
            "--deny" => deny = true,
            "--forever" => forever = true,
            "--count-file" => count_file = Some(value(&mut args, "--count-file")),
            "--quota" => {
                let v = value(&mut args, "--quota");
                let parsed = v
                    .split_once('/')
                    .and_then(|(r, b)| Some((r.parse::<f64>().ok()?, b.parse::<f64>().ok()?)));
                quota = Some(parsed.unwrap_or_else(|| fail(&format!("bad quota {v:?}"))));
            }
            "--container-credentials" => {
                container = Some(value(&mut args, "--container-credentials"));
            }
            "--container-token" => {
                container_token = Some(value(&mut args, "--container-token"));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument {other:?}")),
        }
    }
    if container_token.is_some() && container.is_none() {
        fail("--container-token needs --container-credentials");
    }

    let fake = fake_ecr::FakeEcr::try_start_on(port)
        .unwrap_or_else(|e| fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")));
    // Benchmarks make many calls; nobody reads the log here.
    fake.set_recording(false);
    if let Some(password) = &password {
        fake.set_password(password);
    }
    if let Some(lifetime) = lifetime {
        fake.set_lifetime(lifetime);
    }
    if deny {
        fake.set_fault(Some(fake_ecr::Fault::Deny));
    }
    if let Some((per_second, burst)) = quota {
        fake.set_quota(per_second, burst);
    }
    if let Some(path) = &container {
        fake.add_container_credentials(path, "ASIACONTAINER1", container_token.as_deref());
    }

    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{}", fake.url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        exit(1);
    }
    drop(stdout);

    if forever {
        loop {
            std::thread::park();
        }
    }
    let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
    if let Some(path) = count_file
        && let Err(e) = std::fs::write(
            &path,
            match quota {
                Some(_) => format!("{}\n{}\n", fake.token_calls(), fake.throttled_calls()),
                None => format!("{}\n", fake.token_calls()),
            },
        )
    {
        eprintln!("fake_ecr: cannot write {path}: {e}");
    }
    drop(fake);
}
