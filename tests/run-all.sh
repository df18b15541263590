#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need (Debian packages),
# checks formatting and lints, then runs every test, the ignored ones too: the end-to-end
# tests with real dockerd, docker, skopeo, registry and pass, and the tests that need root.
# Then the Windows build under wine, the macOS build checks, and the packages.
# Usage: bash tests/run-all.sh (as root, or with sudo)
set -euo pipefail
cd "$(dirname "$0")/.."

need=(docker.io docker-registry skopeo apache2-utils systemd man-db rpm dpkg-dev
  golang-docker-credential-helpers pass gnupg ruby file
  g++)  # libfuzzer-sys (the fuzz targets' compile check) builds libFuzzer
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings

# The front binary is built from ecr-login-core alone: no AWS crate may reach it.
if cargo tree --locked -p ecr-login-front -e normal --prefix none | grep -E '^aws-'; then
  echo "the front binary's package depends on an AWS crate" >&2
  exit 1
fi

# One build for everything below (the binaries the tests run, with the test features).
cargo test --locked --workspace --no-run

# The systemd user unit must pass systemd's own checker.
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
sed "s#/usr/bin/docker-credential-ecr-login#$PWD/target/debug/docker-credential-ecr-login#" \
  systemd/docker-credential-ecr-login.service > "$unit_dir/docker-credential-ecr-login.service"
mkdir -p "$unit_dir/run" && chmod 700 "$unit_dir/run"
# --man=no: the man page is checked where it is installed (packaging/check-deb.sh).
XDG_RUNTIME_DIR="$unit_dir/run" systemd-analyze verify --man=no --user "$unit_dir/docker-credential-ecr-login.service"

# Every test; then, explicitly, the ones a plain `cargo test` skips as #[ignore]d (the
# windows:: ones need the Windows build: tests/windows/run.sh runs them below).
cargo test --locked --workspace
# The MFA tests read a session file written by botocore itself (the AWS CLI's cache code);
# issue 28's test builds with docker-py, the release it was found with.
python3 -c 'import botocore' 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check botocore==1.44.8
python3 -c 'import docker, sys; sys.exit(docker.__version__ != "7.2.0")' 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check docker==7.2.0
# Issue 29: both binaries static for musl (zig as aws-lc's C compiler), the dev profile: a
# second build of the SDK, for this machine's architecture only (the release builds the
# others); the packages below reuse it. static_node:: serves a kubelet miss with them in a
# chroot that holds no libc.
PROFILE=dev bash packaging/static-full.sh
ECR_LOGIN_STATIC_DIR=$PWD/target/$(uname -m)-unknown-linux-musl/debug \
  cargo test --locked --test it -- --ignored --skip windows::

# Windows: cross-built with Debian's mingw-w64; the protocol tests run under wine 8.0 (not
# Windows). Then its zip and the Scoop and winget manifests, from that build.
bash tests/windows/run.sh
PROFILE=dev bash packaging/windows/build-zip.sh
# macOS: every line compiled for both architectures with zig (not run: there is no Mac).
bash tests/macos/check.sh
# The Windows and macOS packaging files parse (Scoop JSON, winget YAML, Homebrew Ruby).
bash packaging/check-manifests.sh
# The GitHub workflows, offline (zizmor, schemas, shellcheck), and the manifests' URLs
# against the release's asset names.
bash tests/ci/audit-workflows.sh
# Dependencies: licenses, sources (crates.io only), no wildcards. The RustSec advisories need
# their database from GitHub, which CI cannot reach; see the README's Security section.
bash tests/ci/deny.sh
# Core's API: its `pub` items within budget, and the fuzz targets (their own workspace, not
# built by the tests above) still compile against it.
python3 tests/ci/core-api.py
cargo check --locked --quiet --manifest-path fuzz/Cargo.toml

# The packages: build the .deb and .rpm, install the .deb, use it, remove it leaving nothing.
# The dev profile: the packages are checked for what they hold, not for speed, and the
# test build above already made everything in it.
PROFILE=dev bash packaging/check-deb.sh
