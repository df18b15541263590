#![no_main]
//! Fuzz target: the invariants of `ecr_login_core::fuzzing::cache_entry`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ecr_login_core::fuzzing::cache_entry(data));
