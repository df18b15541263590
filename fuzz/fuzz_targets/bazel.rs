#![no_main]
//! Fuzz target: the invariants `ecr_login_core::fuzzing::check` keeps for "bazel".
libfuzzer_sys::fuzz_target!(|data: &[u8]| ecr_login_core::fuzzing::check("bazel", data));
