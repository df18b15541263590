#!/usr/bin/env bash
# The macOS build, compiled: both architectures, with zig as the cross C compiler (PyPI
# `ziglang`, `cargo-zigbuild`), so every macOS-only line compiles in CI. The front binary
# (no AWS code, only libSystem) links; the full one is compiled and checked but not linked,
# since its TLS stack links Apple's Security and CoreFoundation frameworks, which only the
# macOS SDK has. Nothing is run: there is no Mac here.
# Usage: bash tests/macos/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=(aarch64-apple-darwin x86_64-apple-darwin)

. packaging/zig-env.sh
for t in "${targets[@]}"; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
# Without it zig stamps the SDK's newest macOS as the minimum, and older Macs refuse to run.
export MACOSX_DEPLOYMENT_TARGET=11.0

for t in "${targets[@]}"; do
  start=$(date +%s)
  cargo zigbuild --locked --target "$t" -p ecr-login-front
  front=target/$t/debug/docker-credential-ecr-login
  file "$front" | grep -q "Mach-O 64-bit" || { echo "macos: $front is not a Mach-O binary" >&2; exit 1; }
  cargo-zigbuild check --locked --target "$t" --workspace --all-targets
  echo "macos $t: front linked, everything checked in $(($(date +%s) - start)) s" >&2
done
