#!/usr/bin/env bash
# Installs ecr-login from this checkout for the current user and points Docker at it:
# both binaries into ~/.cargo/bin (cargo install), then `configure --store`, which makes
# ecr-login Docker's credsStore: every ECR registry works with no per-registry entry, and
# the credsStore it replaces (if any) keeps every other registry's logins.
# Usage: bash packaging/install.sh        (Linux and macOS; Windows: see the README)
set -euo pipefail
cd "$(dirname "$0")/.."
# The front binary answers every cache hit: on Linux with glibc it is linked static
# (crt-static), as the .deb and .rpm ship it for musl. It does no name lookups, so glibc's
# static-linking caveats do not apply, and the dynamic loader's relocations (most of a hit's
# cost) go away. --target keeps the flag off build scripts. Elsewhere (macOS has no static
# libc) it is built as usual.
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
  *-linux-gnu)
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
      cargo install --locked --path crates/front --target "$host"
    ;;
  *) cargo install --locked --path crates/front ;;
esac
cargo install --locked --path .
bin=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin
"$bin/docker-credential-ecr-login" configure --store
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "install: add $bin to PATH so Docker finds docker-credential-ecr-login" >&2 ;;
esac
