//! Per-registry profiles and roles, aliases, malformed config, and `configure` on real
//! files. Guards the Go helper's most requested missing feature (profile per registry).

use crate::support::harness::*;
use std::os::unix::fs::PermissionsExt as _;

const OTHER: &str = "210987654321.dkr.ecr.eu-west-1.amazonaws.com";

/// Each registry signs with the profile its rule names (environment keys are present too:
/// the config's profile wins for these registries), an exact rule before a wildcard, and
/// the region comes from the host.
#[test]
fn each_registry_signs_with_its_profile() {
    let cases = [
        (
            [
                ("pull", "AKIAPULLPULLPULLPUL1"),
                ("push", "AKIAPUSHPUSHPUSHPUS1"),
            ],
            format!(
                "[registries.\"{REGISTRY}\"]\nprofile = \"pull\"\n[registries.\"{OTHER}\"]\nprofile = \"push\"\n"
            ),
            ["AKIAPULLPULLPULLPUL1", "AKIAPUSHPUSHPUSHPUS1"],
        ),
        (
            [
                ("wild", "AKIAWILDWILDWILDWIL1"),
                ("exact", "AKIAEXACTEXACTEXACT1"),
            ],
            format!(
                "[registries.\"*.dkr.ecr.*.amazonaws.com\"]\nprofile = \"wild\"\n[registries.\"{REGISTRY}\"]\nprofile = \"exact\"\n"
            ),
            ["AKIAEXACTEXACTEXACT1", "AKIAWILDWILDWILDWIL1"],
        ),
    ];
    for (profiles, config, signers) in cases {
        let s = Sandbox::new();
        s.write_aws_profiles(&profiles);
        s.write_config(&config);
        assert_ok(&s.get(REGISTRY));
        assert_ok(&s.get(OTHER));
        assert_eq!(s.token_signers(), signers, "{config}");
        let regions: Vec<String> = s.fake.requests().iter().map(|r| r.region.clone()).collect();
        assert_eq!(
            regions,
            ["us-east-1", "eu-west-1"],
            "region comes from the host"
        );
    }
}

#[test]
fn role_arn_assumes_the_role_and_signs_with_it() {
    let s = Sandbox::new();
    s.write_aws_profiles(&[("base", "AKIABASEBASEBASEBAS1")]);
    let role = "arn:aws:iam::123456789012:role/ci-push";
    s.write_config(&format!(
        "[registries.\"{REGISTRY}\"]\nprofile = \"base\"\nrole_arn = \"{role}\"\nexternal_id = \"ext-42\"\n"
    ));
    let out = s.get(REGISTRY);
    assert_ok(&out);
    let sts = s.sts_request("AssumeRole");
    assert_eq!(
        sts.access_key_id, "AKIABASEBASEBASEBAS1",
        "AssumeRole signed by the profile"
    );
    assert!(
        sts.body.contains("RoleSessionName=ecr-login"),
        "{}",
        sts.body
    );
    assert!(sts.body.contains("ExternalId=ext-42"), "{}", sts.body);
    let ecr_key = &s.token_signers()[0];
    assert!(
        ecr_key.starts_with("ASIA"),
        "ECR call signed with {ecr_key}, not the role"
    );
    // The role's credentials last 1 h (the fake's STS), the token 12 h: the entry expires
    // with the credentials that minted it.
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&s.entries()[0]).unwrap()).unwrap();
    let (expires, token_expires, fetched) = (
        entry["expires_at_ms"].as_i64().unwrap(),
        entry["token_expires_at_ms"].as_i64().unwrap(),
        entry["fetched_at_ms"].as_i64().unwrap(),
    );
    assert!(token_expires - fetched > 11 * 3_600_000, "{entry}");
    assert!((expires - fetched - 3_600_000).abs() < 60_000, "{entry}");
    // A hit: no second AssumeRole, no second token call.
    assert_ok(&s.get(REGISTRY));
    assert_eq!(s.fake.token_calls(), 1);
    assert_eq!(
        s.fake
            .requests()
            .iter()
            .filter(|r| r.body.contains("Action=AssumeRole"))
            .count(),
        1
    );
    // Changing the role takes effect at once: another identity, another entry.
    s.write_config(&format!(
        "[registries.\"{REGISTRY}\"]\nprofile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/other\"\n"
    ));
    assert_ok(&s.get(REGISTRY));
    assert_eq!(s.fake.token_calls(), 2);
}

#[test]
fn an_alias_gets_only_its_registrys_token() {
    let s = Sandbox::new();
    s.fake.set_password("pw-alias");
    let out = s.get("127.0.0.1:5000");
    assert_eq!(stdout(&out), "credentials not found in native keychain\n");
    s.write_config(&format!(
        "[registries.\"127.0.0.1:5000\"]\necr = \"{OTHER}\"\n"
    ));
    let out = s.get("127.0.0.1:5000");
    assert_eq!(
        stdout(&out),
        reply("127.0.0.1:5000", "pw-alias"),
        "{}",
        stderr(&out)
    );
    assert_eq!(s.fake.requests()[0].region, "eu-west-1");
    // Another port of the same host is not the alias.
    assert_eq!(s.get("127.0.0.1:5001").status.code(), Some(1));
    // The alias shares the ECR registry's entry.
    assert_eq!(stdout(&s.get(OTHER)), reply(OTHER, "pw-alias"));
    assert_eq!(s.fake.token_calls(), 1);
}

#[test]
fn a_malformed_config_is_one_line_naming_file_line_and_key() {
    let s = Sandbox::new();
    s.write_config(&format!(
        "[registries.\"{REGISTRY}\"]\nprofile = \"a\"\nrole = \"typo\"\n"
    ));
    let out = s.get(REGISTRY);
    assert_eq!(out.status.code(), Some(1));
    let line = stdout(&out);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains("config.toml") && line.contains("line 3") && line.contains("role"),
        "{line}"
    );
    let status = s.run(&["status"], b"");
    assert_eq!(status.status.code(), Some(1));
    assert!(stderr(&status).contains("line 3"));
    assert_eq!(s.fake.token_calls(), 0);
}

/// Issue 27 (L8, I6): `status` and `configure` printed what paths, `credsStore` and
/// arguments hold raw: terminal escapes reached the terminal, and a `--profile` with
/// newlines printed lines that looked like a new `[store]` section. Each value is shown on
/// its one line, its control characters as escapes.
#[test]
fn status_and_configure_print_no_terminal_escape() {
    let mut s = Sandbox::new();
    let odd = s.dir.path().join("d\x1b]0;DIR-TITLE\x07\x1b[2J");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("config.toml"), "").unwrap();
    std::fs::write(
        odd.join("config.json"),
        r#"{"credsStore": "desk\u001b]0;STORE-TITLE\u0007"}"#,
    )
    .unwrap();
    s.set("AWS_ECR_CACHE_DIR", odd.join("cache").to_str().unwrap())
        .set(
            "ECR_LOGIN_CONFIG",
            odd.join("config.toml").to_str().unwrap(),
        )
        .set("DOCKER_CONFIG", odd.to_str().unwrap());
    assert_ok(&s.get(REGISTRY));
    let injected = "p\"\n[store]\nfallback = \"evil\x1b]0;PROFILE-TITLE\x07";
    for args in [
        &["status"][..],
        &["configure", REGISTRY, "--profile", injected, "--dry-run"],
        &["configure", REGISTRY, "--profile", injected],
        &["status"],
    ] {
        let out = s.run(args, b"");
        assert_ok(&out);
        let (text, err) = (stdout(&out), stderr(&out));
        assert_eq!(text.matches('\x1b').count(), 0, "{args:?}:\n{text:?}");
        assert_eq!(err.matches('\x1b').count(), 0, "{args:?}:\n{err:?}");
        assert_contains(&text, r"d\u{1b}]0;DIR-TITLE\u{7}\u{1b}[2J");
        if args[0] == "configure" {
            assert_contains(&text, r"desk\u{1b}]0;STORE-TITLE\u{7}");
            assert!(
                !text.lines().any(|l| l.starts_with("[store]")),
                "{args:?}:\n{text}"
            );
            assert_contains(
                &text,
                r#"profile = "p\"\n[store]\nfallback = \"evil\u{1b}]0;PROFILE-TITLE\u{7}""#,
            );
        }
    }
    let written = std::fs::read_to_string(odd.join("config.toml")).unwrap();
    let config: toml_edit::DocumentMut = written.parse().unwrap();
    assert_eq!(
        config["registries"][REGISTRY]["profile"].as_str(),
        Some(injected)
    );
    assert!(!config.contains_key("store"), "{written}");
}

/// Issue 27 (I3): an edit of a CRLF `config.json` (written on Windows, or by a Windows
/// tool) inserted `{\n\r\n\t\t…\n\r\n\t}`: mixed line ends and blank lines. It writes
/// CRLF throughout, and taking the entry out again gives back the file byte for byte.
#[test]
fn configure_keeps_a_crlf_file_crlf() {
    let mut s = Sandbox::new();
    let before = "{\r\n\t\"auths\": {\r\n\t\t\"https://index.docker.io/v1/\": {}\r\n\t},\r\n\t\"credsStore\": \"desktop\"\r\n}\r\n";
    let added = format!(
        "{{\r\n\t\"auths\": {{\r\n\t\t\"https://index.docker.io/v1/\": {{}}\r\n\t}},\r\n\t\"credsStore\": \"desktop\",\r\n\t\"credHelpers\": {{\r\n\t\t\"{REGISTRY}\": \"ecr-login\"\r\n\t}}\r\n}}\r\n"
    );
    s.write_docker_config(before);
    for (args, after) in [
        (&[REGISTRY][..], added.as_str()),
        (&["--remove", REGISTRY], before),
        (&["--public"], &added.replace(REGISTRY, "public.ecr.aws")),
    ] {
        assert_ok(&s.configure(args));
        let text = std::fs::read_to_string(s.docker_config_path()).unwrap();
        assert_eq!(text, after, "{args:?}");
    }
    std::fs::write(s.docker_config_path(), "{}\r\n").unwrap();
    assert_ok(&s.configure(&["--public"]));
    assert_eq!(
        std::fs::read_to_string(s.docker_config_path()).unwrap(),
        "{\r\n\t\"credHelpers\": {\r\n\t\t\"public.ecr.aws\": \"ecr-login\"\r\n\t}\r\n}\r\n"
    );
}

#[test]
fn configure_creates_then_is_idempotent_then_removes() {
    let mut s = Sandbox::new();
    let out = s.configure(&[REGISTRY, "--public"]);
    assert_ok(&out);
    assert_contains(&stdout(&out), &format!("added credHelpers[\"{REGISTRY}\"]"));
    let text = std::fs::read_to_string(s.docker_config_path()).unwrap();
    assert_eq!(
        text,
        format!(
            "{{\n\t\"credHelpers\": {{\n\t\t\"{REGISTRY}\": \"ecr-login\",\n\t\t\"public.ecr.aws\": \"ecr-login\"\n\t}}\n}}\n"
        )
    );
    assert_eq!(mode_of(&s.docker_config_path()), 0o600);
    let again = s.configure(&[REGISTRY, "--public"]);
    assert_contains(&stdout(&again), "nothing changed");
    assert_eq!(
        std::fs::read_to_string(s.docker_config_path()).unwrap(),
        text
    );
    let removed = s.configure(&["--remove"]);
    assert_ok(&removed);
    assert_eq!(
        std::fs::read_to_string(s.docker_config_path()).unwrap(),
        "{}\n"
    );
    assert_eq!(s.fake.token_calls(), 0);
}

#[test]
fn configure_keeps_everything_else_and_the_files_mode() {
    let mut s = Sandbox::new();
    std::fs::create_dir_all(s.docker_config_path().parent().unwrap()).unwrap();
    let before = r#"{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"experimental":"enabled","proxies":{"default":{"httpProxy":"http://p:3128"}}}"#;
    std::fs::write(s.docker_config_path(), before).unwrap();
    std::fs::set_permissions(
        s.docker_config_path(),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let out = s.configure(&["--account", "123456789012", "--region", "us-east-1"]);
    assert_ok(&out);
    assert_contains(&stdout(&out), "credsStore \"desktop\"");
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.docker_config_path()).unwrap()).unwrap();
    let was: serde_json::Value = serde_json::from_str(before).unwrap();
    for key in ["auths", "credsStore", "experimental", "proxies"] {
        assert_eq!(after[key], was[key], "{key}");
    }
    assert_eq!(after["credHelpers"]["gcr.io"], "gcloud");
    assert_eq!(after["credHelpers"][REGISTRY], "ecr-login");
    assert_eq!(mode_of(&s.docker_config_path()), 0o640);
}

#[test]
fn configure_refuses_a_read_only_file_and_leaves_it_alone() {
    let mut s = Sandbox::new();
    std::fs::create_dir_all(s.docker_config_path().parent().unwrap()).unwrap();
    std::fs::write(s.docker_config_path(), "{\"auths\":{}}").unwrap();
    std::fs::set_permissions(
        s.docker_config_path(),
        std::fs::Permissions::from_mode(0o444),
    )
    .unwrap();
    let out = s.configure(&[REGISTRY]);
    assert_eq!(out.status.code(), Some(1));
    assert_contains(&stderr(&out), "read-only");
    assert_eq!(
        std::fs::read_to_string(s.docker_config_path()).unwrap(),
        "{\"auths\":{}}"
    );
}

#[test]
fn configure_dry_run_writes_nothing() {
    let mut s = Sandbox::new();
    let out = s.configure(&[REGISTRY, "--dry-run", "--profile", "dev"]);
    assert_ok(&out);
    assert_contains(&stdout(&out), "would change");
    assert!(!s.docker_config_path().exists());
    assert!(!s.config_path().exists());
}

/// Issue 22: `--dry-run` printed the whole Docker config, inline logins and identity
/// tokens included. It shows the changed lines only, secrets redacted, in every mode.
#[test]
fn no_dry_run_prints_a_secret() {
    let mut s = Sandbox::new();
    std::fs::create_dir_all(s.docker_config_path().parent().unwrap()).unwrap();
    let before = "{\"auths\":{\"ghcr.io\":{\"auth\":\"YWxpY2U6aHVudGVyMg==\"},\"quay.io\":{\"identitytoken\":\"id-tok-SECRET\"}}}";
    std::fs::write(s.docker_config_path(), before).unwrap();
    for args in [
        &[REGISTRY, "--dry-run"][..],
        &["--store", "--dry-run"],
        &["--remove", "--dry-run"],
        &[REGISTRY, "--dry-run", "--profile", "dev"],
    ] {
        let out = s.configure(args);
        assert_ok(&out);
        for secret in ["YWxpY2U6aHVudGVyMg==", "id-tok-SECRET"] {
            assert!(!stdout(&out).contains(secret), "{args:?}: {}", stdout(&out));
            assert!(!stderr(&out).contains(secret), "{args:?}: {}", stderr(&out));
        }
        assert_eq!(
            std::fs::read_to_string(s.docker_config_path()).unwrap(),
            before
        );
    }
    let out = s.configure(&[REGISTRY, "--dry-run"]);
    assert_contains(
        &stdout(&out),
        &format!("added credHelpers[\"{REGISTRY}\"] = \"ecr-login\""),
    );
}

/// Issue 27 (L5): on a one-line `config.json` (what CI scripts write) the changed line was
/// the whole file, and proxy passwords, `HttpHeaders`, an escaped key (`"\u0061uth"`) and a
/// value on the line after its key got past the redaction. A dry run now prints only the
/// members it changes, never a line of the file.
#[test]
fn a_dry_run_prints_only_the_changed_members() {
    let secrets = [
        "Z2hwX3MzY3JldA==",
        "HEADERTOKENsecret",
        "APIKEYsecret",
        "PROXYPASSsecret",
        "ESCAPEDKEYsecret",
        "NEXTLINEsecret",
    ];
    let one_line = r#"{"auths":{"ghcr.io":{"auth":"Z2hwX3MzY3JldA=="},"quay.io":{"\u0061uth":"ESCAPEDKEYsecret"}},"HttpHeaders":{"Authorization":"Bearer HEADERTOKENsecret","X-Api-Key":"APIKEYsecret"},"proxies":{"default":{"httpsProxy":"http://corp:PROXYPASSsecret@proxy:3128"}},"credsStore":"desktop"}"#;
    let next_line = "{\n\"auths\": {\"ghcr.io\": {\"auth\":\n\"NEXTLINEsecret\"}}, \"credsStore\": \"desktop\", \"credHelpers\": {\"gcr.io\": \"gcloud\"}}\n";
    for (file, args, changes) in [
        (
            one_line,
            &["--store", "--dry-run"][..],
            vec![r#"credsStore: "desktop" -> "ecr-login""#],
        ),
        (
            one_line,
            &[REGISTRY, "--dry-run"],
            vec![r#"added credHelpers["123456789012.dkr.ecr.us-east-1.amazonaws.com"]"#],
        ),
        (
            next_line,
            &["--store", "--dry-run"],
            vec![r#"credsStore: "desktop" -> "ecr-login""#],
        ),
        (
            next_line,
            &[REGISTRY, "--dry-run"],
            vec![r#"added credHelpers["123456789012.dkr.ecr.us-east-1.amazonaws.com"]"#],
        ),
    ] {
        let mut s = Sandbox::new();
        let bin = s.dir.path().join("bin");
        not_found_helper(&bin, "desktop");
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        s.set("PATH", &path);
        s.write_docker_config(file);
        let out = s.configure(args);
        assert_ok(&out);
        let (text, err) = (stdout(&out), stderr(&out));
        for change in changes {
            assert_contains(&text, change);
        }
        for secret in secrets {
            assert!(!text.contains(secret), "{args:?}: {secret} in:\n{text}");
            assert!(!err.contains(secret), "{args:?}: {secret} in:\n{err}");
        }
        assert_eq!(
            std::fs::read_to_string(s.docker_config_path()).unwrap(),
            file
        );
    }
}

#[test]
fn configure_writes_profile_role_and_alias_into_our_config() {
    let mut s = Sandbox::new();
    let out = s.configure(&[
        REGISTRY,
        "--profile",
        "prod",
        "--role-arn",
        "arn:aws:iam::123456789012:role/ci",
    ]);
    assert_ok(&out);
    let out = s.configure(&["127.0.0.1:5000", "--ecr", OTHER]);
    assert_ok(&out);
    let text = std::fs::read_to_string(s.config_path()).unwrap();
    assert!(
        text.contains("profile = \"prod\"")
            && text.contains("role/ci")
            && text.contains(&format!("ecr = \"{OTHER}\"")),
        "{text}"
    );
    let not_ecr = s.configure(&["registry.example.com"]);
    assert_eq!(not_ecr.status.code(), Some(1));
    assert_contains(&stderr(&not_ecr), "--ecr");
}

/// With no registry, `configure` asks ECR for the caller's default registry.
#[test]
fn configure_discovers_the_default_registry() {
    let mut s = Sandbox::new();
    let out = s.configure(&["--region", "eu-central-1"]);
    assert_ok(&out);
    let host = "123456789012.dkr.ecr.eu-central-1.amazonaws.com";
    assert_contains(
        &stdout(&out),
        &format!("discovered your default registry: {host}"),
    );
    let after = std::fs::read_to_string(s.docker_config_path()).unwrap();
    assert!(after.contains(host), "{after}");
}

#[test]
fn configure_systemd_installs_a_unit_for_this_binary() {
    let mut s = Sandbox::new();
    s.set("AWS_ECR_CACHE_DIR", "/var/tmp/ecr-cache");
    let out = s.configure(&[REGISTRY, "--systemd"]);
    assert_ok(&out);
    let unit_path = s
        .home()
        .join(".config/systemd/user/docker-credential-ecr-login.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    // The full binary beside the front one: the daemon runs it directly.
    let exe = std::fs::canonicalize(FULL)
        .unwrap()
        .with_file_name("ecr-login");
    assert!(
        unit.contains(&format!("ExecStart={} daemon", exe.display())),
        "{unit}"
    );
    assert!(
        unit.contains("Type=notify") && unit.contains("WatchdogSec="),
        "{unit}"
    );
    // The daemon must see the same cache as the shell that ran configure.
    assert!(
        unit.contains("Environment=\"AWS_ECR_CACHE_DIR=/var/tmp/ecr-cache\""),
        "{unit}"
    );
    let text = stdout(&out);
    assert!(
        text.contains("enabled and started")
            || text.contains("systemctl --user enable --now docker-credential-ecr-login.service"),
        "{text}"
    );
    let again = s.configure(&[REGISTRY, "--systemd"]);
    assert_contains(&stdout(&again), "already installed");
}
