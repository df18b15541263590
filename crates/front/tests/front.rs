//! The front binary itself: what it links and what it answers alone. (Everything it does
//! with the full binary beside it is tested in the workspace's `tests/it`.)

const FRONT: &str = env!("CARGO_BIN_EXE_docker-credential-ecr-login");

/// Issue 11: the hit path cannot reach for the SDK. The package does not depend on it, and
/// the binary holds no symbol of it.
#[test]
fn the_front_binary_holds_no_aws_code() {
    let bytes = std::fs::read(FRONT).unwrap();
    // Symbol names are ASCII; the lossy view keeps them and searches fast.
    let binary = String::from_utf8_lossy(&bytes);
    for crate_name in [
        "aws_sdk_ecr",
        "aws_smithy",
        "aws_config",
        "aws_lc",
        "hyper",
        "tokio",
    ] {
        assert!(
            !binary.contains(crate_name),
            "the front binary contains {crate_name}"
        );
    }
    // The check can fail: the package's own code is there.
    assert!(binary.contains("ecr_login_core"));
}

#[test]
fn it_answers_version_alone() {
    let out = std::process::Command::new(FRONT)
        .arg("version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "docker-credential-ecr-login (ecr-login) {}\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}
