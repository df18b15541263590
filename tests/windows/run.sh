#!/usr/bin/env bash
# The Windows build, run: cross-builds both binaries for x86_64-pc-windows-gnu with
# Debian's mingw-w64, prepares a wine prefix, and runs the protocol tests
# (tests/it/windows.rs) through wine against the fake ECR endpoint on 127.0.0.1.
# Windows itself is not run here: wine 8.0 is. Needs root or sudo for apt.
# Usage: bash tests/windows/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
target=x86_64-pc-windows-gnu

need=(gcc-mingw-w64-x86-64 wine wine64)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rustup target list --installed | grep -qx "$target" || rustup target add "$target"

start=$(date +%s)
# The dev profile: the tests need the behaviour, not the speed, and it builds faster.
cargo build --locked --target "$target" -p ecr-login -p ecr-login-front --bins
bin=$PWD/target/$target/debug
# Everything, tests included, compiles and is lint-clean for Windows, as the GitHub
# Windows runner will build it.
cargo clippy --locked --target "$target" --workspace --all-targets -- -D warnings
echo "windows build: $(($(date +%s) - start)) s" >&2

prefix=$(mktemp -d /tmp/wine.XXXXXX)
export WINEPREFIX=$prefix WINEDEBUG=-all
trap 'wineserver -k 2>/dev/null || true; rm -rf "$prefix"' EXIT
start=$(date +%s)
wineboot --init >/dev/null 2>&1
x86_64-w64-mingw32-gcc -O2 -shared -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
  tests/windows/bcryptprimitives.c tests/windows/bcryptprimitives.def -lbcrypt
echo "wine prefix: $(($(date +%s) - start)) s" >&2

# The tests run each .exe through support::windows::Runner: here, through wine.
ECR_LOGIN_WINDOWS_BIN=$bin ECR_LOGIN_WINDOWS_RUNNER=wine \
  cargo test --locked --test it windows:: -- --ignored --test-threads 2
