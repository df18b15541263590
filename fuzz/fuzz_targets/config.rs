#![no_main]
//! Fuzz target: the invariants `ecr_login_core::fuzzing::TARGETS` names "config".
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_, check) = ecr_login_core::fuzzing::TARGETS
        .iter()
        .find(|(name, _)| *name == "config")
        .expect("a target of that name");
    check(data)
});
