//! `ecr-login`: the full binary, with the AWS SDK. `docker-credential-ecr-login` (the small
//! front that Docker execs) answers cache hits, `store`, `erase`, `list` and `version`
//! itself and hands everything else here: a cache miss, Bazel, `kubelet`, the daemon,
//! `configure`, `status`, `refresh`. People may call either name.

fn main() -> std::process::ExitCode {
    ecr_login::main()
}
