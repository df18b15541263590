//! Generates the man page and the bash, zsh and fish completions from the clap definitions
//! in `src/commands/args.rs`, so they never drift from `--help`. They land in `$OUT_DIR/assets/`;
//! `packaging/build-packages.sh` copies them from there into the packages.

#[allow(dead_code)] // build.rs reads the definitions, not the parsed values.
#[path = "src/commands/args.rs"]
mod args;

use clap::{Arg, CommandFactory};
use clap_complete::Shell;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};
use std::path::{Path, PathBuf};

const BIN: &str = "docker-credential-ecr-login";

fn main() -> std::io::Result<()> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/commands/args.rs");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets");
    std::fs::create_dir_all(&out)?;
    let mut cmd = args::Cli::command();
    cmd.build();
    write_man_page(&cmd, &out)?;
    for shell in [Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd, BIN, &out)?;
    }
    let mut bash = Vec::new();
    clap_complete::generate(Shell::Bash, &mut cmd, BIN, &mut bash);
    let bash = fix_bash_hyphenated_name(&String::from_utf8_lossy(&bash));
    std::fs::write(out.join(format!("{BIN}.bash")), bash)
}

/// clap_complete spells a hyphenated binary's subcommand states one way where it sets them
/// and another where it matches them, so no subcommand option ever completes
/// (clap-rs/clap#6421). Respell the matching side; a no-op once clap_complete is fixed.
fn fix_bash_hyphenated_name(script: &str) -> String {
    let wrong = format!("{}__subcmd__", BIN.replace('-', "__subcmd__"));
    let right = format!("{}__subcmd__", BIN.replace('-', "__"));
    script.replace(&wrong, &right)
}

/// One page for the whole binary: clap_mangen's header sections, then every command with its
/// options (clap_mangen alone would make one page per command), then the environment and files.
fn write_man_page(cmd: &clap::Command, out: &Path) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone())
        .date(page_date())
        .manual("User Commands");
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;

    let mut roff = Roff::default();
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let mut usage = sub.clone().bin_name(format!("{BIN} {}", sub.get_name()));
        let usage = usage.render_usage().to_string();
        let usage = usage.trim_start_matches("Usage:").trim();
        roff.control("TP", []);
        roff.text([bold(usage)]);
        paragraphs(
            &mut roff,
            &sub.get_long_about()
                .or(sub.get_about())
                .unwrap_or_default()
                .to_string(),
        );
        let args: Vec<&Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && a.get_id() != "help")
            .collect();
        if !args.is_empty() {
            roff.control("RS", []);
            for arg in args {
                roff.control("TP", []);
                roff.text(arg_header(arg));
                let help = arg.get_long_help().or(arg.get_help()).unwrap_or_default();
                roff.text([roman(help.to_string())]);
            }
            roff.control("RE", []);
        }
    }
    for (heading, items) in [("ENVIRONMENT", args::ENVIRONMENT), ("FILES", args::FILES)] {
        roff.control("SH", [heading]);
        for (name, meaning) in items {
            roff.control("TP", []);
            roff.text([bold(*name)]);
            roff.text([roman(*meaning)]);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "docker(1), podman(1), skopeo(1), systemctl(1); the README in \
/usr/share/doc/ecr-login/ and the kubelet example in /usr/share/doc/ecr-login/examples/.",
    )]);
    roff.to_writer(&mut page)?;
    std::fs::write(out.join(man.get_filename()), page)
}

/// The page's date: the day the page was generated. (Not `SOURCE_DATE_EPOCH`: aws-lc-sys
/// rebuilds whenever it changes, and everything above it with it.) Without a date, `.TH` loses
/// an argument and man shows the version where the manual's name goes.
fn page_date() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let secs = now.map_or(0, |d| d.as_secs() as i64);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
    let z = secs.div_euclid(86_400) + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Doc comments as man paragraphs: a blank line starts a new one.
fn paragraphs(roff: &mut Roff, text: &str) {
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            roff.control("IP", []);
        }
        roff.text([roman(para.replace('\n', " "))]);
    }
}

/// `--account <ID>`, or `[REGISTRIES]...` for a positional.
fn arg_header(arg: &Arg) -> Vec<Inline> {
    let values = arg
        .get_value_names()
        .map(|v| v.join(" "))
        .unwrap_or_else(|| arg.get_id().to_string());
    let num = arg.get_num_args().expect("built");
    match arg.get_long() {
        Some(long) if num.takes_values() => {
            vec![
                bold(format!("--{long}")),
                roman(" "),
                italic(format!("<{values}>")),
            ]
        }
        Some(long) => vec![bold(format!("--{long}"))],
        None => {
            let many = if num.max_values() > 1 { "..." } else { "" };
            match arg.is_required_set() {
                true => vec![italic(format!("<{values}>{many}"))],
                false => vec![italic(format!("[{values}]{many}"))],
            }
        }
    }
}
