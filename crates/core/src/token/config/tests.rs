use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/ecr-login.toml"))
}

/// The user's line for a config that does not parse.
fn refused(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn the_spec_example_parses() {
    let c = parse(
        r#"
[registries."123456789012.dkr.ecr.us-east-1.amazonaws.com"]
profile = "prod"
role_arn = "arn:aws:iam::123456789012:role/ci-push"

[registries."*.dkr.ecr.*.amazonaws.com"]
profile = "dev"

[registries."registry.example.internal"]
ecr = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"

[cache]
min_remaining = "50%"

[daemon]
renew_after = 0.4
keep_warm = ["123456789012.dkr.ecr.us-east-1.amazonaws.com"]
forget_after = "7d"
"#,
    )
    .unwrap();
    let exact = c
        .rule_for("123456789012.dkr.ecr.us-east-1.amazonaws.com")
        .unwrap();
    assert_eq!(exact.profile.as_deref(), Some("prod"));
    let wild = c
        .rule_for("999999999999.dkr.ecr.eu-west-1.amazonaws.com")
        .unwrap();
    assert_eq!(wild.profile.as_deref(), Some("dev"));
    assert!(
        c.rule_for("registry.example.internal:443")
            .unwrap()
            .ecr
            .is_some()
    );
    assert_eq!(c.rule_for("docker.io"), None);
    assert_eq!(c.daemon.forget_after, Duration::from_secs(7 * 86400));
    assert_eq!(c.cache.min_remaining, MinRemaining::Fraction(0.5));
}

#[test]
fn most_specific_wildcard_wins() {
    let c = parse(
        r#"
[registries."*.dkr.ecr.*.amazonaws.com"]
profile = "any"
[registries."*.dkr.ecr.us-east-1.amazonaws.com"]
profile = "east"
[registries."127.0.0.1:5000"]
profile = "port"
[registries."127.0.0.1"]
profile = "noport"
"#,
    )
    .unwrap();
    let p = |h| c.rule_for(h).and_then(|r| r.profile.clone());
    assert_eq!(
        p("123456789012.dkr.ecr.us-east-1.amazonaws.com").as_deref(),
        Some("east")
    );
    assert_eq!(
        p("123456789012.dkr.ecr.us-west-2.amazonaws.com").as_deref(),
        Some("any")
    );
    assert_eq!(p("127.0.0.1:5000").as_deref(), Some("port"));
    assert_eq!(p("127.0.0.1:6000").as_deref(), Some("noport"));
    // `*` stays inside one label.
    assert_eq!(p("x.123456789012.dkr.ecr.us-east-1.amazonaws.com"), None);
}

#[test]
fn errors_name_line_and_key() {
    let e = refused("[registries.\"h\"]\nprofile = \"a\"\nrole = \"x\"\n");
    assert!(
        e.contains("/etc/ecr-login.toml") && e.contains("line 3") && e.contains("role"),
        "{e}"
    );
    let e = refused("[cache]\nmin_remaining = \"lots\"\n");
    assert!(e.contains("cache.min_remaining"), "{e}");
    let e = refused("[registries.\"alias\"]\necr = \"evil.com\"\n");
    assert!(e.contains("registries.\"alias\".ecr"), "{e}");
    assert_eq!(
        refused("timeout = \"0s\"\n"),
        "config file /etc/ecr-login.toml: timeout: must be more than zero"
    );
    let e = refused("[daemon\n");
    assert!(e.contains("line 1"), "{e}");
}

/// Issue 13: many `*` against a long host backtracked exponentially.
#[test]
fn wildcards_match_in_bounded_time() {
    for (pattern, host, want) in [
        ("*", "anything", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("*-fips", "dkr-ecr-fips", true),
        ("**", "", true),
        ("x*", "", false),
    ] {
        assert_eq!(
            label_match(pattern.as_bytes(), host.as_bytes()),
            want,
            "{pattern} {host}"
        );
    }
    // The worst case for backtracking: bounded by the product of the lengths.
    let pattern = "*a".repeat(60);
    let host = "a".repeat(199) + "b";
    let (matched, steps) = label_match_steps(pattern.as_bytes(), host.as_bytes());
    assert!(!matched);
    assert!(steps <= pattern.len() * host.len(), "{steps} steps");
}

#[test]
fn aliases_sign_as_their_registry_unless_they_say_otherwise() {
    let c = parse(
        r#"
[registries."123456789012.dkr.ecr.us-east-1.amazonaws.com"]
profile = "prod"
role_arn = "arn:aws:iam::1:role/push"
external_id = "x"
[registries."mirror.internal"]
ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
[registries."own.internal"]
ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
profile = "dev"
role_arn = "arn:aws:iam::1:role/pull"
"#,
    )
    .unwrap();
    let mirror = c.effective_rule("mirror.internal").unwrap();
    assert_eq!(mirror.profile.as_deref(), Some("prod"));
    assert_eq!(mirror.role_arn.as_deref(), Some("arn:aws:iam::1:role/push"));
    assert_eq!(mirror.external_id.as_deref(), Some("x"));
    let own = c.effective_rule("own.internal").unwrap();
    assert_eq!(own.profile.as_deref(), Some("dev"));
    assert_eq!(own.role_arn.as_deref(), Some("arn:aws:iam::1:role/pull"));
    assert_eq!(own.external_id, None, "the external ID goes with its role");
}

#[test]
fn keep_warm_names_ecr_registries_only() {
    let e = refused("[daemon]\nkeep_warm = [\"ghcr.io\"]\n");
    assert!(
        e.contains("daemon.keep_warm") && e.contains("ghcr.io"),
        "{e}"
    );
    parse("[registries.\"mirror\"]\necr = \"123456789012.dkr.ecr.us-east-1.amazonaws.com\"\n[daemon]\nkeep_warm = [\"mirror\"]\n").unwrap();
}

#[test]
fn store_fallback_names_another_helper() {
    let c = parse("[store]\nfallback = \"pass\"\nprevious = \"\"\n").unwrap();
    assert_eq!(c.store.fallback.as_deref(), Some("pass"));
    assert_eq!(c.store.previous.as_deref(), Some(""));
    assert_eq!(
        validate_helper_name("ECR-Login"),
        Err(HelperNameError::Ourselves)
    );
    for bad in ["ecr-login", "../evil", "a b", ""] {
        let e = parse(&format!("[store]\nfallback = {bad:?}\n"));
        if bad.is_empty() {
            assert_eq!(e.unwrap().store.fallback, None);
        } else {
            assert!(
                e.unwrap_err().to_string().contains("store.fallback"),
                "{bad}"
            );
        }
    }
}

#[test]
fn min_remaining() {
    assert_eq!(
        parse_min_remaining("25%").unwrap(),
        MinRemaining::Fraction(0.25)
    );
    assert_eq!(
        parse_min_remaining("150%"),
        Err(MinRemainingError::OutOfRange("150%".into()))
    );
}

/// Issue 29: `[kubelet]` names the role annotations (the kubelet's own key rule) and
/// whether a token without a role is refused.
#[test]
fn kubelet_settings() {
    let d = parse("").unwrap().kubelet;
    assert_eq!(d.role_annotations, ["eks.amazonaws.com/ecr-role-arn"]);
    assert!(!d.require_role);
    let c = parse(
        "[kubelet]\nrole_annotations = [\"eks.amazonaws.com/ecr-role-arn\", \"eks.amazonaws.com/role-arn\"]\nrequire_role = true\nfirst_call_spread = \"0s\"\n",
    )
    .unwrap()
    .kubelet;
    assert_eq!(c.role_annotations.len(), 2);
    assert!(c.require_role);
    assert!(c.first_call_spread.is_zero());
    for (key, ok) in [
        ("eks.amazonaws.com/role-arn", true),
        ("role-arn", true),
        ("Example.COM/Role_1", true),
        ("", false),
        ("eks.amazonaws.com/", false),
        ("/role", false),
        ("a/b/c", false),
        ("-role", false),
        ("role\nforged", false),
        ("has space/x", false),
    ] {
        assert_eq!(is_annotation_key(key), ok, "{key:?}");
        let text = format!("[kubelet]\nrole_annotations = [{key:?}]\n");
        if !ok {
            assert!(
                refused(&text).contains("kubelet.role_annotations"),
                "{key:?}"
            );
        }
    }
}
