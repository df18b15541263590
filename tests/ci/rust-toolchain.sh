#!/usr/bin/env bash
# CI: makes the pinned Rust toolchain ($RUST_TOOLCHAIN, set by the workflows) the default,
# with rustfmt, clippy and the given extra targets. GitHub's runner images have rustup; a
# bare container (the Linux job's Debian) gets it first, from rustup's own installer.
# Usage: RUST_TOOLCHAIN=1.95.0 bash tests/ci/rust-toolchain.sh [TARGET...]
set -euo pipefail
toolchain=${RUST_TOOLCHAIN:?set RUST_TOOLCHAIN}
if ! command -v rustup >/dev/null; then
  cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
  if [ ! -x "$cargo_bin/rustup" ]; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
      sh -s -- -y --no-modify-path --profile minimal --default-toolchain none
  fi
  export PATH=$cargo_bin:$PATH
  # Later steps find cargo too.
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$cargo_bin" >>"$GITHUB_PATH"; fi
fi
args=()
for t in "$@"; do args+=(--target "$t"); done
rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy ${args[@]+"${args[@]}"}
rustup default "$toolchain"
rustc --version --verbose
