#!/usr/bin/env bash
# Installs ecr-login from this checkout for the current user and points Docker at it:
# both binaries into ~/.cargo/bin (cargo install), then `configure --store`, which makes
# ecr-login Docker's credsStore: every ECR registry works with no per-registry entry, and
# the credsStore it replaces (if any) keeps every other registry's logins.
# Usage: bash packaging/install.sh        (Linux and macOS; Windows: see the README)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo install --locked --path crates/front
cargo install --locked --path .
bin=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin
"$bin/docker-credential-ecr-login" configure --store
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "install: add $bin to PATH so Docker finds docker-credential-ecr-login" >&2 ;;
esac
