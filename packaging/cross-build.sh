#!/usr/bin/env bash
# The release targets a Linux machine can build, built once by hand (not in CI: the full
# binary for another architecture is minutes of compiling): aarch64 Linux (both binaries
# static for musl, as packaging/static-full.sh builds them), and the front binary for Windows
# on ARM (aarch64-pc-windows-gnullvm), with zig as the cross linker (PyPI `ziglang`,
# `cargo-zigbuild`, as tests/macos/check.sh sets them up). Prints each file's stripped size.
# The macOS full binary needs Apple's SDK (aws-lc and the Security framework) and is only
# type-checked here (tests/macos/check.sh); the Windows x86_64 build is tests/windows/run.sh.
# Usage: bash packaging/cross-build.sh        Knobs: PROFILE (release)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
. packaging/zig-env.sh
builds=(
  "aarch64-unknown-linux-musl -p ecr-login-front"
  "aarch64-unknown-linux-musl -p ecr-login --bin ecr-login"
  "aarch64-pc-windows-gnullvm -p ecr-login-front"
)
for b in "${builds[@]}"; do
  read -r target rest <<<"$b"
  t=${target%.2.17}
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  start=$(date +%s)
  # shellcheck disable=SC2086
  cargo zigbuild --locked --profile "$profile" --target "$target" $rest
  dir=target/$t/$([ "$profile" = dev ] && echo debug || echo "$profile")
  for f in "$dir"/docker-credential-ecr-login "$dir"/ecr-login "$dir"/docker-credential-ecr-login.exe; do
    [ -f "$f" ] || continue
    size=$(stat -c %s "$f")
    if command -v llvm-strip >/dev/null; then
      llvm-strip -o "$f.stripped" "$f" && size="$(stat -c %s "$f.stripped") stripped" && rm -f "$f.stripped"
    fi
    echo "cross: $t $(basename "$f"): $size bytes, $(($(date +%s) - start)) s" >&2
  done
done
