#![no_main]
//! Fuzz target: the invariants `ecr_login_core::fuzzing::check` keeps for "host".
libfuzzer_sys::fuzz_target!(|data: &[u8]| ecr_login_core::fuzzing::check("host", data));
