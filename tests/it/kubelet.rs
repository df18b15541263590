//! Issue 29: the kubelet provider as cluster operators run it. In service-account mode a
//! request carries the pod's token; the role comes from the service account's annotation,
//! the registry's `role_arn` or `AWS_ECR_ROLE_ARN`, else the node's credentials answer (as
//! AWS's provider does), and the STS session names the workload. Through the real binaries
//! and the fake STS, which records `RoleArn` and `RoleSessionName` and enforces STS's rules.

use crate::support::harness::*;
use serde_json::json;

const ROLE_A: &str = "arn:aws:iam::123456789012:role/from-annotation";
const ROLE_B: &str = "arn:aws:iam::123456789012:role/from-irsa-annotation";
const ROLE_C: &str = "arn:aws:iam::123456789012:role/from-config";
const ROLE_D: &str = "arn:aws:iam::123456789012:role/from-env";

/// A projected service account token (unsigned: the fake STS, like the kubelet's provider,
/// does not verify it).
fn token(namespace: &str, name: &str) -> String {
    use base64::Engine;
    let claims = json!({
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": format!("uid-{name}")}},
    });
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln")
}

fn request(token: &str, annotations: serde_json::Value) -> String {
    json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{REGISTRY}/app:1"),
        "serviceAccountToken": token,
        "serviceAccountAnnotations": annotations,
    })
    .to_string()
}

/// Our config with `[kubelet]` lines added (no first-call spread: one node, no storm).
fn config(kubelet: &str, registry_role: Option<&str>) -> String {
    let mut text = format!("[kubelet]\nfirst_call_spread = \"0s\"\n{kubelet}\n");
    if let Some(role) = registry_role {
        text.push_str(&format!(
            "[registries.\"{REGISTRY}\"]\nrole_arn = \"{role}\"\n"
        ));
    }
    text
}

/// Issue 29: turning on service-account mode broke every pod without an annotation. A
/// token and no role anywhere is answered with the node's credentials.
#[test]
fn a_token_with_no_role_is_answered_with_the_node_credentials() {
    let s = Sandbox::new();
    s.write_config(&config("", None));
    s.fake.set_password("pw-node");
    let t = token("apps", "web");
    let out = s.run(&["kubelet"], request(&t, json!({})).as_bytes());
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["auth"][REGISTRY]["password"], "pw-node");
    assert_eq!(s.fake.sts_calls(), 0, "no role, no exchange");
    let ecr: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.target.contains("GetAuthorizationToken"))
        .collect();
    assert_eq!(ecr.len(), 1);
    assert_eq!(ecr[0].access_key_id, ACCESS_KEY, "the node's key signed");
    assert_no_secret(&out, &t);
}

/// Issue 29: `[kubelet] require_role = true` refuses instead, naming the service account
/// and the keys it looked at, on stderr only.
#[test]
fn require_role_refuses_and_names_the_account() {
    let s = Sandbox::new();
    s.write_config(&config(
        "require_role = true\nrole_annotations = [\"eks.amazonaws.com/ecr-role-arn\", \"eks.amazonaws.com/role-arn\"]",
        None,
    ));
    let out = s.run(
        &["kubelet"],
        request(&token("payments", "batch"), json!({"other/key": "x"})).as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "the kubelet parses stdout strictly");
    let err = stderr(&out);
    for needle in [
        "payments/batch",
        "eks.amazonaws.com/ecr-role-arn, eks.amazonaws.com/role-arn",
        "require_role",
    ] {
        assert_contains(&err, needle);
    }
    assert_eq!(s.fake.token_calls() + s.fake.sts_calls(), 0);
}

/// Issue 29: the role is the first of our annotations present, then the registry's
/// `role_arn`, then `AWS_ECR_ROLE_ARN`; each source wins over the ones after it.
#[test]
fn each_role_source_wins_in_order() {
    let both =
        r#"role_annotations = ["eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"]"#;
    let ecr_key = "eks.amazonaws.com/ecr-role-arn";
    let irsa_key = "eks.amazonaws.com/role-arn";
    for (kubelet, annotations, registry_role, env_role, want) in [
        // The first configured annotation, over everything else.
        (
            both,
            json!({ecr_key: ROLE_A, irsa_key: ROLE_B}),
            Some(ROLE_C),
            Some(ROLE_D),
            ROLE_A,
        ),
        // The IRSA key, once configured.
        (
            both,
            json!({irsa_key: ROLE_B}),
            Some(ROLE_C),
            Some(ROLE_D),
            ROLE_B,
        ),
        // Not configured: the IRSA key is ignored, the registry's role_arn answers.
        (
            "",
            json!({irsa_key: ROLE_B}),
            Some(ROLE_C),
            Some(ROLE_D),
            ROLE_C,
        ),
        // An empty annotation counts as none.
        ("", json!({ecr_key: ""}), None, Some(ROLE_D), ROLE_D),
        ("", json!({}), None, Some(ROLE_D), ROLE_D),
    ] {
        let mut s = Sandbox::new();
        s.write_config(&config(kubelet, registry_role));
        if let Some(role) = env_role {
            s.set("AWS_ECR_ROLE_ARN", role);
        }
        let out = s.run(
            &["kubelet"],
            request(&token("apps", "puller"), annotations.clone()).as_bytes(),
        );
        assert_ok(&out);
        let calls = s.fake.web_identity_calls();
        assert_eq!(calls.len(), 1, "{annotations}");
        assert_eq!(
            calls[0].0, want,
            "{kubelet} {annotations} {registry_role:?}"
        );
        // A second pull of the same account is a hit: no STS call.
        assert_ok(&s.run(
            &["kubelet"],
            request(&token("apps", "puller"), annotations.clone()).as_bytes(),
        ));
        assert_eq!(
            s.fake.web_identity_calls().len(),
            1,
            "cached per role and UID"
        );
        assert_eq!(s.fake.token_calls(), 1);
    }
}

/// Issue 29: CloudTrail could not tell workloads apart. The session name carries the
/// namespace and the service account, even for 63-character names, within STS's rules
/// (the fake refuses what STS refuses).
#[test]
fn session_names_carry_namespace_and_account() {
    let long_ns = "n".repeat(63);
    let long_name = "s".repeat(63);
    for (namespace, name, shown_ns, shown_name) in [
        ("apps", "puller", "apps", "puller"),
        (long_ns.as_str(), "puller", &long_ns[..48], "puller"),
        (
            "kube-system",
            long_name.as_str(),
            "kube-system",
            &long_name[..43],
        ),
        (
            long_ns.as_str(),
            long_name.as_str(),
            &long_ns[..27],
            &long_name[..27],
        ),
    ] {
        let s = Sandbox::new();
        s.write_config(&config("", None));
        let out = s.run(
            &["kubelet"],
            request(
                &token(namespace, name),
                json!({"eks.amazonaws.com/ecr-role-arn": ROLE_A}),
            )
            .as_bytes(),
        );
        assert_ok(&out);
        let (role, session) = s.fake.web_identity_calls().remove(0);
        assert_eq!(role, ROLE_A);
        assert!(
            session.starts_with(&format!("{shown_ns}@{shown_name}")),
            "{namespace}/{name}: {session}"
        );
        assert!((2..=64).contains(&session.len()), "{session}");
    }
}

fn node_request() -> String {
    json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{REGISTRY}/app:1"),
    })
    .to_string()
}

/// Issue 29, boot storms: a throttled call is retried after a jittered back-off, one API
/// call per attempt (not the SDK's quick retries, which would only be throttled again),
/// until the quota lets it through.
#[test]
fn a_throttled_call_backs_off_and_gets_through() {
    let mut s = Sandbox::new();
    s.write_config(&config("retry_for = \"6s\"", None));
    s.set("ECR_LOGIN_LOG", "info");
    s.fake.set_password("pw-late");
    for _ in 0..2 {
        s.fake.push_fault(crate::support::fake_ecr::Fault::Throttle);
    }
    let out = s.run(&["kubelet"], node_request().as_bytes());
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["auth"][REGISTRY]["password"], "pw-late");
    assert_eq!(
        s.fake.token_calls(),
        3,
        "two throttled attempts, then the token"
    );
    // Each retry waited at least half its window (a sixth of retry_for, doubling), not the
    // SDK's fraction of a second.
    let waits: Vec<u64> = stderr(&out)
        .lines()
        .filter_map(|l| {
            l.split("trying again in ")
                .nth(1)?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(waits.len(), 2, "{}", stderr(&out));
    assert!(waits[0] >= 500 && waits[1] >= 1000, "{waits:?}");
}

/// Issue 29: an answer to a request throttled throughout says so in one line on stderr
/// (nothing on stdout) and comes within `[kubelet] retry_for` plus one request's timeout,
/// never past the kubelet's one-minute exec timeout.
#[test]
fn a_call_throttled_throughout_says_so_in_one_line_in_time() {
    let s = Sandbox::new();
    s.write_config(&config("retry_for = \"3s\"", None));
    s.fake
        .set_fault(Some(crate::support::fake_ecr::Fault::Throttle));
    let start = std::time::Instant::now();
    let out = s.run(&["kubelet"], node_request().as_bytes());
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.contains(" INFO ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    for needle in [
        "throttling",
        "attempts over",
        "the kubelet retries the pull",
    ] {
        assert_contains(lines[0], needle);
    }
    assert!(took < std::time::Duration::from_secs(3 + 5), "{took:?}");
    let calls = s.fake.token_calls();
    assert!((2..=5).contains(&calls), "{calls} calls");
    // The config refuses a retry_for the kubelet would not wait for.
    s.write_config("[kubelet]\nretry_for = \"90s\"\n");
    assert_contains(
        &stderr(&s.run(&["kubelet"], node_request().as_bytes())),
        "longer than the kubelet waits",
    );
}

/// The kubelet's own validation of a `CredentialProviderConfig`, restated from
/// kubernetes/kubernetes `pkg/credentialprovider/plugin/config.go`
/// (`readCredentialProviderConfig`, `validateCredentialProviderConfig`, Kubernetes
/// 1.34-1.36; packaging/kubernetes/kubelet-research.md), independently of ours. Returns the
/// merged providers.
fn kubelet_accepts(path: &std::path::Path) -> Vec<serde_json::Value> {
    let mut files = vec![path.to_path_buf()];
    if path.is_dir() {
        files = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                !p.is_dir()
                    && matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("json" | "yaml" | "yml")
                    )
            })
            .collect();
        files.sort();
        assert!(
            !files.is_empty(),
            "no configuration files found in directory"
        );
    }
    let mut providers: Vec<serde_json::Value> = Vec::new();
    for f in files {
        let doc: serde_json::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert_eq!(doc["kind"], "CredentialProviderConfig", "{f:?}");
        assert!(
            doc["apiVersion"]
                .as_str()
                .unwrap()
                .starts_with("kubelet.config.k8s.io/")
        );
        for p in doc["providers"].as_array().unwrap() {
            assert!(
                !providers.iter().any(|q| q["name"] == p["name"]),
                "duplicate provider name {}",
                p["name"]
            );
            providers.push(p.clone());
        }
    }
    assert!(
        !providers.is_empty(),
        "at least 1 item in plugins is required"
    );
    for p in &providers {
        let name = p["name"].as_str().unwrap();
        assert!(!name.contains('/') && !name.contains(' ') && name != "." && name != "..");
        let api = p["apiVersion"].as_str().unwrap();
        assert!(
            ["v1", "v1beta1", "v1alpha1"]
                .iter()
                .any(|v| api == format!("credentialprovider.kubelet.k8s.io/{v}")),
            "{api}"
        );
        let images = p["matchImages"].as_array().unwrap();
        assert!(!images.is_empty());
        for i in images {
            let i = i.as_str().unwrap();
            assert!(!i.is_empty() && !i.contains(char::is_whitespace), "{i}");
        }
        assert!(
            p["defaultCacheDuration"].is_string(),
            "defaultCacheDuration is required"
        );
        let allowed = [
            "name",
            "matchImages",
            "defaultCacheDuration",
            "apiVersion",
            "args",
            "env",
            "tokenAttributes",
        ];
        for k in p.as_object().unwrap().keys() {
            assert!(
                allowed.contains(&k.as_str()),
                "strict decoding: unknown field {k}"
            );
        }
        if let Some(t) = p.get("tokenAttributes") {
            assert_eq!(
                api, "credentialprovider.kubelet.k8s.io/v1",
                "tokenAttributes: v1 only"
            );
            assert!(
                !t["serviceAccountTokenAudience"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
            assert!(
                t["requireServiceAccount"].is_boolean(),
                "requireServiceAccount is required"
            );
            assert!(matches!(
                t["cacheType"].as_str(),
                Some("Token" | "ServiceAccount")
            ));
            let keys = |f: &str| -> Vec<String> {
                t.get(f)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .map(|k| k.as_str().unwrap().to_string())
                    .collect()
            };
            let (required, optional) = (
                keys("requiredServiceAccountAnnotationKeys"),
                keys("optionalServiceAccountAnnotationKeys"),
            );
            if t["requireServiceAccount"] == false {
                assert!(required.is_empty());
            }
            assert!(
                required.iter().all(|k| !optional.contains(k)),
                "both required and optional"
            );
        }
    }
    providers
}

const OTHER_JSON: &str = "{\n  \"apiVersion\": \"kubelet.config.k8s.io/v1\",\n  \"kind\": \"CredentialProviderConfig\",\n  \"providers\": [\n    {\n      \"name\": \"acr-credential-provider\",\n      \"matchImages\": [\"*.azurecr.io\"],\n      \"defaultCacheDuration\": \"10m\",\n      \"apiVersion\": \"credentialprovider.kubelet.k8s.io/v1\"\n    }\n  ]\n}\n";

/// Issue 29: `configure --kubelet` for each form (a new file, a drop-in in a config
/// directory, a merge into a file with another provider), with and without
/// `--service-account`: the kubelet's rules hold, a second run changes nothing, and
/// `--remove` takes out only what it added.
#[test]
fn configure_kubelet_writes_what_the_kubelet_accepts() {
    let patterns: Vec<String> = ecr_login_core::host::match_images()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for form in ["new file", "drop-in", "merge"] {
        for sa in [false, true] {
            let s = Sandbox::new();
            let bin = s.dir.path().join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            let config = match form {
                "new file" => s.dir.path().join("credential-provider.yaml"),
                "drop-in" => {
                    let d = s.dir.path().join("providers.d");
                    std::fs::create_dir_all(&d).unwrap();
                    std::fs::write(d.join("10-acr.json"), OTHER_JSON).unwrap();
                    d
                }
                _ => {
                    let f = s.dir.path().join("config.json");
                    std::fs::write(&f, OTHER_JSON).unwrap();
                    f
                }
            };
            let c = config.to_str().unwrap();
            let b = bin.to_str().unwrap();
            let mut args = vec!["configure", "--kubelet", "--config", c, "--bin-dir", b];
            if sa {
                args.push("--service-account");
            }
            let out = s.run(&args, b"");
            assert_ok(&out);
            let text = stdout(&out);
            assert_contains(&text, &format!("--image-credential-provider-config={c}"));
            assert_contains(&text, &format!("--image-credential-provider-bin-dir={b}"));
            assert_eq!(
                text.contains("request-serviceaccounts-token-audience"),
                sa,
                "{text}"
            );
            let providers = kubelet_accepts(&config);
            let ours: Vec<_> = providers
                .iter()
                .filter(|p| {
                    p["name"]
                        .as_str()
                        .unwrap()
                        .starts_with("docker-credential-ecr-login")
                })
                .collect();
            assert_eq!(ours.len(), if sa { 2 } else { 1 }, "{form}");
            for p in &ours {
                assert_eq!(
                    p["matchImages"],
                    serde_json::json!(patterns),
                    "from the host parser"
                );
                assert!(
                    bin.join(p["name"].as_str().unwrap()).exists(),
                    "{}",
                    p["name"]
                );
            }
            if sa {
                let t = &ours[0]["tokenAttributes"];
                assert_eq!(t["serviceAccountTokenAudience"], "sts.amazonaws.com");
                assert_eq!(t["cacheType"], "ServiceAccount");
                assert_eq!(t["requireServiceAccount"], false);
                assert_eq!(
                    t["optionalServiceAccountAnnotationKeys"],
                    serde_json::json!(["eks.amazonaws.com/ecr-role-arn"])
                );
            }
            if form != "new file" {
                assert_eq!(providers[0]["name"], "acr-credential-provider", "{form}");
            }
            // Twice: nothing changes.
            let snapshot = std::fs::read_dir(s.dir.path()).unwrap().count();
            let again = s.run(&args, b"");
            assert_ok(&again);
            assert_contains(&stdout(&again), "nothing changed");
            assert!(!stdout(&again).contains("installed"), "{}", stdout(&again));
            assert_eq!(std::fs::read_dir(s.dir.path()).unwrap().count(), snapshot);
            // --remove: only what we added.
            let mut remove = args.clone();
            remove.push("--remove");
            assert_ok(&s.run(&remove, b""));
            match form {
                "new file" => assert!(!config.exists(), "the file we made, gone"),
                "drop-in" => {
                    assert!(!config.join("ecr-login.json").exists());
                    assert_eq!(
                        std::fs::read_to_string(config.join("10-acr.json")).unwrap(),
                        OTHER_JSON
                    );
                }
                _ => assert_eq!(std::fs::read_to_string(&config).unwrap(), OTHER_JSON),
            }
            assert_eq!(
                std::fs::read_dir(&bin).unwrap().count(),
                0,
                "binaries removed"
            );
        }
    }
}

/// Issue 29: `--dry-run` shows the change and writes nothing.
#[test]
fn configure_kubelet_dry_run_writes_nothing() {
    let s = Sandbox::new();
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let config = s.dir.path().join("config.json");
    std::fs::write(&config, OTHER_JSON).unwrap();
    let out = s.run(
        &[
            "configure",
            "--kubelet",
            "--dry-run",
            "--config",
            config.to_str().unwrap(),
            "--bin-dir",
            bin.to_str().unwrap(),
        ],
        b"",
    );
    assert_ok(&out);
    assert_contains(&stdout(&out), "would change");
    assert_contains(&stdout(&out), "docker-credential-ecr-login");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), OTHER_JSON);
    assert_eq!(std::fs::read_dir(&bin).unwrap().count(), 0);
}

/// `doctor --kubelet CONFIG --bin-dir DIR --json`: exit code and (name, status, detail) rows.
fn kubelet_doctor(
    s: &Sandbox,
    config: &std::path::Path,
    bin: &std::path::Path,
) -> (i32, Vec<(String, String, String)>) {
    let image = format!("{REGISTRY}/app:1");
    let out = s.run(
        &[
            "doctor",
            "--kubelet",
            config.to_str().unwrap(),
            "--bin-dir",
            bin.to_str().unwrap(),
            "--image",
            &image,
            "--json",
        ],
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    let rows = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out.status.code().unwrap(), rows)
}

/// Issue 29: `doctor --kubelet` passes on what `configure --kubelet` wrote (a request goes
/// through the configured executable, args and env, to the fake ECR), and flags a dead
/// pattern, missing FIPS patterns and tokenAttributes under v1beta1.
#[test]
fn doctor_kubelet_passes_on_configure_and_flags_what_the_kubelet_gets_wrong() {
    let s = Sandbox::new();
    s.write_config(&config("", None));
    s.fake.set_password("pw-doctor");
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = s.dir.path().join("config.json");
    let (c, b) = (path.to_str().unwrap(), bin.to_str().unwrap());
    let configure = [
        "configure",
        "--kubelet",
        "--config",
        c,
        "--bin-dir",
        b,
        "--service-account",
    ];
    assert_ok(&s.run(&configure, b""));
    let (code, rows) = kubelet_doctor(&s, &path, &bin);
    let failed: Vec<_> = rows.iter().filter(|r| r.1 == "fail").collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(code, 0);
    let request = rows.iter().find(|r| r.0 == "kubelet.request").unwrap();
    assert_eq!(request.1, "pass", "{request:?}");
    assert!(!request.2.contains("pw-doctor"), "never the password");
    assert_eq!(s.fake.token_calls(), 1, "through the fake ECR");
    assert!(rows.iter().any(|r| r.0 == "kubelet.rbac" && r.1 == "warn"));

    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let node = written["providers"][1].clone();
    let sa = written["providers"][0].clone();
    let doc = |providers: Vec<serde_json::Value>| json!({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig", "providers": providers});
    let with_images = |images: Vec<&str>| {
        let mut p = node.clone();
        p["matchImages"] = json!(images);
        doc(vec![p])
    };
    let mut all: Vec<String> = ecr_login_core::host::match_images()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    all.push("*.dkr.ecr.*.amazonaws.com/*".into());
    let dead = with_images(all.iter().map(String::as_str).collect());
    let no_fips = with_images(
        all.iter()
            .map(String::as_str)
            .filter(|p| !p.contains("fips") && !p.ends_with("/*"))
            .collect(),
    );
    let mut beta = sa.clone();
    beta["apiVersion"] = json!("credentialprovider.kubelet.k8s.io/v1beta1");
    let v1beta1 = doc(vec![beta, node.clone()]);
    for (case, text, check, needle) in [
        (
            "a path glob",
            dead,
            "kubelet.match",
            "*.dkr.ecr.*.amazonaws.com/*: the path",
        ),
        (
            "no FIPS",
            no_fips,
            "kubelet.match",
            "*.dkr.ecr-fips.*.amazonaws.com, *.dkr-ecr-fips.*.on.aws",
        ),
        (
            "v1beta1",
            v1beta1,
            "kubelet.config",
            "tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1",
        ),
    ] {
        std::fs::write(&path, text.to_string()).unwrap();
        let (code, rows) = kubelet_doctor(&s, &path, &bin);
        assert_eq!(code, 1, "{case}");
        assert!(
            rows.iter()
                .any(|r| r.0 == check && r.1 == "fail" && r.2.contains(needle)),
            "{case}: {rows:#?}"
        );
    }
}
