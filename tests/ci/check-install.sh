#!/usr/bin/env bash
# Issue 32: packaging/install.sh, as a new user runs it (README "Set up"), leaves stripped
# binaries of a sensible size and Docker pointed at them. It runs with a throwaway HOME and
# CARGO_INSTALL_ROOT, stdin closed (nothing may prompt), and this checkout's target/ (or
# CARGO_TARGET_DIR), so a second run rebuilds nothing. Checks, through what it installed:
#   - both binaries are stripped: no .debug_info section;
#   - the full binary (ecr-login) is under 40 MB;
#   - both run (`version`);
#   - `configure --store` took effect: Docker's config in the new HOME has credsStore
#     "ecr-login";
#   - its closing lines name the directory and the optional next step (configure --service).
# Usage: bash tests/ci/check-install.sh          (needs readelf, from binutils)
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() {
  echo "check-install: $*" >&2
  exit 1
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home"
root=$scratch/root
# The caller's cargo and toolchains stay; nothing of the caller's Docker or ecr-login setup
# leaks in.
env -u DOCKER_CONFIG -u ECR_LOGIN_CONFIG -u ECR_LOGIN_STORE_DIR -u AWS_ECR_CACHE_DIR \
  -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_CACHE_HOME -u PROFILE \
  HOME="$scratch/home" CARGO_INSTALL_ROOT="$root" \
  CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" \
  bash packaging/install.sh </dev/null 2>"$scratch/log" || {
  tail -n 40 "$scratch/log" >&2
  fail "packaging/install.sh failed"
}

for b in docker-credential-ecr-login ecr-login; do
  f=$root/bin/$b
  [ -x "$f" ] || fail "no $f"
  if readelf -S -W "$f" | grep -q '\.debug_info'; then
    fail "$b is not stripped: it has a .debug_info section"
  fi
  "$f" version >/dev/null || fail "$f version failed"
done
size=$(wc -c <"$root/bin/ecr-login")
((size < 40000000)) || fail "ecr-login is $size bytes, over 40 MB"

python3 - "$scratch/home/.docker/config.json" <<'PY' || fail "configure --store did not take effect"
import json, sys
store = json.load(open(sys.argv[1])).get("credsStore")
sys.exit(0 if store == "ecr-login" else f"credsStore is {store!r}, not 'ecr-login'")
PY

sed -n '/^install: done/,$p' "$scratch/log" >"$scratch/closing"
grep -qF "into $root/bin" "$scratch/closing" || fail "its closing lines do not say where the binaries went"
grep -qF "configure --service" "$scratch/closing" || fail "its closing lines do not name configure --service"
echo "check-install: stripped, ecr-login $((size / 1000000)) MB, credsStore set; it said:" >&2
cat "$scratch/closing" >&2
