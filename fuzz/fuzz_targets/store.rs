#![no_main]
//! Fuzz target: the invariants of `ecr_login::fuzzing::store`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ecr_login::fuzzing::store(data));
