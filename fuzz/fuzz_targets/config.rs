#![no_main]
//! Fuzz target: the invariants of `ecr_login_core::fuzzing::config_file`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ecr_login_core::fuzzing::config_file(data));
