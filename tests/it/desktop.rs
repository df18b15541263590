//! Issue 23, through the real daemon: Docker Desktop sets `credsStore` back to `desktop`
//! when it starts. The daemon puts it back, keeps `desktop` as the fallback, pins the
//! registries in use in `credHelpers`, stops fighting a file that keeps being reset, and
//! does nothing when told not to or when the store is not its own.

use crate::support::daemon::Daemon;
use crate::support::harness::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A registry in use that is not in Desktop's credHelpers: the one the daemon pins.
const OTHER: &str = "210987654321.dkr.ecr.us-east-1.amazonaws.com";

/// At most a minute and then some: the daemon looks at least once a minute even where no
/// file watch exists.
const LOOK: Duration = Duration::from_secs(70);

/// The daemon, debug logs, its first scan done (READY): watching Docker's config.
fn start(s: &Sandbox) -> Daemon {
    let d = Daemon::options().log("debug").notify().start(s);
    d.wait_ready();
    d
}

/// A sandbox [`configured`], its daemon [`start`]ed, and Desktop's first reset repaired:
/// the file, and what the daemon records of it in our config.
fn repaired(s: &mut Sandbox) -> (PathBuf, Daemon, String) {
    let path = configured(s);
    let d = start(s);
    let mark = d.mark();
    let reset = desktop_resets(&path);
    d.wait_for_report("set it back to ecr-login", mark, LOOK);
    (path, d, reset)
}

/// Desktop's layout, our `configure --store` over it, a `docker-credential-desktop` on
/// PATH, and a `get` for a registry outside credHelpers: the set-up the morning before.
fn configured(s: &mut Sandbox) -> PathBuf {
    let helpers = s.dir.path().join("helpers");
    not_found_helper(&helpers, "desktop");
    s.set("PATH", &format!("{}:/usr/bin:/bin", helpers.display()));
    let path = s.write_docker_config(DESKTOP);
    assert_ok(&s.configure(&["--store"]));
    assert_ok(&s.get(OTHER));
    path
}

/// What Desktop does when it starts: its own write of the whole file (by rename), with
/// credsStore back to `desktop` and one more key of its own.
fn desktop_resets(path: &Path) -> String {
    let now = std::fs::read_to_string(path).unwrap();
    let reset = now
        .replace(
            "\"credsStore\": \"ecr-login\"",
            "\"credsStore\": \"desktop\"",
        )
        .replace(
            "\"currentContext\": \"desktop-linux\"",
            "\"currentContext\": \"desktop-linux\",\n\t\"features\": {\"hooks\": \"true\"}",
        );
    assert_ne!(reset, now);
    let tmp = path.with_extension("desktop-tmp");
    std::fs::write(&tmp, &reset).unwrap();
    std::fs::rename(&tmp, path).unwrap();
    reset
}

fn creds_store(path: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["credsStore"].as_str().map(str::to_string)
}

/// The morning after a reboot: Desktop set credsStore back. The daemon puts ecr-login
/// back, records `desktop` as the fallback, pins the registry in use, and every other
/// byte is as Desktop left it.
#[test]
fn a_desktop_reset_is_repaired_and_the_registries_in_use_pinned() {
    let mut s = Sandbox::new();
    let (path, d, reset) = repaired(&mut s);
    let after = std::fs::read_to_string(&path).unwrap();
    // Every byte is Desktop's but credsStore's value and the pin after the last entry.
    let expected = reset
        .replace("\"credsStore\": \"desktop\"", "\"credsStore\": \"ecr-login\"")
        .replace(
            "\"123456789012.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\"\n",
            &format!("\"123456789012.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\",\n\t\t\"{OTHER}\": \"ecr-login\"\n"),
        );
    assert_eq!(after, expected);
    assert_eq!(creds_store(&path).as_deref(), Some("ecr-login"), "{after}");
    let config = std::fs::read_to_string(s.config_path()).unwrap();
    assert!(config.contains("fallback = \"desktop\""), "{config}");
    assert!(
        config.contains(&format!("pinned = [\"{OTHER}\"]")),
        "{config}"
    );
    assert!(d.log().matches("set it back to ecr-login").count() == 1);
    // status says what happened.
    let status = s.run(&["status", "--json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["daemon"]["store"]["flapping"], false, "{v}");
    // And the fallback answers other registries again: through us.
    let out = s.get("ghcr.io");
    assert_eq!(stdout(&out), "credentials not found in native keychain\n");
}

/// A second reset within a minute of the repair: no third write, the pins stay, and
/// `status --json` warns.
#[test]
fn a_file_that_keeps_being_reset_is_left_alone_with_the_pins() {
    let mut s = Sandbox::new();
    let (path, d, _) = repaired(&mut s);
    let mark = d.mark();
    let second = desktop_resets(&path);
    d.wait_for_report("stopped repairing it", mark, LOOK);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        second,
        "a third write"
    );
    assert!(second.contains(OTHER), "the pin went");
    // The state that says so was written before the STATUS the report waited for.
    let json = s.run(&["status", "--json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["daemon"]["store"]["flapping"], true, "{v}");
    let status = s.run(&["status"], b"");
    assert_contains(&stdout(&status), "keeps setting credsStore back");
}

/// `[store] repair = false`: the daemon sees the reset and changes nothing.
#[test]
fn repair_false_changes_nothing() {
    let mut s = Sandbox::new();
    let path = configured(&mut s);
    let mut config = std::fs::read_to_string(s.config_path()).unwrap();
    config = config.replace("[store]\n", "[store]\nrepair = false\n");
    std::fs::write(s.config_path(), &config).unwrap();
    let d = start(&s);
    let reset = desktop_resets(&path);
    d.wait_for_log("not repairing it ([store] repair = false)", LOOK);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), reset);
    assert_eq!(std::fs::read_to_string(s.config_path()).unwrap(), config);
}

/// A credsStore set by hand after `configure --remove` is not ours to repair; and
/// `--remove` takes out the pins the daemon added, and only those.
#[test]
fn configure_remove_takes_the_pins_and_the_claim() {
    let mut s = Sandbox::new();
    let (path, d, _) = repaired(&mut s);
    drop(d);
    let out = s.run(&["configure", "--remove", "--store"], b"");
    assert_ok(&out);
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(!after.contains(OTHER), "a pin stayed: {after}");
    assert!(
        after.contains("\"123456789012.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\""),
        "Desktop's own entry went: {after}"
    );
    assert_eq!(creds_store(&path).as_deref(), Some("desktop"));
    let config = std::fs::read_to_string(s.config_path()).unwrap_or_default();
    assert!(
        !config.contains("pinned") && !config.contains("docker_config"),
        "{config}"
    );
    // Set by hand to something else now: the daemon leaves it.
    let by_hand = after.replace("\"credsStore\": \"desktop\"", "\"credsStore\": \"pass\"");
    std::fs::write(&path, &by_hand).unwrap();
    let d = start(&s);
    // Its first scan has looked at everything it looks at (the summary comes after).
    d.wait_for_log(" warm", LOOK);
    drop(d);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), by_hand);
}
