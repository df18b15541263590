#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another, growing and
# then minimising the committed corpus under fuzz/corpus/. Needs a nightly toolchain and
# cargo-fuzz (`cargo install --locked cargo-fuzz`). Usage: bash fuzz/run.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(host server store kubelet bazel config cache_entry)
cargo +nightly fuzz build
for t in "${targets[@]}"; do
  echo "== $t: ${secs}s" >&2
  mkdir -p "corpus/$t"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 2>&1 | tail -n 15
  # Keep the corpus small: only inputs that add coverage.
  cargo +nightly fuzz cmin "$t" "corpus/$t" 2>&1 | tail -n 2
done
