//! Invariants over every input boundary, shared by the cargo-fuzz targets (`fuzz/`) and
//! the test that replays their corpus (`tests/it/fuzz_corpus.rs`), so CI catches a regression
//! without a fuzzer. Each check panics when an invariant breaks; "no panic" alone is not
//! the bar: an accepted host must be a genuine ECR host or a configured alias.

use crate::env::MapEnv;
use crate::frontends::docker::protocol::Credentials;
use crate::token::cache::Entry;
use crate::token::config::{Config, MinRemaining};
use crate::token::host::{Authority, Registry};
use crate::token::identity::Key;
use crate::token::resolve::{Route, Target};
use std::path::Path;

/// The alias every resolving check knows about.
pub(crate) const ALIAS: &str = "registry.example.internal";
pub(crate) const ALIAS_TARGET: &str = "210987654321.dkr.ecr.eu-west-1.amazonaws.com";

/// An environment with nothing set: fuzzing never depends on the machine.
fn empty_env() -> MapEnv {
    MapEnv::default()
}

fn config() -> Config {
    let text = format!(
        "[registries.\"{ALIAS}\"]\necr = \"{ALIAS_TARGET}\"\n[registries.\"*.dkr.ecr.*.amazonaws.com\"]\nprofile = \"dev\"\n"
    );
    Config::parse(&text, Path::new("fuzz.toml")).expect("the fuzz config parses")
}

/// An ECR host by an independent reading of SPEC Part C (not the parser's code path).
pub(crate) fn looks_like_ecr_host(host: &str) -> bool {
    if host == "public.ecr.aws" || host == "ecr-public.aws.com" {
        return true;
    }
    let suffixes = [
        ".amazonaws.com",
        ".amazonaws.com.cn",
        ".amazonaws.eu",
        ".on.aws",
        ".on.amazonwebservices.com.cn",
        ".sc2s.sgov.gov",
        ".c2s.ic.gov",
        ".cloud.adc-e.uk",
        ".csp.hci.ic.gov",
    ];
    let bytes = host.as_bytes();
    bytes.len() > 13
        && bytes[..12].iter().all(u8::is_ascii_digit)
        && (host[12..].starts_with(".dkr.ecr") || host[12..].starts_with(".dkr-ecr"))
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && !host.contains("..")
        && suffixes.iter().any(|s| host.ends_with(s))
}

fn check_registry(r: &Registry) {
    assert!(
        looks_like_ecr_host(r.host()),
        "accepted a non-ECR host: {r:?}"
    );
    assert_eq!(
        Registry::from_host(r.host()).as_ref(),
        Some(r),
        "host does not round-trip"
    );
    let url = format!("https://{}:443/v2/", r.host().to_uppercase());
    assert_eq!(
        Registry::parse(&url).as_ref(),
        Some(r),
        "URL form does not round-trip"
    );
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The host parser.
pub(crate) fn host(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(a) = Authority::parse(s) {
        assert_eq!(
            Authority::parse(&a.to_string()).as_ref(),
            Ok(&a),
            "authority round-trip"
        );
        assert_eq!(a.host, a.host.to_ascii_lowercase());
    }
    if let Some(r) = Registry::parse(s) {
        check_registry(&r);
    }
}

fn check_target(t: &Target) {
    check_registry(&t.registry);
    let direct = t.authority.host == t.registry.host();
    let alias = t.authority.host == ALIAS && t.registry.host() == ALIAS_TARGET;
    assert!(
        direct || alias,
        "{:?} received the token of {}",
        t.authority,
        t.registry
    );
}

/// `get`/`erase` stdin: whatever resolves is ECR itself or the configured alias.
pub(crate) fn server(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Some(t) = Route::of(s, &config()).map(|r| r.target(&empty_env(), &Key::fixed())) {
        check_target(&t);
    }
}

/// `store` JSON.
pub(crate) fn store(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(c) = serde_json::from_str::<Credentials>(s) {
        let again: Credentials =
            serde_json::from_slice(&crate::frontends::output::json_line(&c)).expect("re-parse");
        assert_eq!(again, c);
        let _ = crate::frontends::docker::token_expiry_ms(&c.secret);
    }
}

/// kubelet requests.
pub(crate) fn kubelet(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok((req, t)) =
        crate::frontends::kubelet::parse(s, &config(), &empty_env(), &Key::fixed())
    {
        check_target(&t);
        let host = crate::frontends::kubelet::image_registry(&req.image)
            .expect("accepted image has a host");
        assert_eq!(Authority::parse(host).as_ref(), Ok(&t.authority));
    }
}

/// Bazel requests.
pub(crate) fn bazel(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(Some(t)) = crate::frontends::bazel::route(s, &config())
        .map(|r| r.map(|r| r.target(&empty_env(), &Key::fixed())))
    {
        check_target(&t);
    }
}

/// Config files: whatever loads names only genuine ECR registries as alias targets.
pub(crate) fn config_file(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(c) = Config::parse(s, Path::new("fuzz.toml")) {
        for (pattern, rule) in &c.registries {
            if let Some(ecr) = &rule.ecr {
                check_registry(&Registry::parse(ecr).expect("validated alias target"));
            }
            let _ = c.rule_for(pattern);
        }
        assert!((0.05..=0.95).contains(&c.daemon.renew_after));
        assert!(!c.timeout.is_zero());
    }
}

/// Cache entry files: whatever parses obeys the expiry rules.
pub(crate) fn cache_entry(data: &[u8]) {
    let Ok(e) = serde_json::from_slice::<Entry>(data) else {
        return;
    };
    for min in [
        MinRemaining::Fraction(0.5),
        MinRemaining::Fraction(0.0),
        MinRemaining::Fixed(std::time::Duration::from_secs(7200)),
    ] {
        let until = crate::token::policy::serve_until(&e, min);
        assert!(until < e.expires_at_ms || e.expires_at_ms == i64::MIN);
        for now in [
            e.expires_at_ms,
            e.expires_at_ms.saturating_add(1),
            until.saturating_add(1),
        ] {
            assert!(
                !crate::token::policy::servable(&e, now, min),
                "served at {now}: {e:?}"
            );
        }
    }
    let _ = crate::token::policy::renew_at(&e, 0.4);
    let _ = crate::token::policy::due_at(Some(&e), 0.4, 0);
}

/// A fuzz target's invariant check.
pub(crate) type Check = fn(&[u8]);

/// Every target by name.
const TARGETS: &[(&str, Check)] = &[
    ("host", host),
    ("server", server),
    ("store", store),
    ("kubelet", kubelet),
    ("bazel", bazel),
    ("config", config_file),
    ("cache_entry", cache_entry),
];

/// Runs the invariant check of the fuzz target `target` (a file in `fuzz/fuzz_targets/`, a
/// directory in `fuzz/corpus/`) on `data`. Panics when an invariant breaks, or when there is
/// no such target.
pub fn check(target: &str, data: &[u8]) {
    let (_, check) = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    check(data)
}
