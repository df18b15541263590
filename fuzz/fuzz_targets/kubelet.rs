#![no_main]
//! Fuzz target: the invariants of `ecr_login::fuzzing::kubelet`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ecr_login::fuzzing::kubelet(data));
