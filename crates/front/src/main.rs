//! `docker-credential-ecr-login`: what Docker, podman, skopeo and friends exec. It is built
//! from `ecr-login-core` alone, which has no AWS dependency, so a cache hit never links
//! the SDK; a miss is handed to the full binary `ecr-login` beside it.

fn main() -> std::process::ExitCode {
    ecr_login_core::handoff::front_main()
}
