//! Issue 29: a node without libc (Talos, distroless) runs the miss path. The kubelet execs the
//! front binary, which execs the full one; both must be static. The test serves a kubelet
//! request inside a chroot holding the two binaries and a CA bundle, nothing else: no libc,
//! no dynamic loader, no shell, no /proc, no /etc.
//!
//! It needs root (chroot) and the static musl binaries, which take minutes to build:
//! `tests/run-all.sh` builds them (`packaging/static-full.sh`) and runs this test with
//! `ECR_LOGIN_STATIC_DIR` pointing at them.

use crate::support::harness::*;
use crate::support::tls_front::{Ca, TlsFront};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Whether an ELF file asks for a program interpreter (`PT_INTERP`): a dynamic executable.
fn has_interpreter(path: &Path) -> bool {
    let elf = std::fs::read(path).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF", "{path:?} is not ELF");
    assert_eq!(elf[4], 2, "64-bit");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == 3
    })
}

#[test]
#[ignore = "needs root (chroot) and the static musl binaries (tests/run-all.sh builds them)"]
fn a_kubelet_miss_is_served_in_a_chroot_without_libc() {
    let dir = std::env::var("ECR_LOGIN_STATIC_DIR")
        .expect("ECR_LOGIN_STATIC_DIR: the directory of the static binaries");
    let s = Sandbox::new();
    s.fake.set_password("pw-static");
    let ca = Ca::new("Node CA");
    let (cert, key) = ca.server_cert(&["127.0.0.1"]);
    let front = TlsFront::start(s.fake.port(), &cert, &key);

    let root = s.dir.path().join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    for name in ["docker-credential-ecr-login", "ecr-login"] {
        let from = Path::new(&dir).join(name);
        assert!(!has_interpreter(&from), "{name} is dynamically linked");
        std::fs::copy(&from, root.join("bin").join(name)).unwrap();
    }
    // Where distributions (and distroless images) keep the system's bundle: found natively.
    std::fs::create_dir_all(root.join("etc/ssl/certs")).unwrap();
    ca.write_pem(root.join("etc/ssl/certs/ca-certificates.crt"));
    // What the chroot holds: the two binaries and the CA bundle.
    let mut held: Vec<String> = walk(&root);
    held.sort();
    assert_eq!(
        held,
        [
            "bin/docker-credential-ecr-login",
            "bin/ecr-login",
            "etc/ssl/certs/ca-certificates.crt"
        ]
    );

    let request = serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{REGISTRY}/app:1"),
    })
    .to_string();
    let endpoint = format!("https://127.0.0.1:{}", front.port());
    let chroot = std::ffi::CString::new(root.to_str().unwrap()).unwrap();
    let mut cmd = Command::new("/bin/docker-credential-ecr-login");
    cmd.arg("kubelet")
        .env_clear()
        .envs([
            ("AWS_ECR_CACHE_DIR", "/cache"),
            ("ECR_LOGIN_CONFIG", "/config.toml"),
            ("AWS_ENDPOINT_URL_ECR", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: chroot(2) and chdir(2) with a path we own, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::chroot(chroot.as_ptr()) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = spawn_with_input(cmd, request.as_bytes())
        .wait_with_output()
        .unwrap();
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["auth"][REGISTRY]["password"], "pw-static");
    assert_eq!(
        s.fake.token_calls(),
        1,
        "a miss, fetched over TLS with the bundle"
    );
    assert!(
        root.join("cache").is_dir(),
        "the token was cached inside the chroot"
    );
}

/// Every file under `dir`, relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(
                walk(&p)
                    .into_iter()
                    .map(|f| format!("{}/{f}", p.file_name().unwrap().to_str().unwrap())),
            );
        } else {
            out.push(p.file_name().unwrap().to_str().unwrap().to_string());
        }
    }
    out
}
