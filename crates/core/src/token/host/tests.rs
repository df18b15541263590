//! Every host form of SPEC Part C, and the spoofs that must never get a token.

use super::*;

/// (input, account, region, fips, dual_stack): every row of SPEC Part C.
const PRIVATE: &[(&str, &str, &str, bool, bool)] = &[
    (
        "123456789012.dkr.ecr.us-west-2.amazonaws.com",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
    (
        "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
        "123456789012",
        "us-east-1",
        true,
        false,
    ),
    (
        "123456789012.dkr-ecr.us-west-2.on.aws",
        "123456789012",
        "us-west-2",
        false,
        true,
    ),
    (
        "123456789012.dkr-ecr-fips.us-west-2.on.aws",
        "123456789012",
        "us-west-2",
        true,
        true,
    ),
    (
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
        "123456789012",
        "cn-north-1",
        false,
        false,
    ),
    (
        "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
        "123456789012",
        "cn-north-1",
        false,
        true,
    ),
    (
        "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
        "123456789012",
        "us-gov-west-1",
        true,
        false,
    ),
    (
        "123456789012.dkr-ecr.us-gov-east-1.on.aws",
        "123456789012",
        "us-gov-east-1",
        false,
        true,
    ),
    (
        "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
        "123456789012",
        "eusc-de-east-1",
        false,
        false,
    ),
    (
        "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
        "123456789012",
        "us-iso-east-1",
        false,
        false,
    ),
    (
        "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
        "123456789012",
        "us-isob-east-1",
        false,
        false,
    ),
    (
        "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
        "123456789012",
        "eu-isoe-west-1",
        false,
        false,
    ),
    (
        "123456789012.dkr.ecr.us-isof-east-1.csp.hci.ic.gov",
        "123456789012",
        "us-isof-east-1",
        false,
        false,
    ),
    // Any letter case, scheme, port and path: the Go helper is case-sensitive.
    (
        "123456789012.DKR.ECR.US-WEST-2.AMAZONAWS.COM",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
    (
        "https://123456789012.dkr.ecr.us-west-2.amazonaws.com",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
    (
        "http://123456789012.dkr.ecr.us-west-2.amazonaws.com:443",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
    (
        "123456789012.dkr.ecr.us-west-2.amazonaws.com:443",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
    (
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
    (
        "https://123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
    (
        " 123456789012.dkr.ecr.us-west-2.amazonaws.com \r\n",
        "123456789012",
        "us-west-2",
        false,
        false,
    ),
];

#[test]
fn accepts_every_ecr_host_form() {
    for &(input, account, region, fips, dual_stack) in PRIVATE {
        let got = Registry::parse(input).unwrap_or_else(|| panic!("rejected {input:?}"));
        let Registry::Private {
            account: a,
            region: r,
            fips: f,
            dual_stack: d,
            host,
        } = &got
        else {
            panic!("{input:?} parsed as {got:?}");
        };
        assert_eq!(
            (a.as_str(), r.as_str(), *f, *d),
            (account, region, fips, dual_stack),
            "{input:?}"
        );
        assert_eq!(host, &host.to_ascii_lowercase());
        assert!(
            !host.contains(':') && !host.contains('/'),
            "{input:?} kept {host}"
        );
        // Re-serialising the host parses to the same registry.
        assert_eq!(Registry::parse(host).as_ref(), Some(&got));
    }
}

#[test]
fn accepts_ecr_public() {
    for (input, dual_stack) in [
        ("public.ecr.aws", false),
        ("https://public.ecr.aws/v2/", false),
        ("PUBLIC.ECR.AWS:443", false),
        ("ecr-public.aws.com", true),
    ] {
        let got = Registry::parse(input).unwrap();
        assert!(
            matches!(got, Registry::Public { dual_stack: d, .. } if d == dual_stack),
            "{input}"
        );
        assert_eq!(got.region(), "us-east-1");
    }
}

/// Hosts that would leak a token if accepted (SPEC Part C), and malformed ones.
#[test]
fn rejects_spoofed_and_malformed_hosts() {
    for input in [
        "abc.dkr.ecr.us-east-1.amazonaws.com",
        "12345678901.dkr.ecr.us-east-1.amazonaws.com",
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.fake.example.com",
        "public.ecr.aws.evil.com",
        "evil.com/public.ecr.aws",
        "123456789012.dkr.ecr.cn-north-1.on.aws.com.cn",
        "123456789012.dkr.ecr..amazonaws.com",
        "123456789012.dkr.ecr.-us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us.east.1.amazonaws.com",
        "123456789012.dkr.ecrx.us-east-1.amazonaws.com",
        "x123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "evil.123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com@evil.com",
        "evil.com@123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "user:pw@123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "ftp://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com:notaport",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com:99999",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com\0",
        "docker.io",
        "registry-1.docker.io",
        "",
        "https://",
        "amazonaws.com",
        ".dkr.ecr.us-east-1.amazonaws.com",
        // Issue 13: regions must look like regions.
        "123456789012.dkr.ecr.s3.amazonaws.com",
        "123456789012.dkr.ecr.us_east_1.amazonaws.com",
        "123456789012.dkr.ecr.useast1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-x.amazonaws.com",
        // A homoglyph (Cyrillic а) is not the partition's suffix.
        "123456789012.dkr.ecr.us-east-1.amazon\u{0430}ws.com",
    ] {
        assert_eq!(Registry::parse(input), None, "accepted {input:?}");
    }
}

#[test]
fn account_registries_follow_the_partition() {
    for (region, host) in [
        (
            "cn-north-1",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
        ),
        (
            "us-isob-east-1",
            "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
        ),
        (
            "us-iso-east-1",
            "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
        ),
        (
            "eusc-de-east-1",
            "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
        ),
        ("eu-west-1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
    ] {
        let r = Registry::private("123456789012", region).unwrap();
        assert_eq!(r.host(), host);
        assert_eq!(r.region(), region);
    }
    assert_eq!(Registry::private("1234", "eu-west-1"), None);
    assert_eq!(Registry::private("123456789012", "eu west"), None);
}

#[test]
fn authority_keeps_port_and_drops_the_rest() {
    for (input, want) in [
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("https://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        ("Registry.Example.Internal", "registry.example.internal"),
        ("[::1]:5000", "[::1]:5000"),
        ("localhost/app:latest", "localhost"),
    ] {
        assert_eq!(
            Authority::parse(input).unwrap().to_string(),
            want,
            "{input}"
        );
    }
    for bad in [
        "",
        "a b",
        "x@y",
        "host:port",
        "[::1",
        "gopher://x",
        "host\u{00e9}",
    ] {
        assert!(Authority::parse(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn user_information_is_refused_without_repeating_the_password() {
    let err =
        Authority::parse("https://me:hunter2@123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/")
            .unwrap_err()
            .to_string();
    assert!(!err.contains("hunter2"), "{err}");
    assert!(
        err.contains("\"123456789012.dkr.ecr.us-east-1.amazonaws.com\""),
        "{err}"
    );
}

/// Issue 29: the kubelet's `matchImages` come from the parser's own list of host forms.
/// Every host the parser accepts, among every spelling of the service and every partition
/// suffix, is matched by a pattern (by the kubelet's rule: label by label); every pattern
/// matches an accepted host; the spellings AWS does not use are refused.
#[test]
fn match_images_cover_exactly_the_accepted_hosts() {
    let services = ["dkr.ecr", "dkr-ecr", "dkr.ecr-fips", "dkr-ecr-fips"];
    let suffixes = [
        "amazonaws.com",
        "amazonaws.com.cn",
        "amazonaws.eu",
        "on.aws",
        "on.amazonwebservices.com.cn",
        "sc2s.sgov.gov",
        "c2s.ic.gov",
        "cloud.adc-e.uk",
        "csp.hci.ic.gov",
    ];
    let pairs = match_images();
    let patterns: Vec<String> = pairs.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(patterns.len(), 13, "{patterns:?}");
    for (pattern, example) in &pairs {
        assert!(Registry::from_host(example).is_some(), "{example}");
        assert!(
            crate::token::config::glob_match(pattern, example),
            "{pattern}"
        );
    }
    let matched = |host: &str| {
        patterns
            .iter()
            .filter(|p| crate::token::config::glob_match(p, host))
            .count()
    };
    let mut accepted = Vec::new();
    for service in services {
        for suffix in suffixes {
            let host = format!("123456789012.{service}.us-west-2.{suffix}");
            let form = FORMS
                .iter()
                .find(|f| f.service == service && f.suffix == suffix);
            match Registry::from_host(&host) {
                Some(Registry::Private {
                    fips, dual_stack, ..
                }) => {
                    let form = form.unwrap_or_else(|| panic!("accepted {host}, not a form"));
                    assert_eq!((fips, dual_stack), (form.fips, form.dual_stack), "{host}");
                    assert_eq!(matched(&host), 1, "{host}: one pattern");
                    accepted.push(host);
                }
                _ => {
                    assert!(form.is_none(), "refused {host}");
                    assert_eq!(matched(&host), 0, "{host} is not ECR");
                }
            }
        }
    }
    for host in ["public.ecr.aws", "ecr-public.aws.com"] {
        assert!(Registry::from_host(host).is_some());
        assert_eq!(matched(host), 1, "{host}");
        accepted.push(host.to_string());
    }
    for p in &patterns {
        assert!(
            accepted
                .iter()
                .any(|h| crate::token::config::glob_match(p, h)),
            "{p} matches no registry"
        );
    }
    assert_eq!(accepted.len(), patterns.len());
}
