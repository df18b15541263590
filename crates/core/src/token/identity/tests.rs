//! Issue 12: a cache hit must never hand one AWS identity's token to another. Each case
//! names two environments that could sign as different principals: their keys differ.

use super::*;
use crate::env::MapEnv;
use std::fs;

fn rule(profile: Option<&str>, role: Option<&str>) -> RegistryRule {
    RegistryRule {
        profile: profile.map(Into::into),
        role_arn: role.map(Into::into),
        ..RegistryRule::default()
    }
}

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn env(&self, pairs: &[(&str, &str)]) -> MapEnv {
        let mut env = MapEnv::new(pairs.iter().copied());
        env.0
            .insert("HOME".into(), self.dir.path().display().to_string());
        env
    }
}

fn key(rule: Option<&RegistryRule>, env: &MapEnv) -> String {
    Identity::new(rule, env, &Key::fixed()).key
}

#[test]
fn labels() {
    let home = Home::new();
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Option<RegistryRule>, Vars, &str)] = &[
        (None, &[], "profile:default"),
        (None, &[("AWS_PROFILE", "dev")], "profile:dev"),
        // The Rust SDK reads AWS_PROFILE only.
        (None, &[("AWS_DEFAULT_PROFILE", "old")], "profile:default"),
        // The config's profile beats the environment, as the SDK is told to use it.
        (
            Some(rule(Some("prod"), None)),
            &[
                ("AWS_PROFILE", "dev"),
                ("AWS_ACCESS_KEY_ID", "AKIA1"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ],
            "profile:prod",
        ),
        (
            Some(rule(Some("prod"), Some("arn:aws:iam::1:role/r"))),
            &[],
            "profile:prod role:arn:aws:iam::1:role/r",
        ),
        (
            None,
            &[
                ("AWS_ROLE_ARN", "arn:r"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
            ],
            "web-identity:arn:r",
        ),
        (
            None,
            &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/c")],
            "container:http://127.0.0.1:9/c",
        ),
        (
            None,
            &[("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:1")],
            "profile:default endpoint:http://127.0.0.1:1",
        ),
        // A key ID without a secret: the SDK skips environment keys.
        (None, &[("AWS_ACCESS_KEY_ID", "AKIA1")], "profile:default"),
    ];
    for (rule, vars, want) in cases {
        assert_eq!(
            Identity::new(rule.as_ref(), &home.env(vars), &Key::fixed()).label,
            *want,
            "{vars:?}"
        );
    }
}

#[test]
fn access_keys_are_hashed_never_shown() {
    let home = Home::new();
    let env = |id| {
        home.env(&[
            ("AWS_ACCESS_KEY_ID", id),
            ("AWS_SECRET_ACCESS_KEY", "wJalrSECRET"),
        ])
    };
    let id = Identity::new(None, &env("AKIAEXAMPLEKEY123"), &Key::fixed());
    assert!(id.label.starts_with("env:"));
    for text in [&id.label, &id.key, &format!("{id:?}")] {
        assert!(
            !text.contains("AKIAEXAMPLEKEY123") && !text.contains("wJalrSECRET"),
            "{text}"
        );
    }
    assert!(!id.env.recordable().contains_key("AWS_SECRET_ACCESS_KEY"));
    assert!(!id.env.recordable().contains_key("AWS_ACCESS_KEY_ID"));
    assert_ne!(
        id.key,
        Identity::new(None, &env("AKIAOTHERKEY45678"), &Key::fixed()).key
    );
}

/// Another tool's secret under an `AWS_` name (a Bedrock API key, a CI system's variable)
/// is a secret too: hashed in the key, never recorded or shown; settings stay readable.
#[test]
fn unknown_aws_variables_are_treated_as_secrets() {
    let home = Home::new();
    let env = |token| {
        home.env(&[
            ("AWS_BEARER_TOKEN_BEDROCK", token),
            ("AWS_PROFILE", "dev"),
            ("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:1"),
        ])
    };
    let id = Identity::new(None, &env("bedrock-key-1"), &Key::fixed());
    for text in [&id.label, &id.key, &format!("{id:?}")] {
        assert!(!text.contains("bedrock-key-1"), "{text}");
    }
    let recorded = id.env.recordable();
    assert!(!recorded.contains_key("AWS_BEARER_TOKEN_BEDROCK"));
    assert_eq!(recorded["AWS_PROFILE"], "dev");
    assert_eq!(recorded["AWS_ENDPOINT_URL_ECR"], "http://127.0.0.1:1");
    assert!(id.key.contains("AWS_PROFILE=dev;"), "{}", id.key);
    assert_ne!(
        id.key,
        Identity::new(None, &env("bedrock-key-2"), &Key::fixed()).key
    );
}

/// Environment keys sign alone: the files do not matter, so editing them does not split.
#[test]
fn environment_keys_ignore_the_files() {
    let home = Home::new();
    let vars = [
        ("AWS_ACCESS_KEY_ID", "AKIA1"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ];
    let before = key(None, &home.env(&vars));
    home.file("credentials", "[default]\naws_access_key_id = AKIAFILE\n");
    fs::create_dir_all(home.dir.path().join(".aws")).unwrap();
    home.file(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIAFILE\n",
    );
    assert_eq!(key(None, &home.env(&vars)), before);
}

#[test]
fn the_same_profile_in_two_credentials_files_is_two_identities() {
    let home = Home::new();
    let a = home.file(
        "a",
        "[default]\naws_access_key_id = AKIAA\naws_secret_access_key = a\n",
    );
    let b = home.file(
        "b",
        "[default]\naws_access_key_id = AKIAB\naws_secret_access_key = b\n",
    );
    let ka = key(None, &home.env(&[("AWS_SHARED_CREDENTIALS_FILE", &a)]));
    let kb = key(None, &home.env(&[("AWS_SHARED_CREDENTIALS_FILE", &b)]));
    assert_ne!(ka, kb);
    assert_eq!(
        ka,
        key(None, &home.env(&[("AWS_SHARED_CREDENTIALS_FILE", &a)])),
        "stable"
    );
    // Rotating the key in place is another identity too.
    home.file(
        "a",
        "[default]\naws_access_key_id = AKIAC\naws_secret_access_key = c\n",
    );
    assert_ne!(
        ka,
        key(None, &home.env(&[("AWS_SHARED_CREDENTIALS_FILE", &a)]))
    );
}

#[test]
fn two_config_files_with_different_credential_processes_are_two_identities() {
    let home = Home::new();
    let a = home.file("a", "[profile p]\ncredential_process = /bin/a\n");
    let b = home.file("b", "[profile p]\ncredential_process = /bin/b\n");
    let env = |f: &str| home.env(&[("AWS_CONFIG_FILE", f), ("AWS_PROFILE", "p")]);
    assert_ne!(key(None, &env(&a)), key(None, &env(&b)));
}

/// The default files, under `~`, count as much as named ones.
#[test]
fn editing_the_default_files_is_another_identity() {
    let home = Home::new();
    fs::create_dir_all(home.dir.path().join(".aws")).unwrap();
    let before = key(None, &home.env(&[]));
    home.file(".aws/config", "[default]\nregion = eu-west-1\n");
    let after = key(None, &home.env(&[]));
    assert_ne!(before, after);
    // Another user's home: another identity, even with the same files.
    let other = Home::new();
    assert_ne!(key(None, &other.env(&[])), before);
}

/// Web identity variables do not sign when the profile has keys: different profiles are
/// different identities whatever else is set.
#[test]
fn profiles_differ_even_with_web_identity_set() {
    let home = Home::new();
    let env = |p| {
        home.env(&[
            ("AWS_PROFILE", p),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/web"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ])
    };
    assert_ne!(key(None, &env("one")), key(None, &env("two")));
}

#[test]
fn container_credentials_are_keyed_by_uri_and_token() {
    let home = Home::new();
    let token_a = home.file("token-a", "pod-a-jwt");
    let token_b = home.file("token-b", "pod-b-jwt");
    let keys = [
        key(
            None,
            &home.env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/a")]),
        ),
        key(
            None,
            &home.env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/b")]),
        ),
        key(
            None,
            &home.env(&[
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/a"),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-1"),
            ]),
        ),
        key(
            None,
            &home.env(&[
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/a"),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-2"),
            ]),
        ),
        key(
            None,
            &home.env(&[
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://169.254.170.23/v1/credentials",
                ),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_a),
            ]),
        ),
        key(
            None,
            &home.env(&[
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://169.254.170.23/v1/credentials",
                ),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_b),
            ]),
        ),
    ];
    let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "{keys:#?}");
    assert!(
        keys.iter()
            .all(|k| !k.contains("secret-1") && !k.contains("pod-a-jwt"))
    );
}

/// A profile named in our config signs alone: environment keys and other sources are
/// hidden from the SDK and from the key.
#[test]
fn a_config_profile_hides_every_other_source() {
    let home = Home::new();
    let prod = rule(Some("prod"), None);
    let plain = key(Some(&prod), &home.env(&[]));
    let with_keys = key(
        Some(&prod),
        &home.env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]),
    );
    assert_eq!(plain, with_keys);
    let id = Identity::new(
        Some(&prod),
        &home.env(&[("AWS_ACCESS_KEY_ID", "AKIA1")]),
        &Key::fixed(),
    );
    assert_eq!(id.env.get("AWS_ACCESS_KEY_ID"), None);
    assert_eq!(id.env.get("AWS_PROFILE"), Some("prod"));
    assert!(id.profile_from_config);
}

#[test]
fn service_accounts_are_keyed_by_uid_and_never_take_stored_logins() {
    let home = Home::new();
    let env = home.env(&[]);
    let id = |uid| {
        Identity::web_identity(
            "arn:aws:iam::1:role/r",
            Secret::new("jwt"),
            "system:serviceaccount:a:b",
            uid,
            None,
            &env,
            &Key::fixed(),
        )
    };
    assert_ne!(id(Some("uid-1")).key, id(Some("uid-2")).key);
    assert!(!id(Some("uid-1")).accepts_stored);
    assert!(!id(None).key.contains("jwt"));
}

/// A JWT with these claims (unsigned: we never verify, AWS does).
fn jwt(claims: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(claims))
}

/// Issue 22: two web identities for one role (two subjects) shared an entry, so a subject
/// the role rejects was served the accepted one's token. The claims decide; the token
/// itself, which rotates, does not.
#[test]
fn web_identities_are_keyed_by_their_claims() {
    let home = Home::new();
    let env = |token: &str| {
        let path = home.file("token", token);
        key(
            None,
            &home.env(&[
                ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", &path),
            ]),
        )
    };
    let alice = env(&jwt(
        r#"{"iss":"https://oidc.example","sub":"system:serviceaccount:a:alice","aud":"sts.amazonaws.com","exp":1}"#,
    ));
    let bob = env(&jwt(
        r#"{"iss":"https://oidc.example","sub":"system:serviceaccount:a:bob","aud":"sts.amazonaws.com","exp":1}"#,
    ));
    let alice_rotated = env(&jwt(
        r#"{"iss":"https://oidc.example","sub":"system:serviceaccount:a:alice","aud":"sts.amazonaws.com","exp":2}"#,
    ));
    assert_ne!(alice, bob);
    assert_eq!(alice, alice_rotated, "a rotated token is the same identity");
    assert!(
        alice.contains("sub:system:serviceaccount:a:alice"),
        "{alice}"
    );
    let other_issuer = env(&jwt(
        r#"{"iss":"https://other.example","sub":"system:serviceaccount:a:alice","aud":["sts.amazonaws.com"]}"#,
    ));
    assert_ne!(alice, other_issuer);
    assert!(
        !alice.contains("eyJ"),
        "the token itself is never in the key"
    );
}

/// Issue 22: when the chain ends at the instance metadata service, the machine decides:
/// a home shared by two instances with different roles served one's token on the other.
#[test]
fn instance_metadata_identities_name_the_machine() {
    let home = Home::new();
    let with_imds = key(None, &home.env(&[]));
    assert!(with_imds.contains("machine="), "{with_imds}");
    let without = key(None, &home.env(&[("AWS_EC2_METADATA_DISABLED", "true")]));
    assert!(!without.contains("machine="), "{without}");
}

/// Issue 18: the CA bundle changes how we reach AWS, not who signs: one entry with or
/// without it.
#[test]
fn the_ca_bundle_is_not_part_of_the_identity() {
    let home = Home::new();
    assert_eq!(
        key(None, &home.env(&[("AWS_PROFILE", "dev")])),
        key(
            None,
            &home.env(&[
                ("AWS_PROFILE", "dev"),
                ("AWS_CA_BUNDLE", "/etc/corp-ca.pem")
            ])
        )
    );
    let with = Identity::new(
        None,
        &home.env(&[("AWS_CA_BUNDLE", "/etc/corp-ca.pem")]),
        &Key::fixed(),
    );
    assert_eq!(
        with.env
            .recordable()
            .get("AWS_CA_BUNDLE")
            .map(String::as_str),
        Some("/etc/corp-ca.pem"),
        "recorded, so the daemon renews through the same bundle"
    );
}

/// Issue 31: hex by table, as `format!("{b:02x}")` wrote it (the cache's file names and
/// every fingerprint are made of it).
#[test]
fn hex_is_two_lower_case_digits_a_byte() {
    for (bytes, want) in [
        (&[][..], ""),
        (&[0x00], "00"),
        (&[0x0f, 0xf0], "0ff0"),
        (
            &[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            "0123456789abcdef",
        ),
        (&[0xff, 0x10, 0x9a], "ff109a"),
    ] {
        assert_eq!(hex(bytes), want, "{bytes:?}");
        let formatted: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(bytes), formatted);
    }
}
