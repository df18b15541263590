//! The kubelet image credential provider and Bazel credential helper modes, through the
//! real binary, sharing `get`'s cache and single flight.

use crate::support::fake_ecr;
use crate::support::harness::*;
use std::time::Duration;

fn kubelet_request(version: &str, image: &str) -> String {
    format!(
        r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/{version}","kind":"CredentialProviderRequest","image":"{image}"}}"#
    )
}

#[test]
fn kubelet_answers_in_the_requested_api_version() {
    let s = Sandbox::new();
    s.fake.set_password("pw-k8s");
    for version in ["v1", "v1beta1", "v1alpha1"] {
        let out = s.run(
            &["kubelet"],
            kubelet_request(version, &format!("{REGISTRY}/team/app:1")).as_bytes(),
        );
        assert_ok(&out);
        let text = stdout(&out);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "apiVersion",
                "kind",
                "cacheKeyType",
                "cacheDuration",
                "auth"
            ]
        );
        assert_eq!(
            v["apiVersion"],
            format!("credentialprovider.kubelet.k8s.io/{version}")
        );
        assert_eq!(v["kind"], "CredentialProviderResponse");
        assert_eq!(v["cacheKeyType"], "Registry");
        assert_eq!(
            v["auth"][REGISTRY],
            serde_json::json!({"username": "AWS", "password": "pw-k8s"})
        );
        // 12 h token, served for half its life: just under 6 h.
        let d = v["cacheDuration"].as_str().unwrap();
        assert!(d.starts_with("5h59m") || d == "6h0m0s", "{d}");
    }
    assert_eq!(s.fake.token_calls(), 1, "the kubelet shares the cache");
}

#[test]
fn kubelet_rejects_what_is_not_ecr_on_stderr_only() {
    let s = Sandbox::new();
    for (input, needle) in [
        (
            kubelet_request("v1", "nginx:latest"),
            "not in an ECR registry",
        ),
        (
            kubelet_request("v1", "ghcr.io/org/app:1"),
            "not in an ECR registry",
        ),
        (kubelet_request("v2", "x/y"), "unsupported apiVersion"),
        ("{\"apiVersion\":".to_string(), "CredentialProviderRequest"),
    ] {
        let out = s.run(&["kubelet"], input.as_bytes());
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out), "", "the kubelet parses stdout strictly");
        assert!(stderr(&out).contains(needle), "{needle}: {}", stderr(&out));
    }
}

#[test]
fn parallel_kubelet_calls_share_one_api_call() {
    let s = Sandbox::new();
    s.fake
        .push_fault(fake_ecr::Fault::Delay(Duration::from_millis(500)));
    let req = kubelet_request("v1", &format!("{REGISTRY}/app@sha256:0123"));
    let children: Vec<_> = (0..8)
        .map(|_| s.spawn(&["kubelet"], req.as_bytes()))
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_ok(&out);
    }
    assert_eq!(s.fake.token_calls(), 1);
}

#[test]
fn kubelet_service_account_token_assumes_the_annotated_role() {
    let s = Sandbox::new();
    let claims = fake_ecr::encode_base64(br#"{"sub":"system:serviceaccount:apps:puller"}"#)
        .replace('+', "-")
        .replace('/', "_")
        .replace('=', "");
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln");
    let req = format!(
        r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"{REGISTRY}/app:1","serviceAccountToken":"{token}","serviceAccountAnnotations":{{"eks.amazonaws.com/ecr-role-arn":"arn:aws:iam::123456789012:role/puller"}}}}"#
    );
    let out = s.run(&["kubelet"], req.as_bytes());
    assert_ok(&out);
    let sts = s.sts_request("AssumeRoleWithWebIdentity");
    let reqs = s.fake.requests();
    assert!(
        sts.body.contains("role%2Fpuller") || sts.body.contains("role/puller"),
        "{}",
        sts.body
    );
    let ecr = reqs
        .iter()
        .find(|r| r.target.contains("GetAuthorizationToken"))
        .unwrap();
    assert!(
        ecr.access_key_id.starts_with("ASIA"),
        "{}",
        ecr.access_key_id
    );
    assert_no_secret(&out, &token);
}

#[test]
fn bazel_gets_basic_auth_headers_and_an_expiry() {
    let s = Sandbox::new();
    s.fake.set_password("pw-bazel");
    let out = s.run(
        &["get"],
        format!(r#"{{"uri":"https://{REGISTRY}/v2/app/blobs/sha256:00"}}"#).as_bytes(),
    );
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let want = format!("Basic {}", fake_ecr::encode_base64(b"AWS:pw-bazel"));
    assert_eq!(v["headers"]["Authorization"], serde_json::json!([want]));
    let expires = v["expires"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["expires", "headers"]);
}

#[test]
fn bazel_gets_an_empty_object_outside_ecr() {
    let s = Sandbox::new();
    let out = s.run(
        &["get"],
        br#"{"uri":"https://bcr.bazel.build/modules/rules_oci/source.json"}"#,
    );
    assert_ok(&out);
    assert_eq!(stdout(&out), "{}\n");
    assert_eq!(s.fake.token_calls(), 0);
}
