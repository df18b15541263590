//! Replays every fuzz corpus (`fuzz/corpus/<target>/`) through the same invariant checks
//! the fuzzers run, so a regression on any input a fuzzer ever kept fails plain `cargo test`.

use std::path::Path;

#[test]
fn every_corpus_input_keeps_its_invariants() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut targets: Vec<String> = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .unwrap()
        .flatten()
        .filter_map(|f| Some(f.path().file_stem()?.to_str()?.to_string()))
        .collect();
    targets.sort();
    assert!(targets.len() >= 7, "{targets:?}");
    let mut replayed = 0;
    for name in &targets {
        let dir = fuzz.join("corpus").join(name);
        let files = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut count = 0;
        for file in files.flatten() {
            let data = std::fs::read(file.path()).unwrap();
            let outcome = std::panic::catch_unwind(|| ecr_login_core::fuzzing::check(name, &data));
            assert!(
                outcome.is_ok(),
                "fuzz target {name} fails on {}",
                file.path().display()
            );
            count += 1;
        }
        assert!(count > 0, "empty corpus for {name}");
        replayed += count;
    }
    println!("replayed {replayed} corpus inputs");
}
