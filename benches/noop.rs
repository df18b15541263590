//! A process that does nothing: the floor a cache hit is measured against (benches/bench.sh).
fn main() {}
