#![no_main]
//! Fuzz target: the invariants `ecr_login_core::fuzzing::TARGETS` names "server".
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_, check) = ecr_login_core::fuzzing::TARGETS
        .iter()
        .find(|(name, _)| *name == "server")
        .expect("a target of that name");
    check(data)
});
