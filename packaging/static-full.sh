#!/usr/bin/env bash
# Both binaries fully static for musl (issue 29): the kubelet runs the front binary, which
# execs the full one on a miss, so on a node without glibc (Talos, distroless) the full one
# must be static too. zig is the C compiler and linker for aws-lc (PyPI `ziglang` and
# `cargo-zigbuild`, set up by packaging/zig-env.sh), for the machine's own architecture or
# another. Prints each binary's size and the build's time.
#
# Usage: bash packaging/static-full.sh [ARCH...]    ARCH: x86_64 (default: this machine's),
#        aarch64. Knobs: PROFILE (dist; dev for the test suite). The binaries land in
#        target/ARCH-unknown-linux-musl/<profile dir>/.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-dist}
sub=$([ "$profile" = dev ] && echo debug || echo "$profile")
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=("$(uname -m)")
. packaging/zig-env.sh
for arch in "${archs[@]}"; do
  target=$arch-unknown-linux-musl
  rustup target list --installed | grep -qx "$target" || rustup target add "$target" >&2
  start=$(date +%s)
  # The full binary stays a static PIE: .cargo/config.toml links the musl front binary
  # non-PIE for its start-up cost (issue 31), which a long-running daemon and the TLS code
  # under it do not need to trade for a fixed address. RUSTFLAGS, even empty, replaces it.
  RUSTFLAGS="${RUSTFLAGS-}" cargo zigbuild --locked --profile "$profile" --target "$target" -p ecr-login --bin ecr-login
  cargo zigbuild --locked --profile "$profile" --target "$target" -p ecr-login-front
  for f in target/$target/$sub/ecr-login target/$target/$sub/docker-credential-ecr-login; do
    # No program interpreter: nothing for the kernel to load but the file itself.
    if readelf -l "$f" 2>/dev/null | grep -q 'Requesting program interpreter'; then
      echo "static-full: $f is dynamically linked" >&2
      exit 1
    fi
    echo "static-full: $f: $(stat -c %s "$f") bytes, built in $(($(date +%s) - start)) s" >&2
  done
done
