#!/usr/bin/env bash
# The whole test suite, as CI runs it, in named parts. Each part installs what it needs
# (Debian packages, Rust targets and components, tools from PyPI or crates.io), so any one
# of them runs on its own, as each CI job runs one or two:
#   lint      formatting, clippy, the front binary's dependencies, cargo deny, core's API
#             budget, the fuzz targets' compile check;
#   tests     every test, the ignored ones too: the end-to-end tests with real dockerd,
#             docker, skopeo, registry and pass, and the tests that need root; the systemd
#             unit through systemd's checker;
#   windows   the Windows build, its tests under wine, its zip, and the Windows and macOS
#             packaging manifests;
#   macos     the macOS build checks (zig; nothing runs: there is no Mac);
#   packages  the .deb and .rpm, built, installed, used and removed;
#   install   packaging/install.sh into a throwaway home (tests/ci/check-install.sh);
#   audit     the GitHub workflows, offline (zizmor, schemas, shellcheck).
# It ends with how long each part took, wall and CPU (user+sys), so a slow part shows.
# Usage: bash tests/run-all.sh                          every part (as root, or with sudo)
#        bash tests/run-all.sh --part windows           one part; --part lint,tests: several
set -euo pipefail
cd "$(dirname "$0")/.."

all=(lint tests windows macos packages install audit)
parts=()
while (($#)); do
  case "$1" in
    --part) IFS=, read -ra more <<<"${2:?--part needs a name: ${all[*]}}"; parts+=("${more[@]}"); shift 2 ;;
    --part=*) IFS=, read -ra more <<<"${1#--part=}"; parts+=("${more[@]}"); shift ;;
    *) echo "run-all: unknown argument $1; usage: bash tests/run-all.sh [--part NAME[,NAME]] (${all[*]})" >&2; exit 2 ;;
  esac
done
((${#parts[@]})) || parts=("${all[@]}")
for p in "${parts[@]}"; do
  [[ " ${all[*]} " == *" $p "* ]] || { echo "run-all: no part $p; the parts: ${all[*]}" >&2; exit 2; }
done

# need PKG...: installs the Debian packages that are missing (apt-get update once per run).
apt_updated=""
need() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "installing: ${missing[*]}" >&2
  [ "$(id -u)" = 0 ] || sudo="sudo"
  [ -n "$apt_updated" ] || $sudo apt-get update -qq
  apt_updated=1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

part_lint() {
  need g++ # libfuzzer-sys (the fuzz targets' compile check) builds libFuzzer
  rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

  cargo fmt --all -- --check
  cargo clippy --locked --workspace --all-targets -- -D warnings

  # The front binary is built from ecr-login-core alone: no AWS crate may reach it.
  if cargo tree --locked -p ecr-login-front -e normal --prefix none | grep -E '^aws-'; then
  echo "the front binary's package depends on an AWS crate" >&2
  exit 1
  fi

  # Dependencies: licenses, sources (crates.io only), no wildcards. The RustSec advisories need
  # their database from GitHub, which CI cannot reach; see the README's Security section.
  bash tests/ci/deny.sh
  # Core's API: its `pub` items within budget, and the fuzz targets (their own workspace, not
  # built by the tests) still compile against it.
  python3 tests/ci/core-api.py
  cargo check --locked --quiet --manifest-path fuzz/Cargo.toml
}

part_tests() {
  need docker.io docker-registry skopeo apache2-utils systemd golang-docker-credential-helpers \
    pass gnupg

  # One build for everything below (the binaries the tests run, with the test features).
  cargo test --locked --workspace --no-run

  # The systemd user unit must pass systemd's own checker.
  unit_dir=$(mktemp -d)
  sed "s#/usr/bin/docker-credential-ecr-login#$PWD/target/debug/docker-credential-ecr-login#" \
  systemd/docker-credential-ecr-login.service > "$unit_dir/docker-credential-ecr-login.service"
  mkdir -p "$unit_dir/run" && chmod 700 "$unit_dir/run"
  # --man=no: the man page is checked where it is installed (packaging/check-deb.sh).
  XDG_RUNTIME_DIR="$unit_dir/run" systemd-analyze verify --man=no --user "$unit_dir/docker-credential-ecr-login.service"

  # Every test; then, explicitly, the ones a plain `cargo test` skips as #[ignore]d (the
  # windows:: ones need the Windows build: tests/windows/run.sh runs them, part windows; the
  # static_node:: one needs the static pair: part packages builds it and runs it).
  cargo test --locked --workspace
  # The MFA tests read a session file written by botocore itself (the AWS CLI's cache code);
  # issue 28's test builds with docker-py, the release it was found with.
  python3 -c 'import botocore' 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check botocore==1.44.8
  python3 -c 'import docker, sys; sys.exit(docker.__version__ != "7.2.0")' 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check docker==7.2.0
  cargo test --locked --test it -- --ignored --skip windows:: --skip static_node::
}

part_windows() {
  need ruby python3-yaml # the manifests' checks: Ruby for the formula, YAML for winget
  rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy
  # Windows: cross-built with Debian's mingw-w64; the protocol tests run under wine 8.0 (not
  # Windows). Then its zip and the Scoop and winget manifests, from that build.
  bash tests/windows/run.sh
  PROFILE=dev bash packaging/windows/build-zip.sh
  # The Windows and macOS packaging files parse (Scoop JSON, winget YAML, Homebrew Ruby).
  bash packaging/check-manifests.sh
}

part_macos() {
  need file python3-venv
  # macOS: every line compiled for both architectures with zig (not run: there is no Mac).
  bash tests/macos/check.sh
}

part_packages() {
  # The packages: build the .deb and .rpm, install the .deb, use it, remove it leaving nothing.
  # The dev profile: the packages are checked for what they hold, not for speed, and the
  # test build (part tests) already made everything in it.
  PROFILE=dev bash packaging/check-deb.sh
  # Issue 29: the packages ship both binaries static for musl (packaging/static-full.sh, zig
  # as aws-lc's C compiler; check-deb built them above, dev profile). static_node:: serves a
  # kubelet miss with them in a chroot that holds no libc.
  ECR_LOGIN_STATIC_DIR=$PWD/target/$(uname -m)-unknown-linux-musl/debug \
    cargo test --locked --test it static_node:: -- --ignored
}

part_install() {
  need binutils # readelf
  # packaging/install.sh as a user runs it (issue 32): stripped binaries, configure --store.
  bash tests/ci/check-install.sh
}

part_audit() {
  need python3-venv
  # The GitHub workflows, offline (zizmor, schemas, shellcheck), and the manifests' URLs
  # against the release's asset names.
  bash tests/ci/audit-workflows.sh
}

# Each part's wall time, and its CPU time (user+sys of every process it ran and waited for:
# the kernel's cutime + cstime of this shell), which a machine shared with other work does
# not inflate.
tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{ sub(/^.*\) /, ""); printf "%d", ($14 + $15) / t }' "/proc/$$/stat"; }
report=()
current=""
unit_dir=""
summary() {
  local rc=$? line
  [ -z "$unit_dir" ] || rm -rf "$unit_dir"
  [ -z "$current" ] || report+=("$(printf '%-9s %5d s wall %6d s CPU  (failed)' "$current" $((SECONDS - t0)) $(($(cpu) - c0)))")
  echo "run-all: how long each part took:" >&2
  for line in "${report[@]}"; do echo "  $line" >&2; done
  return "$rc"
}
trap summary EXIT
for p in "${parts[@]}"; do
  echo "run-all: part $p" >&2
  current=$p t0=$SECONDS c0=$(cpu)
  "part_$p"
  report+=("$(printf '%-9s %5d s wall %6d s CPU' "$p" $((SECONDS - t0)) $(($(cpu) - c0)))")
  current=""
done
