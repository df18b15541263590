#![no_main]
//! Fuzz target: the invariants of `ecr_login_core::fuzzing::store`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ecr_login_core::fuzzing::store(data));
